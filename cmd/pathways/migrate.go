package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/store"
)

func migrateCmd() *cobra.Command {
	var status bool
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if cfg.Database.MigrationURL() == "" {
				return fmt.Errorf("database.url is not set (PATHWAYS_DATABASE_URL or DATABASE_URL; PATHWAYS_DATABASE_OWNER_URL for a separate schema owner)")
			}
			pool, err := store.Open(cmd.Context(), cfg.Database.MigrationURL(), 2)
			if err != nil {
				return err
			}
			defer pool.Close()
			if status {
				lines, err := store.MigrationStatus(cmd.Context(), pool)
				for _, l := range lines {
					fmt.Fprintln(cmd.OutOrStdout(), l)
				}
				return err
			}
			applied, err := store.Migrate(cmd.Context(), pool)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", len(applied))
			for _, a := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "  ", a)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&status, "status", false, "list migrations and their state instead of applying")
	return c
}

// migrateAsOwner applies the migrations as the schema owner
// (database.owner_url when set), for auto-migrate in development.
func migrateAsOwner(ctx context.Context, cfg *config.Config) error {
	pool, err := store.Open(ctx, cfg.Database.MigrationURL(), 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = store.Migrate(ctx, pool)
	return err
}
