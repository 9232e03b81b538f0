package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDatabase(t *testing.T) {
	pool, url := testenv.Database(t)
	if !strings.HasPrefix(url, "postgres://") {
		t.Fatalf("url %q", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var db string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db, "t_") || !strings.HasSuffix(url, "/"+db+"?sslmode=disable") {
		t.Fatalf("database %q, url %q", db, url)
	}
	// Migrated: goose's version table and at least one of ours exist.
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables < 2 {
		t.Fatalf("only %d tables after migration", tables)
	}
}

func TestDatabasesAreSeparate(t *testing.T) {
	_, a := testenv.Database(t)
	_, b := testenv.Database(t)
	if a == b {
		t.Fatalf("two calls returned the same database %s", a)
	}
}

func TestTemporal(t *testing.T) {
	c := testenv.TemporalClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if testenv.TemporalAddress(t) == "" {
		t.Fatal("no address")
	}
}

func TestTaskQueue(t *testing.T) {
	a, b := testenv.TaskQueue(t), testenv.TaskQueue(t)
	if a == b || !strings.HasPrefix(a, "test-TestTaskQueue-") {
		t.Fatalf("task queues %q and %q", a, b)
	}
	t.Run("sub/test with spaces", func(t *testing.T) {
		q := testenv.TaskQueue(t)
		if strings.ContainsAny(q, "/ ") {
			t.Fatalf("unsanitised task queue %q", q)
		}
	})
}
