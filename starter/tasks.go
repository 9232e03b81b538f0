package starter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/actions"
	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
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

	var staff, key string
	var timeout time.Duration
	doneCmd := &cobra.Command{
		Use:   "done CASE TASK_KEY",
		Short: "Mark a task done (the complete-task action, as in the console)",
		Long: "Checks the staff member's roles and access to the case as the API does, then takes the complete-task action\n" +
			"through the same service as the API and the console, audited (via cli). With --key, running the command again\n" +
			"never applies it twice (a task can open again later under the same task key, so the key is yours to choose).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if staff == "" {
				return fmt.Errorf("--staff is required: the staff ID who did the task")
			}
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			res, err := completeTask(cmd.Context(), e, staff, args[0], args[1], key, timeout)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return printJSON(cmd.OutOrStdout(), res)
			case res.Repeat:
				fmt.Fprintf(cmd.OutOrStdout(), "task %s was marked done before; nothing sent again\n", args[1])
			case res.Pending:
				fmt.Fprintf(cmd.OutOrStdout(), "sent; no answer within %s: the task may still be marked done; running the same command again is safe\n", timeout)
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "task %s done; case %s is in phase %s with %d open task(s)\n", args[1], args[0], res.Status.Phase, len(res.Status.OpenTasks))
			}
			return nil
		},
	}
	doneCmd.Flags().StringVar(&key, "key", "", "idempotency key (default: a fresh one); the same key never applies the action twice")
	doneCmd.Flags().StringVar(&staff, "staff", "", "staff ID of who did the task")
	doneCmd.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "how long to wait for the worker")
	doneCmd.Flags().BoolVar(&asJSON, "json", false, "print the result (action ID, status, repeat, pending) as JSON")
	c.AddCommand(list, doneCmd)
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// completeTask takes the complete-task action for a staff member named on
// the command line: the API's role and access rules, then the one pathway
// action service the API and the console use.
func completeTask(ctx context.Context, e *env, staffID, caseID, taskKey, key string, timeout time.Duration) (actions.Result, error) {
	st, row, err := staffCase(ctx, e.pool, staffID, caseID)
	if err != nil {
		return actions.Result{}, err
	}
	if !st.HasRole(auth.Permissions[auth.ActCompleteTask]...) {
		return actions.Result{}, fmt.Errorf("--staff %q: your role may not %s", staffID, auth.ActCompleteTask)
	}
	svc := &actions.Service{Temporal: e.tc, Pool: e.pool, Wait: timeout, Log: e.log}
	res, err := svc.Do(ctx, actions.Request{CaseID: caseID, ParticipantID: row.ParticipantID, Action: auth.ActCompleteTask, Update: pathway.UpdateCompleteTask,
		Message: pathway.CompleteTask{Actor: pathway.Actor{StaffID: staffID}, TaskKey: taskKey}, StaffID: staffID, Key: key, Via: "cli"})
	var refused *actions.Refused
	switch {
	case errors.As(err, &refused):
		return res, fmt.Errorf("refused: %s", refused.Message)
	case errors.Is(err, actions.ErrNotRunning):
		return res, fmt.Errorf("case %s has no running pathway", caseID)
	}
	return res, err
}
