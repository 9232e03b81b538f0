package starter

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/extract"
	"github.com/pathways-se/pathways/store"
)

func init() { commands = append(commands, extractCmd, rectifyCmd) }

// requester is the staff member a CLI extract or correction is made as; the
// same role, centre and protected-identity rules as in the console apply.
func requester(cmd *cobra.Command, e *env, staffID string) (extract.Requester, error) {
	st, err := store.GetStaff(cmd.Context(), e.pool, staffID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.Active) {
		return extract.Requester{}, fmt.Errorf("no active staff member %q", staffID)
	}
	return extract.Requester{Staff: st, Via: "cli"}, err
}

func extractCmd(setup Setup) *cobra.Command {
	var pnr, staffID, out string
	var asHTML bool
	c := &cobra.Command{
		Use:   "extract",
		Short: "Register extract (GDPR art. 15): everything held about one person, as JSON or printable HTML; audited",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := connect(cmd, setup, false)
			if err != nil {
				return err
			}
			defer done()
			who, err := requester(cmd, e, staffID)
			if err != nil {
				return err
			}
			svc := &extract.Service{Pool: e.pool, Keys: e.keys}
			x, err := svc.Build(cmd.Context(), who, pnr)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				f, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if err := write(w, x, asHTML); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "extract written to %s (%d pathway(s)); it holds personal data: hand it over and delete it\n", out, len(x.Pathways))
			}
			return nil
		},
	}
	c.Flags().StringVar(&pnr, "personal-number", "", "the person's personal identity or co-ordination number")
	c.Flags().StringVar(&staffID, "staff", "", "staff ID the request is made as and audited under (team lead or administrator)")
	c.Flags().BoolVar(&asHTML, "html", false, "a printable HTML page instead of JSON")
	c.Flags().StringVarP(&out, "output", "o", "", "write to this new file (mode 600) instead of standard output")
	_ = c.MarkFlagRequired("personal-number")
	_ = c.MarkFlagRequired("staff")
	return c
}

func write(w io.Writer, x *extract.Extract, asHTML bool) error {
	if asHTML {
		return extract.WriteHTML(w, x, extract.PageOptions{})
	}
	return printJSON(w, x)
}

func rectifyCmd(setup Setup) *cobra.Command {
	var pnr, staffID string
	var r store.Rectification
	var given, family, email, phone string
	c := &cobra.Command{
		Use:   "rectify",
		Short: "Correct a person's name and contact details (GDPR art. 16); the audit log records which fields changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only the fields named on the command line change.
			set := func(flag string, v *string, dst **string) {
				if cmd.Flags().Changed(flag) {
					*dst = v
				}
			}
			set("given-name", &given, &r.GivenName)
			set("family-name", &family, &r.FamilyName)
			set("email", &email, &r.Email)
			set("phone", &phone, &r.Phone)
			e, done, err := connect(cmd, setup, false)
			if err != nil {
				return err
			}
			defer done()
			who, err := requester(cmd, e, staffID)
			if err != nil {
				return err
			}
			changed, err := (&extract.Service{Pool: e.pool, Keys: e.keys}).Rectify(cmd.Context(), who, pnr, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "corrected: %v\n", changed)
			return nil
		},
	}
	c.Flags().StringVar(&pnr, "personal-number", "", "the person's personal identity or co-ordination number")
	c.Flags().StringVar(&staffID, "staff", "", "staff ID the correction is made as and audited under (team lead or administrator)")
	c.Flags().StringVar(&given, "given-name", "", "corrected given name")
	c.Flags().StringVar(&family, "family-name", "", "corrected family name")
	c.Flags().StringVar(&email, "email", "", "corrected e-mail (empty clears it)")
	c.Flags().StringVar(&phone, "phone", "", "corrected phone (empty clears it)")
	_ = c.MarkFlagRequired("personal-number")
	_ = c.MarkFlagRequired("staff")
	return c
}
