# servin: build, test, benchmark and install.
#
#   make deps     install missing Debian packages (no-op when all present)
#   make build    bin/servin, bin/servin-monitor, bin/servin-runtime, bin/servin-registry and the CNI plugins in bin/cni
#   make test     unit/integration tests, then end-to-end tests of the binaries
#   make demo     import a busybox image and run a container in it
#   make bench    compare servin with podman and bare runc
#   make install  PREFIX=/usr/local DESTDIR=
#   make lint     gofmt and go vet
#
# The Go build cache stays warm between runs: nothing here forces a rebuild.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := /usr/local/go/bin:$(PATH)

GO ?= go
# urfave_cli_no_docs leaves out the CLI library's man/markdown generators
# (and their markdown parser's start-up cost in every invocation).
TAGS := seccomp containers_image_openpgp exclude_graphdriver_btrfs urfave_cli_no_docs
GOBUILD := $(GO) build -trimpath -tags "$(TAGS)"

PREFIX ?= /usr/local

# The CLI is linked statically: no dynamic loader at each of its (many,
# short) runs. Users and groups and host names are then resolved by Go's
# own code (osusergo, netgo), as in other static container tools.
# STATIC_LDFLAGS= builds it dynamically.
STATIC_TAGS ?= netgo osusergo
STATIC_LDFLAGS ?= -extldflags -static

# `servin version` shows the commit it was built from (with -dirty for
# uncommitted changes) and, when SOURCE_DATE_EPOCH is set, that build time;
# otherwise the binary's modification time. VERSION overrides the version.
FASTPATH := github.com/servin/servin/cmd/servin/internal/fastpath
GIT_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)$(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
VERSION_LDFLAGS := -X $(FASTPATH).GitCommit=$(GIT_COMMIT) \
	$(if $(SOURCE_DATE_EPOCH),-X $(FASTPATH).BuildTime=$(SOURCE_DATE_EPOCH)) \
	$(if $(VERSION),-X $(FASTPATH).Version=$(VERSION))

# The CNI plugins servin runs, built from the pinned module into bin/cni in
# one go build (they share the build cache), installed to libexec/servin/cni.
CNI_VERSION := v1.10.0
CNI_PKG := github.com/containernetworking/plugins
CNI_PLUGINS := main/bridge ipam/host-local meta/portmap meta/firewall meta/tuning main/loopback main/macvlan main/ipvlan
CNI_NAMES := $(notdir $(CNI_PLUGINS))
DESTDIR ?=

# Unit tests of different packages run 2 at a time (2 cores). End-to-end
# tests run in one test binary whose tests overlap 4 at a time: they spend
# most of their time waiting on container start-up, not on the CPU. They are
# never cached (-count=1): go test cannot see that the binaries under test
# changed.
UNIT_TIMEOUT ?= 20m
E2E_TIMEOUT ?= 25m
E2E_PARALLEL ?= 4
# Extra `go test` flags, e.g. TESTFLAGS='-run TestPs -count=1'.
TESTFLAGS ?=

# `make e2e SERVIN_BINARY=podman` checks the tests' expectations against podman.
SERVIN_BINARY ?= $(CURDIR)/bin/servin
SERVIN_MONITOR ?= $(CURDIR)/bin/servin-monitor

.PHONY: all deps build test unit e2e demo bench install lint clean

all: build

deps:
	test/deps.sh

build:
	CGO_ENABLED=1 $(GO) build -trimpath -tags "$(TAGS) $(STATIC_TAGS)" -ldflags "$(VERSION_LDFLAGS) $(STATIC_LDFLAGS)" -o bin/servin ./cmd/servin
	CGO_ENABLED=0 $(GOBUILD) -ldflags "-s -w" -o bin/servin-monitor ./cmd/servin-monitor
	CGO_ENABLED=1 $(GOBUILD) -o bin/servin-runtime ./cmd/servin-runtime
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X $(CNI_PKG)/pkg/utils/buildversion.BuildVersion=$(CNI_VERSION)" \
		-o bin/cni/ $(addprefix $(CNI_PKG)/plugins/,$(CNI_PLUGINS))
	CGO_ENABLED=0 $(GOBUILD) -ldflags "-s -w" -o bin/servin-registry ./cmd/servin-registry

bin/testsummary: test/testsummary/main.go
	$(GO) build -o $@ ./test/testsummary

# Both suites run even if the first fails; make test fails if either did.
test: deps build bin/testsummary
	rc=0; $(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory e2e || rc=1; \
	exit $$rc

unit: bin/testsummary
	@echo "== unit and integration tests"
	$(GO) test -json -tags "$(TAGS)" -p 2 -timeout $(UNIT_TIMEOUT) $(TESTFLAGS) \
		$$($(GO) list -tags "$(TAGS)" ./... | grep -v '/test/e2e$$') | bin/testsummary unit

e2e: bin/testsummary
	@echo "== end-to-end tests of $(SERVIN_BINARY)"
	SERVIN_BINARY=$(SERVIN_BINARY) SERVIN_MONITOR=$(SERVIN_MONITOR) \
		$(GO) test -json -tags "$(TAGS)" -count=1 -p 1 -parallel $(E2E_PARALLEL) -timeout $(E2E_TIMEOUT) $(TESTFLAGS) \
		./test/e2e/... | bin/testsummary e2e

demo: deps build
	export SERVIN_MONITOR=$(SERVIN_MONITOR); \
	if ! bin/servin image exists busybox; then \
		tar=$$(mktemp /tmp/busybox-XXXXXX.tar); \
		$(GO) run -tags "$(TAGS)" ./test/mkrootfs $$tar; \
		bin/servin import $$tar busybox; \
		rm -f $$tar; \
	fi; \
	bin/servin run --rm busybox echo hello from servin

bench: deps build
	test/bench/bench.sh

install: build
	install -D -m 0755 bin/servin $(DESTDIR)$(PREFIX)/bin/servin
	install -D -m 0755 bin/servin-monitor $(DESTDIR)$(PREFIX)/libexec/servin/servin-monitor
	install -D -m 0755 bin/servin-runtime $(DESTDIR)$(PREFIX)/libexec/servin/servin-runtime
	for p in $(CNI_NAMES); do install -D -m 0755 bin/cni/$$p $(DESTDIR)$(PREFIX)/libexec/servin/cni/$$p; done
	install -D -m 0755 bin/servin-registry $(DESTDIR)$(PREFIX)/libexec/servin/servin-registry

lint:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './bin/*')); \
	if [[ -n $$unformatted ]]; then echo "gofmt -w needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet -tags "$(TAGS)" ./...

clean:
	rm -rf bin
