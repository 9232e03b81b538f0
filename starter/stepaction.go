package starter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
			st, _, err := staffCase(ctx, e.pool, staff, args[0])
			if err != nil {
				return err
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

// staffCase applies the API's access rule to a staff member named on the
// command line: an active account, the case's centre (or all centres), and
// a protected identity for its assignee only, reported as no case at all.
func staffCase(ctx context.Context, pool *pgxpool.Pool, staffID, caseID string) (store.Staff, store.PathwayRow, error) {
	st, err := store.GetStaff(ctx, pool, staffID)
	if err != nil || !st.Active {
		return st, store.PathwayRow{}, fmt.Errorf("--staff %q: no active staff member with that ID", staffID)
	}
	row, err := store.GetPathway(ctx, pool, caseID)
	if errors.Is(err, store.ErrNotFound) {
		return st, row, fmt.Errorf("no case %s", caseID)
	} else if err != nil {
		return st, row, err
	}
	// The protected identity first: for anyone but its assignee the case
	// does not exist, wherever they work.
	if protected, err := store.IsProtected(ctx, pool, row.ParticipantID); err != nil {
		return st, row, err
	} else if protected && row.Assignee != staffID {
		return st, row, fmt.Errorf("no case %s", caseID)
	}
	if !st.SeesAllCentres() && st.CentreID != row.CentreID {
		return st, row, fmt.Errorf("case %s belongs to another centre than %s's", caseID, staffID)
	}
	return st, row, nil
}
