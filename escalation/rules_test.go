package escalation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/store"
)

func TestParseRules(t *testing.T) {
	rules, err := ParseRules("no_progress=21d,time_limit=60d:unit_manager,step_overrun=off,first_contact=12h")
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Rule{}
	for _, r := range rules {
		by[r.Name] = r
	}
	if by[RuleNoProgress].Threshold != 21*day || by[RuleTimeLimit].Role != RoleUnitManager || !by[RuleStepOverrun].Disabled || by[RuleFirstContact].Threshold != 12*time.Hour {
		t.Fatalf("rules = %+v", by)
	}
	for _, bad := range []string{"nope=1d", "no_progress", "no_progress=x", "time_limit=90d:boss"} {
		if _, err := ParseRules(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNextLevel(t *testing.T) {
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	coach := Rule{Name: RuleNoProgress, Role: RoleJobCoach}
	lead := Rule{Name: RuleTimeLimit, Role: RoleTeamLead}
	cases := []struct {
		r    Rule
		cur  Current
		want int
	}{
		{coach, Current{}, 1},
		{lead, Current{}, 2},
		{coach, Current{Level: 1, TaskStatus: "open", TaskDue: now.Add(time.Hour)}, 0},
		{coach, Current{Level: 1, TaskStatus: "open", TaskDue: now}, 2},
		{coach, Current{Level: 2, TaskStatus: "open", TaskDue: now.Add(-time.Hour)}, 3},
		{coach, Current{Level: 3, TaskStatus: "open", TaskDue: now.Add(-time.Hour)}, 0},
		{coach, Current{Level: 1, TaskStatus: "done", TaskDue: now.Add(-time.Hour)}, 0},
		{coach, Current{Level: 1}, 0}, // task not projected yet
	}
	for i, c := range cases {
		if got := NextLevel(c.r, c.cur, now); got != c.want {
			t.Errorf("%d: NextLevel = %d, want %d", i, got, c.want)
		}
	}
}

type fakeMailer struct{ sent []integrations.Mail }

func (f *fakeMailer) Mail(_ context.Context, key string, m integrations.Mail) error {
	f.sent = append(f.sent, m)
	return nil
}

func TestMailNamesTheCaseOnly(t *testing.T) {
	fm := &fakeMailer{}
	m := Mail{Mailer: fm, ConsoleURL: "https://pathways.example/", Contacts: func(_ context.Context, caseID, centre, role string) ([]string, error) {
		return []string{"lead@hisingen.example"}, nil
	}}
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	err := m.Notify(context.Background(), Notice{Key: "k", CaseID: "K-2026-0042", CentreID: "hisingen", Rule: RuleFirstContact, Level: 2, Role: RoleTeamLead, Reason: Reason(RuleFirstContact, &since, nil)})
	if err != nil || len(fm.sent) != 1 {
		t.Fatalf("sent %v, %v", fm.sent, err)
	}
	got := fm.sent[0]
	if got.To != "lead@hisingen.example" || !strings.Contains(got.Subject, "K-2026-0042") || !strings.Contains(got.Body, "https://pathways.example/pathways/K-2026-0042") {
		t.Fatalf("mail = %+v", got)
	}
}

// The contract names the store's rules without importing the store.
func TestContractRulesAreTheStoresRules(t *testing.T) {
	if got, want := strings.Join(contract.RuleNames(), ","), strings.Join(store.StallRules(), ","); got != want {
		t.Fatalf("contract rules %s, store rules %s", got, want)
	}
}
