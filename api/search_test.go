package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/store"
)

// startNamed starts a pathway at Angered for a person with these names.
func startNamed(t *testing.T, c *client, pnr, given, family string, protected bool) cases.Started {
	t.Helper()
	ref := referral(pnr, "Angered")
	ref["given_name"], ref["family_name"] = given, family
	if protected {
		ref["protected_identity"] = true
	}
	var s cases.Started
	c.must(c.post("/api/v1/pathways", ref), http.StatusCreated).decode(t, &s)
	return s
}

// tenDigit writes 19850412-1234 as 850412-1234.
func tenDigit(pnr string) string { return pnr[2:] }

type auditRow struct {
	Action, CaseID, Detail string
}

func auditOf(t *testing.T, e *env, staff string, since int64) []auditRow {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT action, case_id, COALESCE(detail::text, '') FROM audit_log
		WHERE staff_id = $1 AND seq > $2 ORDER BY seq`, staff, since)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[auditRow])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func auditHead(t *testing.T, e *env) int64 {
	var n int64
	if err := e.pool.QueryRow(context.Background(), `SELECT COALESCE(max(seq), 0) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCoachFindsParticipantByNumberAndName(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	pnr := personalNumber()
	alva := startNamed(t, coach, pnr, "Alva", "Lindqvist-Öberg", false)
	other := startNamed(t, coach, personalNumber(), "Bertil", "Lind", false)

	head := auditHead(t, e)
	// On the phone: the 10-digit form the person reads out.
	r := coach.must(coach.get("/caseload?q="+url.QueryEscape(tenDigit(pnr))), http.StatusOK)
	if !contains(r.Body, alva.CaseID) || !contains(r.Body, "Alva Lindqvist-Öberg") {
		t.Fatalf("the number search does not show the person: %s", r.Body)
	}
	if contains(r.Body, other.CaseID) {
		t.Error("the number search shows someone else")
	}
	// Part of the family name, in any case, even its second half.
	for _, q := range []string{"lindqv", "ÖBER", "alva lind"} {
		r = coach.must(coach.get("/caseload?q="+url.QueryEscape(q)), http.StatusOK)
		if !contains(r.Body, alva.CaseID) || contains(r.Body, other.CaseID) {
			t.Errorf("searching %q: want only %s: %s", q, alva.CaseID, r.Body)
		}
	}
	// "lind" begins both family names.
	r = coach.must(coach.get("/caseload?q=lind"), http.StatusOK)
	if !contains(r.Body, alva.CaseID) || !contains(r.Body, other.CaseID) {
		t.Errorf("searching lind: want both: %s", r.Body)
	}

	// Each search is in the audit log with its kind, never its text, and
	// every name shown has its read row, written before the page.
	rows := auditOf(t, e, "coach.angered", head)
	var kinds []string
	nameReads := 0
	for _, a := range rows {
		for _, leak := range []string{tenDigit(pnr), pnr, "lindqv", "ÖBER", "Alva", "Lindqvist"} {
			if strings.Contains(a.Detail, leak) {
				t.Errorf("an audit row holds the search text %q: %+v", leak, a)
			}
		}
		switch a.Action {
		case api.AuditSearch:
			if !strings.Contains(a.Detail, `"via": "console"`) {
				t.Errorf("search row without via: %+v", a)
			}
			for _, k := range []string{"personal_number", "name"} {
				if strings.Contains(a.Detail, `"kind": "`+k+`"`) {
					kinds = append(kinds, k)
				}
			}
		case store.AuditReadPersonalData:
			if a.CaseID == alva.CaseID && strings.Contains(a.Detail, `"what": "name"`) && strings.Contains(a.Detail, `"list": "search"`) {
				nameReads++
			}
		}
	}
	if fmt.Sprint(kinds) != "[personal_number name name name name]" {
		t.Errorf("audited searches %v, want one by number and four by name: %+v", kinds, rows)
	}
	if nameReads != 5 {
		t.Errorf("%d audited reads of the name in search results, want 5", nameReads)
	}

	// The caseload and the task inbox show names too, audited as lists.
	head = auditHead(t, e)
	if r := coach.must(coach.get("/caseload"), http.StatusOK); !contains(r.Body, "Alva Lindqvist-Öberg") || !contains(r.Body, "Bertil Lind") {
		t.Errorf("the caseload shows no names: %s", r.Body)
	}
	openTaskAndEscalation(t, e, alva.CaseID, "gbg-angered")
	team := e.signIn(t, "team.angered")
	if r := team.must(team.get("/tasks?scope=all"), http.StatusOK); !contains(r.Body, "Alva Lindqvist-Öberg") {
		t.Errorf("the task inbox shows no name: %s", r.Body)
	}
	lists := map[string]bool{}
	for _, who := range []string{"coach.angered", "team.angered"} {
		for _, a := range auditOf(t, e, who, head) {
			if a.Action == store.AuditReadPersonalData && a.CaseID == alva.CaseID {
				for _, l := range []string{"caseload", "tasks"} {
					if strings.Contains(a.Detail, `"list": "`+l+`"`) {
						lists[l] = true
					}
				}
			}
		}
	}
	if !lists["caseload"] || !lists["tasks"] {
		t.Errorf("names shown without audit rows: %v", lists)
	}
	// A unit manager reads no personal data: no names, no search.
	manager := e.signIn(t, "manager")
	if r := manager.must(manager.get("/caseload"), http.StatusOK); contains(r.Body, "Lindqvist") {
		t.Error("the manager's caseload shows names")
	}
	manager.must(manager.get("/caseload?q=lindqv"), http.StatusForbidden)
}

func TestSearchByIdentityNumberNameAndCase(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	pnr := personalNumber()
	alva := startNamed(t, coach, pnr, "Alva", "Berglund", false)
	startNamed(t, coach, personalNumber(), "Ove", "Berg", false)

	find := func(c *client, q string) []string {
		t.Helper()
		var page store.Page[store.PathwayRow]
		c.must(c.get("/api/v1/pathways?q="+url.QueryEscape(q)), http.StatusOK).decode(t, &page)
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.CaseID)
		}
		return ids
	}
	only := func(c *client, q, want string) {
		t.Helper()
		if got := find(c, q); len(got) != 1 || got[0] != want {
			t.Errorf("q=%q found %v, want [%s]", q, got, want)
		}
	}
	// Every accepted form of the identity number.
	only(coach, pnr, alva.CaseID)
	only(coach, strings.ReplaceAll(pnr, "-", ""), alva.CaseID)
	only(coach, tenDigit(pnr), alva.CaseID)
	// The case ID, as written or in lower case.
	only(coach, alva.CaseID, alva.CaseID)
	only(coach, strings.ToLower(alva.CaseID), alva.CaseID)
	// Names: every word must begin a name.
	only(coach, "berglu", alva.CaseID)
	only(coach, "alva berg", alva.CaseID)
	if got := find(coach, "berg"); len(got) != 2 {
		t.Errorf("berg found %v, want both", got)
	}
	for _, q := range []string{"alva ove", "lund", "zyx"} {
		if got := find(coach, q); len(got) != 0 {
			t.Errorf("q=%q found %v, want none", q, got)
		}
	}
	// Nobody has this (valid) number.
	num, _ := identity.Parse(pnr, time.Now())
	if got := find(coach, otherNumber(num.Canonical)); len(got) != 0 {
		t.Errorf("an unknown number found %v", got)
	}
	// Bad input names the field and never repeats the number.
	bad := pnr[:len(pnr)-1] + string("0123456789"[(int(pnr[len(pnr)-1]-'0')+1)%10])
	p := coach.must(coach.get("/api/v1/pathways?q="+url.QueryEscape(bad)), http.StatusBadRequest).problem(t)
	if p.Field != "q" || contains(mustJSON(p), bad[:8]) {
		t.Errorf("bad number: %+v", p)
	}
	if p := coach.must(coach.get("/api/v1/pathways?q=a"), http.StatusBadRequest).problem(t); p.Field != "q" {
		t.Errorf("one letter: %+v", p)
	}
	// Another centre's coach finds nothing of Angered's.
	hisingen := e.signIn(t, "coach.hisingen")
	for _, q := range []string{pnr, alva.CaseID, "berglund"} {
		if got := find(hisingen, q); len(got) != 0 {
			t.Errorf("another centre finds %v by %q", got, q)
		}
	}
	// A person registered before the name index (a plain row, as before
	// encryption) is found once `pathways migrate` has run its backfill.
	legacy := insertCase(t, e, "gbg-angered", false, "")
	if got := find(coach, "matrix person"); len(got) != 0 {
		t.Fatalf("an unconverted row is found by name: %v", got)
	}
	if err := store.BackfillEncryption(context.Background(), e.pool, e.api.Keys, 2, nil); err != nil {
		t.Fatal(err)
	}
	only(coach, "matrix pers", legacy)
	left, err := store.PlainRemaining(context.Background(), e.pool)
	if err != nil || left.NamesUnindexed != 0 {
		t.Errorf("names left unindexed: %+v %v", left, err)
	}
	// A correction re-indexes: the old name is no longer found.
	var pid uuid.UUID
	if err := e.pool.QueryRow(context.Background(), `SELECT participant_id FROM pathways WHERE case_id = $1`, alva.CaseID).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	newName := "Sandberg"
	if _, err := store.RectifyParticipant(context.Background(), e.pool, e.api.Keys, pid, store.Rectification{FamilyName: &newName}); err != nil {
		t.Fatal(err)
	}
	only(coach, "sandb", alva.CaseID)
	if got := find(coach, "berglund"); len(got) != 0 {
		t.Errorf("the old name is still found: %v", got)
	}
	// Every API search is audited by kind; each result has its read row.
	rows := auditOf(t, e, "coach.angered", 0)
	searches, results := 0, 0
	for _, a := range rows {
		if a.Action == api.AuditSearch {
			searches++
			if strings.Contains(a.Detail, "berg") || strings.Contains(a.Detail, pnr[:8]) {
				t.Errorf("the search text is in the audit log: %+v", a)
			}
		}
		if a.Action == store.AuditReadPersonalData && a.CaseID == alva.CaseID && strings.Contains(a.Detail, `"via": "api"`) {
			results++
		}
	}
	if searches < 15 || results < 9 {
		t.Errorf("%d searches and %d result reads audited", searches, results)
	}
}

