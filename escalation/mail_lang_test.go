package escalation

import (
	"context"
	"strings"
	"testing"
)

// Each mailbox reads the escalation mail in its reader's language: Swedish
// unless the staff member chose English.
func TestEscalationMailInReadersLanguage(t *testing.T) {
	fm := &fakeMailer{}
	m := Mail{Mailer: fm, Contacts: func(context.Context, string, string, string) ([]string, error) {
		return []string{"lead@hisingen.example", "team-en@hisingen.example"}, nil
	}, Language: func(_ context.Context, addr string) string {
		if strings.Contains(addr, "-en@") {
			return "en"
		}
		return ""
	}}
	err := m.Notify(context.Background(), Notice{Key: "k", CaseID: "K-2026-0042", CentreID: "hisingen", Rule: RuleFirstContact, Level: 2, Role: RoleTeamLead, Reason: "no contact"})
	if err != nil || len(fm.sent) != 2 {
		t.Fatalf("sent %v, %v", fm.sent, err)
	}
	sv, en := fm.sent[0], fm.sent[1]
	if sv.Subject != "Ärende K-2026-0042 eskalerat till Teamledare (nivå 2)" || !strings.Contains(sv.Body, "Regel: Ingen första kontakt") {
		t.Errorf("Swedish mail: %+v", sv)
	}
	if en.Subject != "Case K-2026-0042 escalated to Team lead (level 2)" || !strings.Contains(en.Body, "Rule: No first contact") {
		t.Errorf("English mail: %+v", en)
	}
}
