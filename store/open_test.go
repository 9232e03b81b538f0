package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// A process started while PostgreSQL is not yet (or no longer) answering
// waits for it; a bad URL fails at once, and patience runs out.
func TestOpenPatientlyWaitsForPostgreSQL(t *testing.T) {
	_, dbURL := testenv.Database(t)
	ctx := context.Background()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	// A port that answers only after 1.5 s, then forwards to the database.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	go func() {
		time.Sleep(1500 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return
		}
		t.Cleanup(func() { l.Close() })
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				d, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				go func() { _, _ = io.Copy(d, c); d.Close() }()
				_, _ = io.Copy(c, d)
				c.Close()
			}()
		}
	}()
	u.Host = addr
	waited := 0
	t0 := time.Now()
	pool, err := store.OpenPatiently(ctx, u.String(), 2, 30*time.Second, func(error) { waited++ })
	if err != nil {
		t.Fatalf("after PostgreSQL came: %v", err)
	}
	pool.Close()
	if waited != 1 || time.Since(t0) < time.Second {
		t.Errorf("waited %d times, %s: want once, about 1.5 s", waited, time.Since(t0))
	}

	if _, err := store.OpenPatiently(ctx, "not a url ::", 2, 30*time.Second, nil); err == nil || errors.Is(err, store.ErrUnreachable) {
		t.Errorf("a bad URL: %v", err)
	}
	// PostgreSQL answers, but no such database: said at once, not waited out.
	nodb := *u
	nodb.Host, nodb.Path = target, "/no_such_database"
	t0 = time.Now()
	if _, err := store.OpenPatiently(ctx, nodb.String(), 2, 30*time.Second, nil); err == nil || errors.Is(err, store.ErrUnreachable) || time.Since(t0) > 5*time.Second {
		t.Errorf("no such database, after %s: %v", time.Since(t0), err)
	}
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	u.Host = l2.Addr().String()
	l2.Close() // nobody listens there now
	t0 = time.Now()
	if _, err := store.OpenPatiently(ctx, u.String(), 2, 1500*time.Millisecond, nil); !errors.Is(err, store.ErrUnreachable) || time.Since(t0) < time.Second {
		t.Errorf("patience out after %s: %v", time.Since(t0), err)
	}
}
