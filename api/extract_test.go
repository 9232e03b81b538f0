package api_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/extract"
	"github.com/pathways-se/pathways/store"
)

// auditRows returns the audit rows of an action about a participant, as the
// database holds them (detail as text).
func auditRows(t *testing.T, e *env, action, participantID string) []string {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT staff_id || ' ' || COALESCE(detail::text, '') FROM audit_log
		WHERE action = $1 AND participant_id = $2::uuid ORDER BY id`, action, participantID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// twoPathways starts a pathway, closes it, and starts a second one for the
// same person.
func twoPathways(t *testing.T, e *env, ref map[string]any) (first, second cases.Started) {
	t.Helper()
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.post("/api/v1/pathways", ref), http.StatusCreated).decode(t, &first)
	// Closed as a worker would have projected it (this test runs none).
	if _, err := e.pool.Exec(context.Background(), `UPDATE pathways SET status = 'closed', phase = 'closed', closed_at = now(),
		closure_reason = 'moved' WHERE case_id = $1`, first.CaseID); err != nil {
		t.Fatal(err)
	}
	coach.must(coach.post("/api/v1/pathways", ref), http.StatusCreated).decode(t, &second)
	return first, second
}

// A register extract of a participant with two pathways contains both, is
// audited, and only team leads of the person's centre and administrators
// may make one.
func TestRegisterExtractTwoPathways(t *testing.T) {
	e := newEnv(t, false)
	pnr := personalNumber()
	ref := referral(pnr, "Angered")
	ref["given_name"], ref["email"] = "Extractina", "extractina@example.se"
	first, second := twoPathways(t, e, ref)

	team := e.signIn(t, "team.angered")
	var x extract.Extract
	team.must(team.post("/api/v1/register-extracts", map[string]string{"personal_number": pnr}), http.StatusOK).decode(t, &x)
	if x.Participant.PersonalNumber != pnr || x.Participant.GivenName != "Extractina" || x.Participant.Email != "extractina@example.se" {
		t.Errorf("participant %+v", x.Participant)
	}
	if len(x.Pathways) != 2 || x.Pathways[0].CaseID != first.CaseID || x.Pathways[1].CaseID != second.CaseID {
		t.Fatalf("pathways %+v, want %s and %s", x.Pathways, first.CaseID, second.CaseID)
	}
	if len(x.Consents) != 2 {
		t.Errorf("%d consents, want one per referral", len(x.Consents))
	}
	pid := x.Participant.ID.String()
	rows := auditRows(t, e, extract.AuditExtract, pid)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "team.angered ") || !strings.Contains(rows[0], `"via": "api"`) {
		t.Fatalf("extract audit rows %q", rows)
	}
	if strings.Contains(rows[0], pnr) {
		t.Error("the audit row holds the personal number")
	}
	var own bool
	for _, a := range x.Audit {
		own = own || a.Action == extract.AuditExtract
	}
	if !own {
		t.Error("the extract does not list its own audit row")
	}

	// The printable page holds both pathways and is audited as well.
	html := team.must(team.post("/api/v1/register-extracts?format=html", map[string]string{"personal_number": pnr}), http.StatusOK)
	for _, want := range []string{first.CaseID, second.CaseID, "Extractina", pnr} {
		if !contains(html.Body, want) {
			t.Errorf("printable extract lacks %q", want)
		}
	}
	if n := len(auditRows(t, e, extract.AuditExtract, pid)); n != 2 {
		t.Errorf("%d extract audit rows after the HTML one, want 2", n)
	}

	// Administrators see every centre; other roles and centres do not.
	admin := e.signIn(t, "admin")
	admin.must(admin.post("/api/v1/register-extracts", map[string]string{"personal_number": pnr}), http.StatusOK)
	for _, who := range []string{"coach.angered", "team.hisingen"} {
		c := e.signIn(t, who)
		c.must(c.post("/api/v1/register-extracts", map[string]string{"personal_number": pnr}), http.StatusForbidden)
	}
	// The coach's role is refused before anyone is looked up (a denial row
	// with no person); another centre's team lead is refused for this person.
	if n := len(auditRows(t, e, store.AuditDenied, pid)); n != 1 {
		t.Errorf("%d denial audit rows about the person, want 1", n)
	}
	if rows, err := store.ListAudit(context.Background(), e.pool, store.AuditFilter{StaffID: "coach.angered"}); err != nil {
		t.Fatal(err)
	} else if n := countAction(rows, store.AuditDenied); n != 1 {
		t.Errorf("%d denial audit rows for the coach, want 1", n)
	}
	if got := len(auditRows(t, e, extract.AuditExtract, pid)); got != 3 {
		t.Errorf("%d extract audit rows, want 3 (a refused request is no extract)", got)
	}
	team.must(team.post("/api/v1/register-extracts", map[string]string{"personal_number": personalNumber()}), http.StatusNotFound)
	team.must(team.post("/api/v1/register-extracts", map[string]string{"personal_number": "1985-04-12"}), http.StatusUnprocessableEntity)
}

// A protected identity's extract is for staff assigned to one of the
// person's pathways only.
func TestRegisterExtractProtectedIdentity(t *testing.T) {
	e := newEnv(t, false)
	pnr := personalNumber()
	ref := referral(pnr, "Angered")
	ref["protected_identity"], ref["assignee"] = true, "team.angered"
	coach := e.signIn(t, "coach.angered")
	coach.must(coach.post("/api/v1/pathways", ref), http.StatusCreated)
	admin := e.signIn(t, "admin")
	admin.must(admin.post("/api/v1/register-extracts", map[string]string{"personal_number": pnr}), http.StatusForbidden)
	team := e.signIn(t, "team.angered")
	team.must(team.post("/api/v1/register-extracts", map[string]string{"personal_number": pnr}), http.StatusOK)
}

// A rectification changes the row and is audited with the names of the
// changed fields only, through the API and through the console's form.
func TestRectificationAudited(t *testing.T) {
	e := newEnv(t, false)
	pnr := personalNumber()
	ref := referral(pnr, "Angered")
	ref["given_name"], ref["email"] = "Wrongname", "wrong@example.se"
	coach := e.signIn(t, "coach.angered")
	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", ref), http.StatusCreated).decode(t, &started)
	var before store.Participant
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID+"/participant"), http.StatusOK).decode(t, &before)
	path := "/api/v1/participants/" + before.ID.String()

	coach.must(coach.do(http.MethodPatch, path, map[string]string{"given_name": "Rightname"}), http.StatusForbidden)
	team := e.signIn(t, "team.angered")
	team.must(team.do(http.MethodPatch, path, map[string]string{"given_name": " "}), http.StatusUnprocessableEntity)
	var res struct {
		Changed []string `json:"changed"`
	}
	team.must(team.do(http.MethodPatch, path, map[string]string{"given_name": "Rightname", "email": "right@example.se", "family_name": "Person"}),
		http.StatusOK).decode(t, &res)
	if strings.Join(res.Changed, ",") != "given_name,email" {
		t.Errorf("changed %v, want given_name,email (family_name was already right)", res.Changed)
	}
	var after store.Participant
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID+"/participant"), http.StatusOK).decode(t, &after)
	if after.GivenName != "Rightname" || after.Email != "right@example.se" || after.FamilyName != "Person" || after.PersonalNumber != pnr {
		t.Errorf("after the correction %+v", after)
	}
	rows := auditRows(t, e, extract.AuditRectify, before.ID.String())
	if len(rows) != 1 || !strings.Contains(rows[0], `"fields": ["given_name", "email"]`) {
		t.Fatalf("rectification audit rows %q", rows)
	}
	var all string
	if err := e.pool.QueryRow(context.Background(), `SELECT string_agg(a::text, ' ') FROM audit_log a`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Wrongname", "Rightname", "wrong@example.se", "right@example.se", pnr} {
		if strings.Contains(all, v) {
			t.Errorf("the audit log holds %q", v)
		}
	}

	// The console: the form page, the extract with its correction form, the correction.
	form := team.must(team.get("/register-extract"), http.StatusOK)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(form.Body)
	if csrf == nil {
		t.Fatalf("no CSRF token on the form page: %s", form.Body)
	}
	page := team.postForm("/register-extract", url.Values{"csrf": {string(csrf[1])}, "personal_number": {pnr}})
	if page.Status != http.StatusOK || !contains(page.Body, "Rightname") || !contains(page.Body, started.CaseID) || !contains(page.Body, `action="/register-extract/rectify"`) {
		t.Fatalf("console extract %d: %s", page.Status, page.Body)
	}
	done := team.postForm("/register-extract/rectify", url.Values{"csrf": {string(csrf[1])}, "participant_id": {before.ID.String()},
		"given_name": {"Rightname"}, "family_name": {"Person"}, "email": {"right@example.se"}, "phone": {"+46 31 123 45"}})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("console correction %d: %s", done.Status, done.Body)
	}
	coach.must(coach.get("/api/v1/pathways/"+started.CaseID+"/participant"), http.StatusOK).decode(t, &after)
	if after.Phone != "+46 31 123 45" {
		t.Errorf("phone after the console correction %q", after.Phone)
	}
	if rows := auditRows(t, e, extract.AuditRectify, before.ID.String()); len(rows) != 2 || !strings.Contains(rows[1], `"fields": ["phone"]`) ||
		!strings.Contains(rows[1], `"via": "console"`) {
		t.Errorf("rectification audit rows %q", rows)
	}
	other := e.signIn(t, "coach.angered")
	if r := other.get("/register-extract"); r.Status != http.StatusForbidden {
		t.Errorf("a coach's form page: %d", r.Status)
	}
}

func (c *client) postForm(path string, v url.Values) reply {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}

func countAction(rows []store.AuditEntry, action string) int {
	n := 0
	for _, r := range rows {
		if r.Action == action {
			n++
		}
	}
	return n
}
