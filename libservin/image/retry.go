package image

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/docker/distribution/registry/api/errcode"
	"github.com/sirupsen/logrus"
	"go.podman.io/image/v5/docker"
)

// RetryOptions say how often a registry operation is tried again after a
// transient failure (see transient), and how long to wait in between.
type RetryOptions struct {
	// Retries is how many times to try again; 0 tries once.
	Retries uint
	// RetryDelay is the wait between attempts; 0 waits 1s, 2s, 4s...
	RetryDelay time.Duration
}

// delay is the wait before retry number attempt (0 for the first).
func (o RetryOptions) delay(attempt uint) time.Duration {
	if o.RetryDelay > 0 {
		return o.RetryDelay
	}
	return time.Second << min(attempt, 6)
}

// withRetry runs op, and runs it again after each transient failure,
// up to o.Retries more times. Each retry is announced as a warning in
// podman's words.
func withRetry[T any](ctx context.Context, o RetryOptions, op func() (T, error)) (T, error) {
	for attempt := uint(0); ; attempt++ {
		v, err := op()
		if err == nil || attempt >= o.Retries || !transient(err) || ctx.Err() != nil {
			return v, err
		}
		d := o.delay(attempt)
		logrus.Warnf("Failed, retrying in %s ... (%d/%d). Error: %v", d, attempt+1, o.Retries, err)
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(d):
		}
	}
}

// transient tells whether err may go away by itself: the registry was
// unreachable, dropped the connection, timed out a read, or answered
// "overloaded" (429, 5xx). Authentication failures, unknown images,
// refused content, TLS problems, names that do not resolve and servin's
// own answer timeout (see openRemote) are final: retrying cannot help or
// would only multiply a long wait.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var unauth docker.ErrUnauthorizedForCredentials
	if errors.As(err, &unauth) {
		return false
	}
	var status docker.UnexpectedHTTPStatusError
	if errors.As(err, &status) {
		return retryableStatus(status.StatusCode)
	}
	var ec errcode.Error // a 4xx answer: only "slow down" is worth a retry
	if errors.As(err, &ec) {
		return ec.Code == errcode.ErrorCodeTooManyRequests || ec.Code == errcode.ErrorCodeUnavailable
	}
	if errors.Is(err, docker.ErrTooManyRequests) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	// The server closed the connection before answering.
	var urlErr *url.Error
	if errors.As(err, &urlErr) && errors.Is(urlErr.Err, io.EOF) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// retryableStatus: too many requests, and server-side failures.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}
