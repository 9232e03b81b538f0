package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/retention"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

func retentionCmd() *cobra.Command {
	root := &cobra.Command{Use: "retention", Short: "Retention (gallring): what the daily run removes"}
	var all bool
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show what the next retention run would remove, without removing it",
		Args:  cobra.NoArgs,
		RunE: withPool(func(cmd *cobra.Command, cfg *config.Config, pool *pgxpool.Pool) error {
			in := worker.RetentionInput(cfg)
			now := time.Now()
			p, err := store.PlanRetention(cmd.Context(), pool, retention.PlanRequest{Policy: in.Policy, AsOf: now})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			pol := in.Policy
			fmt.Fprintf(out, "retention plan as of %s (closed cases after %d days, audit rows %d days after their case or %d days, mail after %d days)\n",
				now.Format(time.RFC3339), pol.ClosedCaseDays, pol.AuditAfterCaseDays, pol.AuditDays, pol.MailDays)
			fmt.Fprintf(out, "  closed cases  %6d  %s\n", len(p.Cases), list(p.Cases, all))
			fmt.Fprintf(out, "  participants  %6d  (their last case is culled)\n", len(p.Participants))
			fmt.Fprintf(out, "  audit rows    %6d\n", len(p.AuditIDs))
			fmt.Fprintf(out, "  staff mail    %6d\n", len(p.MailKeys))
			if p.Empty() {
				fmt.Fprintln(out, "nothing is due")
			}
			return nil
		}),
	}
	plan.Flags().BoolVar(&all, "all", false, "list every case ID (default: the first 20)")
	root.AddCommand(plan)
	return root
}

// list shows case IDs (pseudonymous), the first 20 unless all.
func list(ids []string, all bool) string {
	if all || len(ids) <= 20 {
		return strings.Join(ids, " ")
	}
	return strings.Join(ids[:20], " ") + fmt.Sprintf(" … and %d more (--all)", len(ids)-20)
}
