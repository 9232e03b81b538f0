package starter

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

func tasksCmd(setup Setup) *cobra.Command {
	c := &cobra.Command{Use: "tasks", Short: "List and complete human tasks"}
	var f store.TaskFilter
	var centre string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List tasks, the earliest due first",
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := connect(cmd, setup, false)
			if err != nil {
				return err
			}
			defer done()
			if centre != "" {
				f.CentreIDs = []string{centre}
			}
			page, err := store.ListTasks(cmd.Context(), e.pool, f)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), page)
			}
			tw := table(cmd.OutOrStdout())
			fmt.Fprintln(tw, "CASE\tTASK KEY\tKIND\tROLE\tASSIGNEE\tDUE\tTITLE")
			for _, t := range page.Items {
				due := "-"
				if t.DueAt != nil {
					due = t.DueAt.Local().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.CaseID, t.Key, t.Kind, t.Role, orDash(t.Assignee), due, t.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d of %d\n", len(page.Items), page.Total)
			return nil
		},
	}
	fl := list.Flags()
	fl.StringVar(&centre, "centre-id", "", "only this centre")
	fl.StringVar(&f.Role, "role", "", "only this role")
	fl.StringVar(&f.Assignee, "assignee", "", "only this assignee")
	fl.StringVar(&f.CaseID, "case", "", "only this case")
	fl.StringVar(&f.Status, "status", "open", "open, done or cancelled")
	fl.IntVar(&f.Limit, "limit", 50, "page size")
	fl.IntVar(&f.Offset, "offset", 0, "page offset")
	fl.BoolVar(&asJSON, "json", false, "print JSON")

	var staff string
	var timeout time.Duration
	doneCmd := &cobra.Command{
		Use:   "done CASE TASK_KEY",
		Short: "Mark a task done (sends the complete-task Update)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if staff == "" {
				return fmt.Errorf("--staff is required: the staff ID who did the task")
			}
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			// The task's own key names the Update: running the command
			// again never completes it twice.
			var st pathway.Status
			err = updates.Send(ctx, e.tc, client.UpdateWorkflowOptions{WorkflowID: pathway.WorkflowID(args[0]), UpdateName: pathway.UpdateCompleteTask,
				UpdateID: args[0] + ":complete-task:" + args[1],
				Args:     []any{pathway.CompleteTask{Actor: pathway.Actor{StaffID: staff}, TaskKey: args[1]}}}, &st)
			if ctx.Err() != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "sent; no answer within %s: the task may still be marked done; running the same command again is safe\n", timeout)
				return nil
			}
			if err != nil {
				return fmt.Errorf("refused: %w", err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "task %s done; case %s is in phase %s with %d open task(s)\n", args[1], args[0], st.Phase, len(st.OpenTasks))
			return nil
		},
	}
	doneCmd.Flags().StringVar(&staff, "staff", "", "staff ID of who did the task")
	doneCmd.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "how long to wait for the worker")
	doneCmd.Flags().BoolVar(&asJSON, "json", false, "print the new status as JSON")
	c.AddCommand(list, doneCmd)
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
