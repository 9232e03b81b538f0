package starter

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/pathway"
)

func startCmd(setup Setup) *cobra.Command {
	var r cases.Referral
	var asJSON bool
	c := &cobra.Command{
		Use:   "start",
		Short: "Start a pathway for a referred participant",
		Example: `  pathways start --personal-number 19900101-0017 --given-name Alva --family-name Berg \
      --district Angered --source social_services --consent`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := connect(cmd, setup, true)
			if err != nil {
				return err
			}
			defer done()
			r.Via = "cli"
			started, err := e.cases.Start(cmd.Context(), r)
			var invalid *cases.InvalidError
			if errors.As(err, &invalid) {
				for _, f := range invalid.Fields {
					fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %s\n", f.Field, f.Message)
				}
				return fmt.Errorf("the referral was refused; nothing was written")
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), started)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "started case %s (workflow %s) at %s, %s track, programme %s\n",
				started.CaseID, started.WorkflowID, started.CentreID, started.Track, started.Programme)
			if started.Pending {
				fmt.Fprintln(cmd.OutOrStdout(), "the case is registered; Temporal did not answer, so the worker starts its workflow shortly")
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&r.PersonalNumber, "personal-number", "", "personal identity or co-ordination number, YYYYMMDD-NNNN")
	f.StringVar(&r.GivenName, "given-name", "", "given name")
	f.StringVar(&r.FamilyName, "family-name", "", "family name")
	f.StringVar(&r.Email, "email", "", "e-mail")
	f.StringVar(&r.Phone, "phone", "", "phone")
	f.StringVar(&r.District, "district", "", "district, which routes to a centre")
	f.StringVar(&r.CentreID, "centre", "", "centre ID (default: routed by district and age)")
	f.StringVar(&r.Programme, "programme", "", "programme (default: chosen by age)")
	f.StringVar(&r.Source, "source", pathway.SourceSocialServices, "referral source: social_services or employment_service")
	f.BoolVar(&r.Consent, "consent", false, "the participant's consent is registered")
	f.BoolVar(&r.ProtectedIdentity, "protected-identity", false, "the participant has a protected identity")
	f.StringVar(&r.Assignee, "assignee", "", "staff ID of the responsible job coach")
	f.StringVar(&r.StaffID, "staff", "cli", "staff ID the consent and audit rows record")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
