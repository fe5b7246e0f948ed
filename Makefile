# nb's build, test and release tasks. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := bin/nb
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG := github.com/nbctl/nb/pkg/buildinfo
LDFLAGS := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)

.PHONY: help build test test-unit lint demo envtest-assets clean docs completions generate release-check snapshot

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/nb
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/nb

envtest-assets: ## build kube-apiserver and etcd for the integration tests (cached)
	@./hack/envtest-assets.sh

test: ## run the whole test suite, installing what it needs
	./hack/awscli.sh
	KUBEBUILDER_ASSETS="$$(./hack/envtest-assets.sh)" NB_VERSITYGW="$$(./hack/versitygw.sh)" $(GO) test -race -count=1 ./...

test-unit: ## run the fast tests only (no API server, no S3 server)
	$(GO) test -short ./...

lint: ## gofmt, go vet, and go.mod/go.sum tidy
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

docs: ## regenerate docs/reference (markdown) and docs/man (man pages) from the commands
	$(GO) run ./hack/gen docs

completions: ## regenerate the shell completion scripts in completions/
	$(GO) run ./hack/gen completions

generate: docs completions ## regenerate everything generated and committed

release-check: ## validate .goreleaser.yaml with the pinned goreleaser
	"$$(./hack/goreleaser.sh)" check

snapshot: ## build every release archive into dist/ without publishing
	"$$(./hack/goreleaser.sh)" release --snapshot --clean

demo: build ## build nb and run the walk-through
	./hack/demo.sh $(BIN)

clean: ## remove build output
	rm -rf bin dist
