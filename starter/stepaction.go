package starter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/stepactions"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

func init() { commands = append(commands, stepActionCmd) }

// stepActionCmd takes an action a running step's type declares, through
// the same service as the API and the console.
func stepActionCmd(setup Setup) *cobra.Command {
	var staff, key string
	var set []string
	var timeout time.Duration
	var asJSON bool
	c := &cobra.Command{
		Use:   "step-action CASE STEP ACTION",
		Short: "Take an action a running step declares (e.g. check-in, assess, workshop-result, confirm-step)",
		Long: "Sends the action to the step's workflow as the API route POST /api/v1/pathways/{case}/steps/{step}/{action} does,\n" +
			"with the same checks (the staff member's roles, the declared fields) and the same Update ID:\n" +
			"a repeat with the same --key is applied once.\n\n" +
			"Example: pathways step-action 2026-0001 r1-workshop workshop-result --staff coach.angered --set outcome=completed",
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if staff == "" {
				return errors.New("--staff is required: the staff ID who takes the action")
			}
			input := map[string]string{}
			for _, kv := range set {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("--set %q: want field=value", kv)
				}
				input[k] = v
			}
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			st, err := store.GetStaff(ctx, e.pool, staff)
			if err != nil || !st.Active {
				return fmt.Errorf("--staff %q: no active staff member with that ID", staff)
			}
			row, err := store.GetPathway(ctx, e.pool, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no case %s", args[0])
			} else if err != nil {
				return err
			}
			if !st.SeesAllCentres() && st.CentreID != row.CentreID {
				return fmt.Errorf("case %s belongs to another centre than %s's", args[0], staff)
			}
			// A protected identity is for its assignee only, as in the API.
			if protected, err := store.IsProtected(ctx, e.pool, row.ParticipantID); err != nil {
				return err
			} else if protected && row.Assignee != staff {
				return fmt.Errorf("no case %s", args[0])
			}
			svc := &stepactions.Service{Temporal: e.tc, Pool: e.pool, Steps: catalog.Registry(), Wait: timeout}
			res, err := svc.Do(ctx, stepactions.Request{CaseID: args[0], StepID: args[1], Action: args[2], StaffID: staff, Roles: st.Roles,
				Key: key, Input: input, Via: "cli"})
			if err != nil {
				return fmt.Errorf("%s refused: %w", args[2], err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			switch {
			case res.Pending:
				fmt.Fprintf(cmd.OutOrStdout(), "%s sent to step %s but not yet answered; run the command again with --key %s to learn its outcome (it is never applied twice)\n",
					args[2], args[1], strings.TrimPrefix(res.ActionID, args[1]+":"+args[2]+":"))
			case res.Repeat:
				fmt.Fprintf(cmd.OutOrStdout(), "%s on step %s was applied before (key %s); nothing sent again\n", args[2], args[1], key)
			default:
				fmt.Fprintf(cmd.OutOrStdout(), "%s on step %s of case %s: %s\n", args[2], args[1], args[0], res.Answer)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&staff, "staff", "", "staff ID of who takes the action (their roles decide)")
	f.StringArrayVar(&set, "set", nil, "a declared field, field=value (repeatable)")
	f.StringVar(&key, "key", "", "idempotency key (default: a fresh one); the same key never applies the action twice")
	f.DurationVar(&timeout, "timeout", 20*time.Second, "how long to wait for the step's answer")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}
