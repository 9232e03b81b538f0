package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/store"
)

// The escalations page shows a team lead their own open escalations (the
// level-2 task of a case that has since reached level 3 included, a level-1
// task of another case not), and the team lead sweeps their centre from the
// page and the API; another centre's sweep is refused.
func TestTeamLeadOwnEscalationsAndCentreSweep(t *testing.T) {
	e := newEscalationEnv(t)
	ctx := context.Background()
	climbed := insertCase(t, e, "gbg-angered", false, "")
	low := insertCase(t, e, "gbg-angered", false, "")
	open := func(caseID string, level int, role string) {
		key := fmt.Sprintf("%s:escalation:no_progress:%d", caseID, level)
		if _, err := e.pool.Exec(ctx, `INSERT INTO tasks (task_key, case_id, kind, title, role) VALUES ($1,$2,'escalation','Stalled (test)',$3)`, key, caseID, role); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pool.Exec(ctx, `INSERT INTO escalations (case_id, centre_id, rule, level, role, reason, at, sweep_id, task_key)
			VALUES ($1,'gbg-angered','no_progress',$2,$3,$4,now(),'test',$5)`, caseID, level, role, fmt.Sprintf("reason level %d", level), key); err != nil {
			t.Fatal(err)
		}
	}
	open(climbed, 2, "team_lead")
	open(climbed, 3, "unit_manager") // written before one ladder: both stayed open
	open(low, 1, "job_coach")

	lead := e.signIn(t, "team.angered")
	page := lead.must(lead.get("/escalations"), http.StatusOK)
	if !contains(page.Body, "reason level 2") || contains(page.Body, "reason level 3") || contains(page.Body, low) {
		t.Fatalf("the team lead's page does not show exactly their own escalations: %s", page.Body)
	}
	all := lead.must(lead.get("/escalations?role=all"), http.StatusOK)
	if !contains(all.Body, "reason level 3") || !contains(all.Body, low) {
		t.Fatalf("role=all does not show every escalation of the centre")
	}
	if mgr := e.signIn(t, "manager"); !contains(mgr.must(mgr.get("/escalations"), http.StatusOK).Body, "reason level 3") {
		t.Fatal("the manager's page lost the highest level")
	}

	// The sweep from the page, as the form posts it.
	hidden := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]+)"`).FindSubmatch(page.Body)
		if m == nil {
			t.Fatalf("the page lacks %s", name)
		}
		return string(m[1])
	}
	if !contains(page.Body, `action="/escalations/sweep"`) {
		t.Fatal("the team lead's page has no sweep form")
	}
	r := lead.postForm("/escalations/sweep", url.Values{"csrf": {hidden("csrf")}, "idempotency_key": {hidden("idempotency_key")}, "centre_id": {"gbg-angered"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("sweep from the page: %d %s", r.Status, r.Body)
	}
	// The API: 202 and a status link; the same key again is the same sweep.
	var started struct {
		ID        string `json:"id"`
		StatusURL string `json:"status_url"`
	}
	lead.must(lead.postKeyed("/api/v1/escalations/sweeps", "sweep-1", map[string]string{"centre_id": "gbg-angered"}), http.StatusAccepted).decode(t, &started)
	var again struct{ ID string }
	lead.must(lead.postKeyed("/api/v1/escalations/sweeps", "sweep-1", map[string]string{}), http.StatusAccepted).decode(t, &again)
	if again.ID != started.ID || !strings.HasPrefix(started.StatusURL, "/api/v1/escalations/sweeps/") {
		t.Fatalf("repeated sweep request: %+v then %+v", started, again)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := lead.get(started.StatusURL)
		var row store.SweepRow
		if st.Status == http.StatusOK {
			st.decode(t, &row)
			if row.FinishedAt != nil {
				if row.Kind != "centre" {
					t.Fatalf("sweep recorded as %q", row.Kind)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the centre sweep did not finish: %d %s", st.Status, st.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	lead.must(lead.postKeyed("/api/v1/escalations/sweeps", "sweep-2", map[string]string{"centre_id": "gbg-hisingen"}), http.StatusForbidden)
	lead.must(lead.post("/api/v1/escalations/sweeps", map[string]string{"centre_id": "gbg-angered"}), http.StatusBadRequest) // no key
	other := e.signIn(t, "team.hisingen")
	other.must(other.get(started.StatusURL), http.StatusNotFound) // another centre's sweep
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.postKeyed("/api/v1/escalations/sweeps", "sweep-3", map[string]string{}), http.StatusForbidden)
}
