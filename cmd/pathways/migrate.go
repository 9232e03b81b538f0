package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/store"
)

func migrateCmd() *cobra.Command {
	var status bool
	var batch int
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations, then encrypt rows written before encryption",
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
			keys, err := keyring.FromConfig(cfg)
			if err != nil {
				return err
			}
			return backfill(cmd.Context(), cmd.OutOrStdout(), pool, keys, batch)
		},
	}
	c.Flags().BoolVar(&status, "status", false, "list migrations and their state instead of applying")
	c.Flags().IntVar(&batch, "backfill-batch", 500, "rows per transaction when encrypting rows written before encryption")
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

// backfill encrypts rows written before encryption, in batches; it is
// resumable (an interrupted run carries on) and a no-op once none remain.
func backfill(ctx context.Context, out io.Writer, pool *pgxpool.Pool, keys *keyring.Ring, batch int) error {
	err := store.BackfillEncryption(ctx, pool, keys, batch, func(p store.BackfillProgress) {
		if p.Converted > 0 {
			fmt.Fprintf(out, "encrypting %s: %d converted, %d remaining\n", p.Table, p.Converted, p.Remaining)
		}
	})
	if err != nil {
		return err
	}
	left, err := store.PlainRemaining(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "personal data in plain columns: %d participant(s), %d timeline line(s), %d outcome(s) with follow-up notes; %d name(s) not in the search index\n",
		left.Participants, left.Timeline, left.OutcomeNotes, left.NamesUnindexed)
	return nil
}
