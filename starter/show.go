package starter

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// Shown is what `show` prints: the read model, the live status when the
// workflow answers, the timeline and the open tasks. No personal data.
type Shown struct {
	Pathway  store.PathwayRow      `json:"pathway"`
	Live     *pathway.Status       `json:"live"`
	Timeline []store.TimelineEntry `json:"timeline"`
	Tasks    []store.TaskRow       `json:"open_tasks"`
}

func showCmd(setup Setup) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show CASE",
		Short: "Show one pathway: phase, deadlines, plan, timeline and open tasks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			row, err := store.GetPathway(ctx, e.pool, args[0])
			if err != nil {
				return fmt.Errorf("case %s: %w", args[0], err)
			}
			out := Shown{Pathway: row}
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if v, err := e.tc.QueryWorkflow(qctx, pathway.WorkflowID(args[0]), "", pathway.QueryStatus); err == nil {
				var st pathway.Status
				if v.Get(&st) == nil {
					out.Live = &st
				}
			}
			cancel()
			if out.Timeline, err = store.Timeline(ctx, e.pool, e.keys, args[0]); err != nil {
				return err
			}
			tasks, err := store.ListTasks(ctx, e.pool, store.TaskFilter{CaseID: args[0], Limit: 100})
			if err != nil {
				return err
			}
			out.Tasks = tasks.Items
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			tw := table(w)
			days := "-"
			if row.DaysLeft != nil {
				days = fmt.Sprint(*row.DaysLeft)
			}
			fmt.Fprintf(tw, "case\t%s\nworkflow\t%s\ncentre\t%s\nprogramme\t%s v%d (%s track)\nstatus\t%s %s\nphase\t%s\nstep\t%s\ndays left\t%s\nassignee\t%s\nlast progress\t%s\n",
				row.CaseID, row.WorkflowID, row.CentreID, row.Programme, row.ProgrammeVersion, row.Track, row.Status, row.ClosureReason,
				row.Phase, orDash(row.CurrentStep), days, orDash(row.Assignee), row.LastProgressAt.Local().Format("2006-01-02 15:04"))
			if out.Live == nil {
				fmt.Fprintln(tw, "live\tthe workflow did not answer (no worker, or closed)")
			}
			_ = tw.Flush()
			if out.Live != nil && len(out.Live.Steps) > 0 {
				fmt.Fprintln(w, "\nPLAN")
				tw = table(w)
				fmt.Fprintln(tw, "STEP\tTYPE\tSTATUS\tTITLE")
				for _, s := range out.Live.Steps {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Type, s.Status, s.Title)
				}
				_ = tw.Flush()
			}
			fmt.Fprintln(w, "\nTIMELINE")
			tw = table(w)
			for _, t := range out.Timeline {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.At.Local().Format("2006-01-02 15:04"), t.Kind, orDash(t.Actor), t.Summary)
			}
			_ = tw.Flush()
			fmt.Fprintln(w, "\nOPEN TASKS")
			tw = table(w)
			for _, t := range out.Tasks {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Key, t.Role, t.Title)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