// otherNumber is a valid identity number differing from canonical.
func otherNumber(canonical string) string {
	for {
		n := personalNumber()
		if n != canonical {
			return n
		}
	}
}

// Protected identities stay out of every search but their assignee's.
func TestProtectedHiddenInSearch(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")
	pnr := personalNumber()
	hidden := startNamed(t, coach, pnr, "Siri", "Skyddadsson", true)
	for _, who := range []string{"team.angered", "counsellor.angered", "admin"} {
		c := e.signIn(t, who)
		for _, q := range []string{pnr, tenDigit(pnr), hidden.CaseID, "skyddad", "siri"} {
			for _, path := range []string{"/caseload?q=", "/api/v1/pathways?q="} {
				r := c.must(c.get(path+url.QueryEscape(q)), http.StatusOK)
				// The page echoes q in its search field: look for the case's link.
				if contains(r.Body, "/pathways/"+hidden.CaseID) || contains(r.Body, `"case_id":"`+hidden.CaseID) || contains(r.Body, "Skyddadsson") {
					t.Errorf("%s finds the protected identity by %q in %s", who, q, path)
				}
			}
		}
		if r := c.must(c.get("/caseload"), http.StatusOK); contains(r.Body, "Skyddadsson") {
			t.Errorf("%s sees the protected name in the caseload", who)
		}
	}
	// Its assignee finds it and sees the name.
	for _, q := range []string{tenDigit(pnr), "skyddad"} {
		if r := coach.must(coach.get("/caseload?q="+url.QueryEscape(q)), http.StatusOK); !contains(r.Body, "Siri Skyddadsson") {
			t.Errorf("the assignee does not find the person by %q", q)
		}
	}
}
