package starter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/auth"
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

	var staff, key string
	var timeout time.Duration
	doneCmd := &cobra.Command{
		Use:   "done CASE TASK_KEY",
		Short: "Mark a task done (the complete-task action, as in the console)",
		Long: "Checks the staff member's roles and access to the case as the API does, sends the complete-task Update\n" +
			"and writes the action's audit row (via cli). The task's key names the action, so running the command\n" +
			"again never completes it twice.",
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
			case asJSON && res.status != nil:
				return printJSON(cmd.OutOrStdout(), res.status)
			case res.repeat:
				fmt.Fprintf(cmd.OutOrStdout(), "task %s was marked done before; nothing sent again\n", args[1])
			case res.pending:
				fmt.Fprintf(cmd.OutOrStdout(), "sent; no answer within %s: the task may still be marked done; running the same command again is safe\n", timeout)
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "task %s done; case %s is in phase %s with %d open task(s)\n", args[1], args[0], res.status.Phase, len(res.status.OpenTasks))
			}
			return nil
		},
	}
	doneCmd.Flags().StringVar(&key, "key", "", "idempotency key (default: the task's key); the same key never applies the action twice")
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

type taskDone struct {
	status          *pathway.Status
	repeat, pending bool
}

// completeTask takes the complete-task action for a staff member named on
// the command line: the role and access rules of the API, the audit log's
// memory of an action applied in an earlier run, the Update sent under the
// action's ID, and an audit row with its true outcome.
func completeTask(ctx context.Context, e *env, staffID, caseID, taskKey, key string, timeout time.Duration) (taskDone, error) {
	st, row, err := staffCase(ctx, e.pool, staffID, caseID)
	if err != nil {
		return taskDone{}, err
	}
	if !st.HasRole(auth.Permissions[auth.ActCompleteTask]...) {
		return taskDone{}, fmt.Errorf("--staff %q: your role may not %s", staffID, auth.ActCompleteTask)
	}
	if key == "" {
		key = taskKey
	}
	actionID := auth.ActCompleteTask + ":" + key
	pid, _ := uuid.Parse(row.ParticipantID)
	audit := func(result string) error {
		return store.WriteAuditPatiently(ctx, e.pool, store.AuditEntry{StaffID: staffID, Action: store.AuditAction, CaseID: caseID, ParticipantID: &pid,
			Detail: map[string]any{"action": auth.ActCompleteTask, "action_id": actionID, "result": result, "via": "cli"}}, 30*time.Second)
	}
	prior, err := store.ActionResults(ctx, e.pool, caseID, actionID)
	if err != nil {
		return taskDone{}, err
	}
	if slices.Contains(prior, "ok") {
		return taskDone{repeat: true}, audit("ok")
	}
	uctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var status pathway.Status
	err = updates.Send(uctx, e.tc, client.UpdateWorkflowOptions{WorkflowID: pathway.WorkflowID(caseID), UpdateName: pathway.UpdateCompleteTask,
		UpdateID: caseID + ":" + actionID, Args: []any{pathway.CompleteTask{Actor: pathway.Actor{StaffID: staffID}, TaskKey: taskKey}}}, &status)
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return taskDone{status: &status}, audit("ok")
	case errors.As(err, &appErr):
		return taskDone{}, errors.Join(fmt.Errorf("refused: %s", appErr.Message()), audit("refused"))
	case errors.As(err, &notFound):
		return taskDone{}, errors.Join(fmt.Errorf("case %s has no running pathway", caseID), audit("refused"))
	case uctx.Err() != nil:
		// Sent, perhaps applied: never reported as failed.
		return taskDone{pending: true}, audit("pending")
	}
	return taskDone{}, errors.Join(fmt.Errorf("the workflow service failed (%w); what became of the action is not known, and running the same command again is safe", err), audit("unknown"))
}
