package main

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/store"
)

func auditCmd() *cobra.Command {
	root := &cobra.Command{Use: "audit", Short: "Check the audit log"}
	root.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit log's hash chain and name the first row that breaks it",
		Long: `Recomputes every audit row's hash from its content and the row before it,
including the hashes retention kept of culled rows. Exits 1 and names the
first broken row when a row was changed, removed or re-chained. Record the
printed head hash elsewhere (e.g. in the review minutes): a later run whose
chain no longer reaches it shows that rows were cut from the end.`,
		Args: cobra.NoArgs,
		RunE: withPool(func(cmd *cobra.Command, _ *config.Config, pool *pgxpool.Pool) error {
			c, err := store.VerifyAudit(cmd.Context(), pool)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !c.OK() {
				fmt.Fprintf(out, "audit log BROKEN at seq %d (row id %d): %s\n", c.BrokenSeq, c.BrokenID, c.Problem)
				return fmt.Errorf("audit chain broken at seq %d", c.BrokenSeq)
			}
			fmt.Fprintf(out, "audit log OK: %d rows, %d culled by retention, head seq %d hash %s\n", c.Rows, c.Culled, c.HeadSeq, c.Head)
			return nil
		}),
	})
	return root
}

// withPool runs an operator command with the configuration and a small pool
// as the application role; both close when it returns.
func withPool(run func(*cobra.Command, *config.Config, *pgxpool.Pool) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		cfg, log, err := setup(cmd)
		if err != nil {
			return err
		}
		defer log.Sync() //nolint:errcheck
		pool, err := store.Open(cmd.Context(), cfg.Database.URL, 2)
		if err != nil {
			return err
		}
		defer pool.Close()
		return run(cmd, cfg, pool)
	}
}
