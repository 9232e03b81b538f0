// Package store is pathways' PostgreSQL layer: the pool, the migrations, and
// the queries of the case registry, the read models and the audit log.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pgx pool and checks that the server answers.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx errors can echo the URL, password included.
		return nil, fmt.Errorf("database.url is not a valid PostgreSQL URL")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		// PostgreSQL answering with an error (a wrong password, no such
		// database) is a configuration to fix, not an outage to wait out;
		// only "starting up" (57P03) is.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code != "57P03" {
			return nil, fmt.Errorf("database: PostgreSQL at %s:%d refused: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
		}
		return nil, fmt.Errorf("%w at %s:%d: %w", ErrUnreachable, cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

// ErrUnreachable: PostgreSQL did not answer (down, restarting, or not
// there); a bad URL is another error.
var ErrUnreachable = errors.New("database: cannot reach PostgreSQL")

// OpenPatiently is Open, trying again every second for up to patience
// while PostgreSQL does not answer: a worker or API started while the
// database restarts waits for it instead of exiting. waiting is called once,
// on the first refusal.
func OpenPatiently(ctx context.Context, url string, maxConns int32, patience time.Duration, waiting func(error)) (*pgxpool.Pool, error) {
	deadline := time.Now().Add(patience)
	for first := true; ; first = false {
		pool, err := Open(ctx, url, maxConns)
		if err == nil || !errors.Is(err, ErrUnreachable) || time.Now().After(deadline) {
			return pool, err
		}
		if first && waiting != nil {
			waiting(err)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Second):
		}
	}
}
