# Giveback: `make run` starts the whole pipeline with demo data; `make test` runs every test.
# Both fetch what they need first (Go modules, libchdb.so and the npm fixtures via scripts/setup.sh).
# `make lint` runs go vet, staticcheck and a formatting check over every module.

SHELL := /bin/bash
GIVEBACK_CACHE ?= $(HOME)/.cache/giveback
CHDB_LIB_PATH ?= $(GIVEBACK_CACHE)/npm/chdb/lib-linux-x64-gnu@26.5.3/libchdb.so
export GIVEBACK_CACHE CHDB_LIB_PATH
MODULES := $(shell go list -m -f '{{.Dir}}/...' 2>/dev/null)
MODULE_DIRS := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
STATICCHECK ?= $(GIVEBACK_CACHE)/go/bin/staticcheck
TAGS := chdb
ADDR ?= 127.0.0.1:8080

.PHONY: all setup build run test vet lint fuzz bench clean

all: build

setup:
	@scripts/setup.sh all

build:
	go build -tags $(TAGS) -o bin/giveback giveback.dev/cmd/giveback

# Running needs only libchdb.so; the fixtures and tools setup also fetches are for the tests.
run: build
	@scripts/setup.sh chdb
	@echo "Giveback: open http://$(ADDR)/ (Ctrl-C stops)"
	bin/giveback up --demo --addr $(ADDR)

vet:
	go vet -tags $(TAGS) $(MODULES)

# staticcheck is pinned in scripts/setup.sh, which installs it into the cache directory.
lint: vet
	@scripts/setup.sh tools
	$(STATICCHECK) -tags $(TAGS) $(MODULES)
	@out=$$(gofmt -l $(MODULE_DIRS)); if [ -n "$$out" ]; then echo "gofmt: these files are not formatted (gofmt -w FILE fixes them):"; echo "$$out"; exit 1; fi

test: setup lint
	@# Tests keep their chDB sessions under TMPDIR: a directory of their own, removed afterwards.
	tmp=$$(mktemp -d) && TMPDIR=$$tmp go test -tags $(TAGS) -count=1 -timeout 20m $(MODULES); rc=$$?; rm -rf $$tmp; exit $$rc
	$(MAKE) fuzz FUZZTIME=5s
	scripts/check-deploy.sh

FUZZTIME ?= 30s
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

bench: setup build
	bin/giveback bench

clean:
	rm -rf bin
