// Package testenv gives integration tests a real Temporal dev server and a
// real PostgreSQL. `make test` starts one of each for the whole run and
// passes them in PATHWAYS_TEST_TEMPORAL_ADDRESS and PATHWAYS_TEST_DATABASE_URL;
// a bare `go test` starts its own, once per test process.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/store"
)

// Environment variables that point tests at shared servers.
const (
	EnvTemporal = "PATHWAYS_TEST_TEMPORAL_ADDRESS"
	EnvDatabase = "PATHWAYS_TEST_DATABASE_URL"
)

var (
	mu        sync.Mutex
	temporal  string
	adminURL  string
	processes []*devenv.Process
	tempDirs  []string
)

// Main runs the tests, then stops whatever servers this process started.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for i := len(processes) - 1; i >= 0; i-- {
		_ = processes[i].Stop()
	}
	for _, d := range tempDirs {
		_ = os.RemoveAll(d)
	}
	mu.Unlock()
	os.Exit(code)
}

// TemporalAddress returns the dev server's frontend address.
func TemporalAddress(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if temporal != "" {
		return temporal
	}
	if a := os.Getenv(EnvTemporal); a != "" {
		temporal = a
		return a
	}
	root := moduleRoot(tb)
	version := "v1.5.1"
	if cfg, err := config.Load(nil); err == nil && cfg.Dev.TemporalVersion != "" {
		version = cfg.Dev.TemporalVersion // the pinned version, or PATHWAYS_DEV_TEMPORAL_VERSION
	}
	bin, err := devenv.EnsureTemporalCLI(context.Background(), filepath.Join(root, ".tools"), version, os.Stderr)
	if err != nil {
		tb.Fatal(err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	srv := &devenv.Temporal{Binary: bin, Port: port, Log: io.Discard}
	p, err := srv.Start(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	processes = append(processes, p)
	temporal = srv.Address()
	return temporal
}

// TemporalClient dials the dev server with payloads encrypted under the test
// keys, as every client of a deployment does; it closes with the test.
func TemporalClient(tb testing.TB) client.Client {
	tb.Helper()
	var opts client.Options
	codec.Apply(&opts, Keyring(tb))
	return DialTemporal(tb, opts)
}

// DialTemporal dials the dev server with opts, filling in the address, the
// namespace "default" and, when nil, a logger that discards. Without a data
// converter in opts the client sees payloads as Temporal stores them.
func DialTemporal(tb testing.TB, opts client.Options) client.Client {
	tb.Helper()
	addr := TemporalAddress(tb)
	opts.HostPort = addr
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	}
	var c client.Client
	var err error
	for i := 0; i < 50; i++ {
		c, err = client.Dial(opts)
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("dial Temporal at %s: %v", addr, err)
	}
	tb.Cleanup(c.Close)
	return c
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// TaskQueue is a task queue of the test's own, so tests never share workers.
func TaskQueue(tb testing.TB) string {
	name := unsafe.ReplaceAllString(tb.Name(), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	return "test-" + name + "-" + randomHex(4)
}

// Database creates a fresh, migrated database and drops it after the test.
func Database(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	admin := adminDatabaseURL(tb)
	ctx := context.Background()
	name := "t_" + strings.ToLower(unsafe.ReplaceAllString(tb.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	name += "_" + randomHex(4)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	// The migrations grant the application role its rights when it exists.
	if err := devenv.EnsureRole(ctx, conn, devenv.AppRole); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatal(err)
	}
	url := withDatabase(tb, admin, name)
	pool, err := store.Open(ctx, url, 20)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return pool, url
}

func adminDatabaseURL(tb testing.TB) string {
	mu.Lock()
	defer mu.Unlock()
	if adminURL != "" {
		return adminURL
	}
	if u := os.Getenv(EnvDatabase); u != "" {
		adminURL = u
		return u
	}
	dir, err := os.MkdirTemp("", "pathways-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tempDirs = append(tempDirs, dir)
	port, err := devenv.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	pg := &devenv.Postgres{DataDir: filepath.Join(dir, "data"), Port: port, Log: io.Discard, NoFsync: true}
	p, err := pg.Start(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	processes = append(processes, p)
	adminURL = pg.URL("postgres")
	return adminURL
}

func withDatabase(tb testing.TB, url, db string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, db)
}

func moduleRoot(tb testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// AppURL is url for the application role (devenv.AppRole), which may not
// change the audit log: tests of what the application may do connect so.
func AppURL(tb testing.TB, url string) string {
	tb.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", devenv.AppRole, cfg.Host, cfg.Port, cfg.Database)
}
