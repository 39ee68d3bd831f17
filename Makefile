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

## generate: docs/swagger.json (Swagger 2) with swag, from the annotations in api/openapi_annotations.go and the
## comments and tags of the types they name (.swaggo: swag's type overrides); openapi.yaml (OpenAPI 3, the one
## committed document, embedded by the root package) from it; and the client contract/client generates from that
generate:
	$(GO) tool swag init --quiet --exclude .ci -g api/openapi_annotations.go -d ./ -o docs --parseDependency --parseInternal --outputTypes json --overridesFile .swaggo
	$(GO) run ./tools/openapigen -in docs/swagger.json -out openapi.yaml
	$(GO) tool oapi-codegen -config contract/client/oapi-codegen.yaml openapi.yaml

GENERATED = docs/swagger.json openapi.yaml contract/client

## generate-check: regenerate and fail when anything generated differs from what is committed
generate-check: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "generated files are stale; run make generate and commit:"; git status --porcelain -- $(GENERATED); \
		git diff --stat -- $(GENERATED); exit 1; fi

## bench: the speed promises of gateway.md §6 (package bench), each printing a "verdict:" line. The
## benchmark process (the gateway) runs on CPU 0 and its peer (simulators and load) on CPU 1 when
## taskset is there; BENCH selects benchmarks by name (default all six). BenchmarkImportJob is the job
## figure (100 000 rows; CRMGATE_BENCH_BIG=1 adds the 1 048 576-row run); it skips when the build has no
## POST /v1/imports.
BENCH_BIN  = bin/bench.test
BENCH_PIN  = $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)
BENCH_RUN  = CRMGATE_BENCH_PEER_CPUS=1 $(BENCH_PIN) ./$(BENCH_BIN) -test.run '^$$' -test.benchmem
bench:
	$(GO) test -c -o $(BENCH_BIN) ./bench/
	@if [ "$(BENCH)" = "." ]; then \
		$(BENCH_RUN) -test.bench '^BenchmarkPipeline$$' -test.benchtime 5x && \
		$(BENCH_RUN) -test.bench '^BenchmarkLatency$$' -test.benchtime 10x && \
		$(BENCH_RUN) -test.bench '^BenchmarkThroughput$$' -test.benchtime 5x && \
		$(BENCH_RUN) -test.bench '^BenchmarkImport10k$$' -test.benchtime 3x && \
		$(BENCH_RUN) -test.bench '^BenchmarkImportJob$$' -test.benchtime 1x && \
		$(BENCH_RUN) -test.bench '^BenchmarkCPU$$' -test.benchtime 3x; \
	else $(BENCH_RUN) -test.bench '$(BENCH)' -test.benchtime 3x; fi
