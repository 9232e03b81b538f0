package cases

import (
	"context"
	"testing"
	"time"
)

// Text that PostgreSQL cannot store (NUL, invalid UTF-8) or that is a
// mistake in any name or ID (control characters) is a field error for every
// entry point (API, console form, CLI, import), not a failed start that says
// "try again".
func TestValidateRefusesUnstorableText(t *testing.T) {
	s := &Service{Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }}
	r := Referral{PersonalNumber: "not a number", GivenName: "Al\x00va", FamilyName: "B\xe5rg", District: "Angered\n",
		Email: "a@b.se", Assignee: "coach\tangered", CentreID: "x\x7f", Programme: "adult", Source: "social_services", Consent: true}
	_, errs := s.Validate(context.Background(), &r)
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Code
	}
	for _, f := range []string{"given_name", "family_name", "district", "assignee", "centre_id"} {
		if got[f] != "invalid_text" {
			t.Errorf("%s: code %q, want invalid_text (all: %v)", f, got[f], got)
		}
	}
	for _, f := range []string{"email", "programme", "source", "consent"} {
		if _, bad := got[f]; bad {
			t.Errorf("%s refused: %v", f, got)
		}
	}
}
