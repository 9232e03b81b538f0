package starter

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/store"
)

func listCmd(setup Setup) *cobra.Command {
	var f store.PathwayFilter
	var centre string
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List pathways from the read model",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := connect(cmd, setup, false)
			if err != nil {
				return err
			}
			defer done()
			if centre != "" {
				f.CentreIDs = []string{centre}
			}
			page, err := store.ListPathways(cmd.Context(), e.pool, f)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), page)
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintln(tw, "CASE\tCENTRE\tPROGRAMME\tPHASE\tSTEP\tDAYS LEFT\tSTATUS\tREASON")
			for _, p := range page.Items {
				days := "-"
				if p.DaysLeft != nil {
					days = fmt.Sprint(*p.DaysLeft)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.CaseID, p.CentreID, p.Programme, p.Phase, p.CurrentStep, days, p.Status, p.ClosureReason)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d of %d\n", len(page.Items), page.Total)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&centre, "centre-id", "", "only this centre")
	fl.StringVar(&f.Status, "status", "", "active or closed")
	fl.StringVar(&f.Phase, "phase", "", "only this phase")
	fl.StringVar(&f.Sort, "sort", "", "sort field, '-' prefix for descending")
	fl.IntVar(&f.Limit, "limit", 50, "page size")
	fl.IntVar(&f.Offset, "offset", 0, "page offset")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
