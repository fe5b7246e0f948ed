# nb's build, test and release tasks. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := bin/nb
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w

.PHONY: help build test test-unit lint demo envtest-assets clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/nb
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nb

envtest-assets: ## build kube-apiserver and etcd for the integration tests (cached)
	@./hack/envtest-assets.sh

test: ## run the whole test suite, installing what it needs
	KUBEBUILDER_ASSETS="$$(./hack/envtest-assets.sh)" NB_VERSITYGW="$$(./hack/versitygw.sh)" $(GO) test -race -count=1 ./...

test-unit: ## run the fast tests only (no API server, no S3 server)
	$(GO) test -short ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: build ## build nb and run the walk-through
	./hack/demo.sh $(BIN)

clean: ## remove build output
	rm -rf bin dist
