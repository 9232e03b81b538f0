# pathways — `make run` starts everything locally, `make test` runs the suite.
# Nothing needs to be preinstalled beyond Go and PostgreSQL's server binaries:
# linters run through `go run`, the Temporal dev server is built into .tools.

GO               ?= go
BIN              := bin/pathways
# Extra flags for `make run`, e.g. make run ARGS="--dev-data-dir /tmp/dev".
ARGS             ?=

# Pinned tools.
TEMPORAL_VERSION    ?= v1.5.1
TEMPORAL_CLI        := .tools/temporal-$(TEMPORAL_VERSION)/temporal
# The real server `pathways cluster` runs (the one the CLI embeds), and its SQL tool.
TEMPORAL_SERVER_VERSION ?= v1.29.1
TEMPORAL_SERVER     := .tools/temporal-server-$(TEMPORAL_SERVER_VERSION)/server
STATICCHECK_VERSION ?= v0.8.2
WORKFLOWCHECK_VERSION ?= v0.6.0
STATICCHECK         := honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
WORKFLOWCHECK       := go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

# axe-core checks every console page in the browser tests; a test-only npm
# package installed into .tools at test time, never committed.
AXE_VERSION      ?= 4.14.1
AXE_JS           := .tools/axe-core-$(AXE_VERSION)/node_modules/axe-core/axe.min.js

TEST_TIMEOUT     ?= 20m
TEST_FLAGS       ?= -count=1 -timeout $(TEST_TIMEOUT)
PKGS             ?= ./...

# The private cluster `make run` starts (dev.postgres_port); DATABASE_URL wins.
DEV_DATABASE_URL := postgres://pathways@127.0.0.1:5433/pathways?sslmode=disable

.PHONY: axe screenshots fault-test run run-cluster test-cluster build test lint fmt vet staticcheck workflowcheck fuzz bench migrate clean distclean help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: build ## start Temporal, PostgreSQL, simulators, worker and API; Ctrl-C stops all
	$(BIN) dev $(ARGS)

run-cluster: build $(TEMPORAL_SERVER) ## the production topology here: Temporal server on PostgreSQL, two workers, two APIs; Ctrl-C stops all
	$(BIN) cluster $(ARGS)

# Kept to a few minutes: CI runs it after `make test` and must stay under 30.
CLUSTER_TIMEOUT ?= 15m
test-cluster: build $(TEMPORAL_SERVER) ## 500 pathways on `pathways cluster` with kill -9 of a worker, the Temporal server and an API
	PATHWAYS_CLUSTER_TEST=1 $(GO) test -count=1 -timeout $(CLUSTER_TIMEOUT) -run '^TestClusterSurvivesKills$$' -v ./scenarios

build: ## build bin/pathways
	$(GO) build -o $(BIN) ./cmd/pathways

test: lint fuzz build $(TEMPORAL_CLI) $(AXE_JS) ## lint, fuzz briefly, then every test against one shared dev server and PostgreSQL
	$(BIN) testenv -- $(GO) test $(TEST_FLAGS) $(PKGS)

# Native Go fuzz targets (package:target), each run for FUZZ_TIME from its
# seed corpus in the package's testdata/fuzz/<target>/. A crash is written
# there as a new file: commit it, so `go test` replays it from then on.
FUZZ_TIME    ?= 3s
FUZZ_TARGETS := identity:FuzzParse starter/csvrows:FuzzRead internal/jsonbody:FuzzDecode programmes:FuzzProgrammeDefinition

fuzz: ## run each fuzz target for FUZZ_TIME (3s); a crash found is saved under testdata/fuzz to commit
	GO=$(GO) .ci/fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

bench: build $(TEMPORAL_CLI) ## run every benchmark once; they print their figures
	$(BIN) testenv -- $(GO) test -count=1 -timeout 60m -run '^$$' -bench . -benchtime 1x $(PKGS)

fault-test: build $(TEMPORAL_CLI) ## only the fault test, verbose: 200 pathways against simulators failing 30% of calls (about 2 minutes; also in make test)
	$(BIN) testenv -- $(GO) test -count=1 -timeout 30m -run TestPathwaysUnderOutsideFaults -v ./scenarios

lint: fmt vet staticcheck workflowcheck ## gofmt, go vet, staticcheck, Temporal workflowcheck

fmt:
	@echo "gofmt -l"
	@files="$$(find . -path ./.tools -prune -o -path ./.data -prune -o -path ./bin -prune -o -name '*.go' -print | xargs gofmt -l)"; \
	if [ -n "$$files" ]; then echo "these files need gofmt -w:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# workflowcheck.config.yaml lists declarations known to be deterministic.
workflowcheck:
	$(GO) run $(WORKFLOWCHECK) -config workflowcheck.config.yaml ./...

migrate: build ## apply migrations to DATABASE_URL (default: the make run cluster)
	DATABASE_URL="$${DATABASE_URL:-$(DEV_DATABASE_URL)}" $(BIN) migrate

clean: ## remove the binary, the make run data (.data) and coverage files
	rm -rf bin .data coverage.out coverage.html *.coverprofile

distclean: clean ## also remove the built Temporal CLI (.tools)
	rm -rf .tools

screenshots: build $(TEMPORAL_CLI) ## regenerate docs/screenshots (the console in Swedish) from the browser test
	PATHWAYS_SCREENSHOTS=$(abspath docs/screenshots) $(BIN) testenv -- $(GO) test -count=1 -run '^TestScreenshots$$' ./e2e/

axe: $(AXE_JS) ## install axe-core (test-only, from npm) into .tools

$(AXE_JS):
	npm install --silent --no-audit --no-fund --prefix $(abspath .tools/axe-core-$(AXE_VERSION)) axe-core@$(AXE_VERSION)

# Built once through the Go module proxy; `pathways dev` and `testenv` would
# build it too, but doing it here says what the wait is for.
$(TEMPORAL_CLI):
	@echo "The Temporal CLI $(TEMPORAL_VERSION) is missing: building it into $(dir $(TEMPORAL_CLI)) (about 4 minutes, once)"
	GOBIN=$(abspath $(dir $(TEMPORAL_CLI))) CGO_ENABLED=0 $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)

# Built once into the tools folder, never linked into bin/pathways.
$(TEMPORAL_SERVER):
	@echo "The Temporal server $(TEMPORAL_SERVER_VERSION) is missing: building it and its SQL tool into $(dir $(TEMPORAL_SERVER)) (about 5 minutes, once)"
	GOBIN=$(abspath $(dir $(TEMPORAL_SERVER))) CGO_ENABLED=0 $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
