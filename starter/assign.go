package starter

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/assignment"
)

func init() { commands = append(commands, assignCmd) }

// assignCmd assigns or reassigns a case, as a team lead of its centre does
// in the console (the same assignment.Assign, audited under --staff-id).
func assignCmd(setup Setup) *cobra.Command {
	var req assignment.Request
	var asJSON bool
	c := &cobra.Command{
		Use:     "assign",
		Short:   "Assign or reassign a case to a staff member of its centre (team leads; protected cases included)",
		Example: `  pathways assign --case 2026-0000042 --assignee coach.angered --staff-id team.angered`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.StaffID == "" {
				return fmt.Errorf("--staff-id is required: the team lead who assigns")
			}
			e, done, err := connect(cmd, setup, false)
			if err != nil {
				return err
			}
			defer done()
			res, err := assignment.Assign(cmd.Context(), e.pool, req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if !res.Changed {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is already assigned to %s\n", res.CaseID, res.To)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s -> %s\n", res.CaseID, orDash(res.From), res.To)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&req.CaseID, "case", "", "case ID")
	fl.StringVar(&req.Assignee, "assignee", "", "staff ID of the new assignee (active, at the case's centre)")
	fl.StringVar(&req.StaffID, "staff-id", "", "your staff ID (a team lead of the case's centre)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
