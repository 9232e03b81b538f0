package api_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/store"
)

// "Mark done" on a task that closes by doing what it asks (the mapping) is
// refused, and the page says why beside the task list, in the page's
// language; the outcomes page lists no "0 % of 0".
func TestRefusedActionShowsItsReason(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	coach.must(coach.post(base+"/first-contact", map[string]any{"channel": "phone"}), http.StatusOK)
	var tasks store.Page[store.TaskRow]
	var mapping string
	waitFor(t, "the mapping task", func() bool {
		coach.must(coach.get(base+"/tasks"), http.StatusOK).decode(t, &tasks)
		for _, tk := range tasks.Items {
			if tk.Kind == "mapping" && tk.Status == "open" {
				mapping = tk.Key
			}
		}
		return mapping != ""
	})
	// The case page with the matching openings renders whole, needs named.
	page := coach.must(coach.get("/pathways/"+started.CaseID+"?ssyk=8331"), http.StatusOK)
	if !contains(page.Body, `id="match-needs"`) || !contains(page.Body, "need-bus-angered") || !contains(page.Body, "</html>") {
		t.Errorf("case page with matches: %s", page.Body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page.Body)
	if csrf == nil {
		t.Fatal("no CSRF token on the case page")
	}
	r := coach.postForm("/pathways/"+started.CaseID+"/actions/complete-task", url.Values{"csrf": {string(csrf[1])},
		"idempotency_key": {"mark-done-mapping"}, "task_key": {mapping}})
	if r.Status != http.StatusUnprocessableEntity || !contains(r.Body, `id="task-error"`) ||
		!contains(r.Body, "Uppgiften klaras av genom att göra det den ber om (kartläggning)") {
		t.Fatalf("Mark done on the mapping task: %d %s", r.Status, r.Body)
	}

	// No group without ended pathways is drawn as a share of nothing.
	manager := e.signIn(t, "manager")
	out := manager.must(manager.get("/outcomes"), http.StatusOK)
	if contains(out.Body, "0 av 0") || !contains(out.Body, `<p class="big" id="share-of-ended">–</p>`) || !contains(out.Body, "Inga deltagarspår har avslutats ännu.") {
		t.Errorf("outcomes with nothing ended: %s", out.Body)
	}
	// Once one has ended, its group has a share; the lists show the case by name.
	coach.must(coach.post(base+"/close", map[string]any{"reason": "moved"}), http.StatusOK)
	out = manager.must(manager.get("/outcomes"), http.StatusOK)
	// One person is under the suppression limit: shown as <5, never as a share.
	if !contains(out.Body, `<p class="big" id="share-of-ended">&lt;5</p>`) || !contains(out.Body, "Kompetenscenter Angered") {
		t.Errorf("outcomes with one ended: %s", out.Body)
	}
	list := coach.must(coach.get("/caseload?status=closed"), http.StatusOK)
	if !contains(list.Body, started.CaseID) || !contains(list.Body, "avslutat: Flyttat") || !contains(list.Body, "Kompetenscenter Angered") {
		t.Errorf("caseload with the closed case: %s", list.Body)
	}
	coach.must(coach.get("/tasks?scope=all"), http.StatusOK)
}
