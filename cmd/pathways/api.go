package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

func apiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "api",
		Short: "Serve the HTTP API and the web console",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			ctx := cmd.Context()
			progs, err := programmes.Load(cfg.Programs.Dir, catalog.Registry())
			if err != nil {
				return fmt.Errorf("programme definitions: %w", err)
			}
			pool, err := store.OpenPatiently(ctx, cfg.Database.URL, cfg.Database.MaxConns, time.Minute, func(err error) {
				log.Warn("waiting for PostgreSQL", zap.Error(err))
			})
			if err != nil {
				return err
			}
			defer pool.Close()
			if cfg.Database.AutoMigrate && !cfg.Production() {
				if err := migrateAsOwner(ctx, cfg); err != nil {
					return err
				}
			}
			keys, err := keyring.FromConfig(cfg)
			if err != nil {
				return err
			}
			tc, err := worker.DialKeys(ctx, cfg, log, keys)
			if err != nil {
				return err
			}
			defer tc.Close()
			clients := integrations.NewClients(cfg)
			srv := &api.Server{Config: cfg, Pool: pool, Temporal: tc, Log: log, Keys: keys,
				Outside: api.OutsideClients{Employers: clients.Employers, Employment: clients.Employment},
				Cases:   &cases.Service{Pool: pool, Temporal: tc, TaskQueue: cfg.Temporal.TaskQueue, Programmes: progs, SecondsPerDay: cfg.Demo.SecondsPerDay, Keys: keys}}
			return srv.Run(ctx)
		},
	}
}
