package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
)

func TestTransient(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v2/", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cases := []struct {
		desc string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"connection refused, wrapped by pullError", pullError("x", fmt.Errorf("pinging: %w", refused)), true},
		{"connection reset", fmt.Errorf("reading blob: %w", syscall.ECONNRESET), true},
		{"closed before answering", &url.Error{Op: "Get", URL: "http://x/v2/", Err: io.EOF}, true},
		{"truncated body", fmt.Errorf("copying: %w", io.ErrUnexpectedEOF), true},
		{"503", fmt.Errorf("reading manifest: %w", docker.UnexpectedHTTPStatusError{StatusCode: 503}), true},
		{"429", docker.ErrTooManyRequests, true},
		{"429 as registry error", errcode.ErrorCodeTooManyRequests.WithMessage("slow down"), true},
		{"404 status", docker.UnexpectedHTTPStatusError{StatusCode: 404}, false},
		{"manifest unknown", fmt.Errorf("reading manifest: %w", v2.ErrorCodeManifestUnknown.WithMessage("manifest unknown")), false},
		{"unauthorized", errcode.ErrorCodeUnauthorized.WithMessage("authentication required"), false},
		{"denied", errcode.ErrorCodeDenied.WithMessage("requested access to the resource is denied"), false},
		{"bad credentials", docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}, false},
		{"no such host", &url.Error{Op: "Get", URL: "https://nowhere/v2/", Err: &net.DNSError{Err: "no such host", Name: "nowhere", IsNotFound: true}}, false},
		{"answer timeout", newCauseError("did not answer", context.DeadlineExceeded), false},
		{"canceled", fmt.Errorf("pulling: %w", context.Canceled), false},
		{"other", errors.New("invalid manifest"), false},
	}
	for _, c := range cases {
		if got := transient(c.err); got != c.want {
			t.Errorf("%s: transient(%v) = %v, want %v", c.desc, c.err, got, c.want)
		}
	}
}

func TestWithRetry(t *testing.T) {
	ctx := context.Background()
	flaky := func(failures int, err error) (func() (int, error), *int) {
		calls := 0
		return func() (int, error) {
			calls++
			if calls <= failures {
				return 0, err
			}
			return calls, nil
		}, &calls
	}
	o := RetryOptions{Retries: 3, RetryDelay: time.Millisecond}
	op, calls := flaky(2, syscall.ECONNREFUSED)
	if v, err := withRetry(ctx, o, op); err != nil || v != 3 || *calls != 3 {
		t.Errorf("two transient failures, 3 retries: got %d, %v after %d calls", v, err, *calls)
	}
	op, calls = flaky(5, syscall.ECONNREFUSED)
	if _, err := withRetry(ctx, o, op); !errors.Is(err, syscall.ECONNREFUSED) || *calls != 4 {
		t.Errorf("persistent transient failure: %v after %d calls, want 4", err, *calls)
	}
	op, calls = flaky(5, errcode.ErrorCodeUnauthorized)
	if _, err := withRetry(ctx, o, op); err == nil || *calls != 1 {
		t.Errorf("final failure: %v after %d calls, want 1", err, *calls)
	}
	op, calls = flaky(1, syscall.ECONNREFUSED)
	if _, err := withRetry(ctx, RetryOptions{}, op); err == nil || *calls != 1 {
		t.Errorf("no retries: %v after %d calls, want 1", err, *calls)
	}
	if d := (RetryOptions{}).delay(0); d != time.Second {
		t.Errorf("first default delay %v, want 1s", d)
	}
	if d := (RetryOptions{}).delay(2); d != 4*time.Second {
		t.Errorf("third default delay %v, want 4s", d)
	}
}

func TestParsePullPolicy(t *testing.T) {
	for in, want := range map[string]PullPolicy{
		"": PullMissing, "always": PullAlways, "Always": PullAlways, "missing": PullMissing, "IfMissing": PullMissing,
		"never": PullNever, "newer": PullNewer, "ifnewer": PullNewer, "true": PullAlways, "false": PullMissing,
	} {
		if got, err := ParsePullPolicy(in, PullMissing); err != nil || got != want {
			t.Errorf("ParsePullPolicy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePullPolicy("sometimes", PullMissing); err == nil {
		t.Error("ParsePullPolicy accepted sometimes")
	}
	if !LooksLikeID("sha256:"+fmt.Sprintf("%064x", 1)) || !LooksLikeID(fmt.Sprintf("%064x", 1)) || LooksLikeID("busybox") {
		t.Error("LooksLikeID is wrong")
	}
}
