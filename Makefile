# crmgate — the README's commands and CI's.
GO      ?= go
PKGS    ?= ./...
BENCH   ?= .

.PHONY: run test test-race lint build generate generate-check bench

## run: the gateway on its embedded default (sandbox providers, in-process store, dev token printed)
run:
	$(GO) run .

## test: every test (Redis tests need REDIS_URL; .ci/run provides one)
test:
	$(GO) test -race -shuffle=on -count=1 $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/crmgate .

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKGS)
