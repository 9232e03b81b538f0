# pathways: `make run` starts the whole system, `make test` runs the suite.
BIN            := bin/pathways
TEMPORAL_CLI   := .tools/temporal-v1.5.1/temporal
STATICCHECK    := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK  := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: run build test lint bench migrate clean

run: build
	$(BIN) dev

build:
	go build -o $(BIN) ./cmd/pathways

# The suite shares one Temporal dev server and one PostgreSQL (see pathways testenv).
test: lint build
	$(BIN) testenv -- go test -count=1 -timeout 20m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	go run $(WORKFLOWCHECK) ./...

bench: build
	$(BIN) testenv -- go test -run '^$$' -bench . -benchtime 1x ./...

migrate: build
	$(BIN) migrate

clean:
	rm -rf bin
