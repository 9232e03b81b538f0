package simulators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/config"
)

// Run serves the simulators on cfg.Sim.Addr (HTTP) and cfg.SMTP.Addr (SMTP
// sink) until ctx ends, then shuts down gracefully. Faults from
// simulators.faults apply from the start.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	faults, err := ParseFaults(cfg.Sim.Faults)
	if err != nil {
		return err
	}
	sim := New(cfg.Sim.Seed, log)
	if err := sim.SetFaults(faults); err != nil {
		return err
	}
	// State survives a restart in the dev (or test) database; in production
	// mode the database is the real one, and stand-ins keep out of it. They
	// create their own schema, so they connect as its owner where one is set
	// (the application role may not create schemas).
	if url := cfg.Database.MigrationURL(); url != "" && !cfg.Production() {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return errors.New("simulators: database.url is not a valid PostgreSQL URL")
		}
		defer pool.Close()
		if err := sim.Persist(ctx, pool); err != nil {
			return err
		}
		log.Info("simulator state kept in PostgreSQL (schema simulators)")
	}
	httpLn, err := net.Listen("tcp", cfg.Sim.Addr)
	if err != nil {
		return fmt.Errorf("simulators: listen %s: %w", cfg.Sim.Addr, err)
	}
	smtpLn, err := net.Listen("tcp", cfg.SMTP.Addr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("simulators: SMTP sink: listen %s: %w", cfg.SMTP.Addr, err)
	}
	if fj, _ := json.Marshal(faults); faults.Global != nil || len(faults.Systems) > 0 {
		log.Info("simulator faults from config", zap.ByteString("faults", fj))
	}
	log.Info("simulators listening", zap.String("http", httpLn.Addr().String()),
		zap.String("smtp", smtpLn.Addr().String()), zap.Int64("seed", cfg.Sim.Seed))

	g, gctx := errgroup.WithContext(ctx)
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		<-gctx.Done()
		sim.Close() // ends hanging fault requests and callback deliveries
		return nil
	})
	g.Go(func() error { return serveHTTP(gctx, srv, httpLn) })
	g.Go(func() error { return sim.ServeSMTP(gctx, smtpLn) })
	err = g.Wait()
	log.Info("simulators stopped")
	return err
}
