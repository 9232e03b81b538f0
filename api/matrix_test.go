package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// accessTable is every route's access rule, one line per route and group of
// people. The columns are the kind of case (or centre) the request is about:
//
//   - own centre: a case of the person's own centre (or, for routes about a
//     centre rather than a case, their own centre);
//   - other centre: a case of another centre (or another centre);
//   - protected, theirs: a case with a protected identity assigned to them;
//   - protected, not theirs: a protected-identity case of their centre
//     assigned to a colleague.
//
// A route that is about neither a case nor a centre has one answer, under
// "own centre". Who: coach, broker, officer, counsellor, team lead, manager,
// admin, signed out; "centre staff" is the first five, "staff" everyone
// signed in, "everyone" all eight. Answers:
//
//   - allowed: the access rules let the request through (it may still be
//     refused for its content, e.g. 422, or 503 when no worker runs);
//   - refused: 403;
//   - not found: 404, as if the case did not exist;
//   - sign in: 401 from the API, a redirect to the sign-in page from the console.
//
// A route the router serves that is missing here fails the test.
const accessTable = `
route                                                | who                                    | own centre | other centre | protected, theirs | protected, not theirs
GET  /healthz                                        | everyone                               | allowed
GET  /readyz                                         | everyone                               | allowed
GET  /metrics                                        | everyone                               | allowed
GET  /api/openapi.json                               | everyone                               | allowed
GET  /login                                          | everyone                               | allowed
POST /login                                          | everyone                               | allowed
POST /logout                                         | everyone                               | allowed
GET  /auth/oidc/start                                | everyone                               | not found
GET  /auth/oidc/callback                             | everyone                               | not found
GET  /static/*                                       | everyone                               | allowed
GET  /tillganglighet                                 | everyone                               | allowed

GET  /api/v1/me                                      | staff                                  | allowed
GET  /api/v1/me                                      | signed out                             | sign in
GET  /api/v1/centres                                 | staff                                  | allowed
GET  /api/v1/centres                                 | signed out                             | sign in
GET  /api/v1/staff                                   | staff                                  | allowed
GET  /api/v1/staff                                   | signed out                             | sign in
GET  /api/v1/pathways                                | centre staff                           | allowed    | refused
GET  /api/v1/pathways                                | manager, admin                         | allowed    | allowed
GET  /api/v1/pathways                                | signed out                             | sign in    | sign in
POST /api/v1/pathways                                | coach, officer, counsellor, team lead  | allowed    | refused
POST /api/v1/pathways                                | admin                                  | allowed    | allowed
POST /api/v1/pathways                                | broker, manager                        | refused    | refused
POST /api/v1/pathways                                | signed out                             | sign in    | sign in
GET  /api/v1/pathways/{case}                         | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}                         | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}                         | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/timeline                | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}/timeline                | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}/timeline                | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/participant             | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}/participant             | admin                                  | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}/participant             | manager                                | refused    | refused      | refused           | not found
GET  /api/v1/pathways/{case}/participant             | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/tasks                   | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}/tasks                   | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}/tasks                   | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/matches                 | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}/matches                 | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}/matches                 | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/courses                 | centre staff                           | allowed    | refused      | allowed           | not found
GET  /api/v1/pathways/{case}/courses                 | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/pathways/{case}/courses                 | signed out                             | sign in    | sign in      | sign in           | sign in
POST /api/v1/pathways/{case}/steps/{step}/confirm    | centre staff                           | allowed    | refused      | allowed           | not found
POST /api/v1/pathways/{case}/steps/{step}/confirm    | admin                                  | allowed    | allowed      | allowed           | not found
POST /api/v1/pathways/{case}/steps/{step}/confirm    | manager                                | refused    | refused      | refused           | refused
POST /api/v1/pathways/{case}/steps/{step}/confirm    | signed out                             | sign in    | sign in      | sign in           | sign in
POST /api/v1/pathways/{case}/{action} (pause)        | coach, team lead                       | allowed    | refused      | allowed           | not found
POST /api/v1/pathways/{case}/{action} (pause)        | admin                                  | allowed    | allowed      | allowed           | not found
POST /api/v1/pathways/{case}/{action} (pause)        | broker, officer, counsellor, manager   | refused    | refused      | refused           | refused
POST /api/v1/pathways/{case}/{action} (pause)        | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/pathways/{case}/actions/{id}            | centre staff                           | not found  | refused      | not found         | not found
GET  /api/v1/pathways/{case}/actions/{id}            | manager, admin                         | not found  | not found    | not found         | not found
GET  /api/v1/pathways/{case}/actions/{id}            | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/tasks                                   | centre staff                           | allowed    | refused
GET  /api/v1/tasks                                   | manager, admin                         | allowed    | allowed
GET  /api/v1/tasks                                   | signed out                             | sign in    | sign in
GET  /api/v1/employers                               | staff                                  | allowed
GET  /api/v1/employers                               | signed out                             | sign in
GET  /api/v1/recruitment-needs                       | staff                                  | allowed
GET  /api/v1/recruitment-needs                       | signed out                             | sign in
POST /api/v1/recruitment-needs                       | broker, team lead                      | allowed    | refused
POST /api/v1/recruitment-needs                       | admin                                  | allowed    | allowed
POST /api/v1/recruitment-needs                       | coach, officer, counsellor, manager    | refused    | refused
POST /api/v1/recruitment-needs                       | signed out                             | sign in    | sign in
GET  /api/v1/recruitment-needs/{need}                | staff                                  | allowed
GET  /api/v1/recruitment-needs/{need}                | signed out                             | sign in
POST /api/v1/recruitment-needs/{need}/status         | broker, team lead, admin               | allowed
POST /api/v1/recruitment-needs/{need}/status         | coach, officer, counsellor, manager    | refused
POST /api/v1/recruitment-needs/{need}/status         | signed out                             | sign in
GET  /api/v1/audit                                   | team lead                              | allowed    | refused      | allowed           | not found
GET  /api/v1/audit                                   | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /api/v1/audit                                   | coach, broker, officer, counsellor     | refused    | refused      | refused           | refused
GET  /api/v1/audit                                   | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/outcomes                                | staff                                  | allowed
GET  /api/v1/outcomes                                | signed out                             | sign in
GET  /api/v1/escalations                             | staff                                  | allowed
GET  /api/v1/escalations                             | signed out                             | sign in
POST /api/v1/escalations                             | coach, team lead                       | allowed    | refused      | allowed           | not found
POST /api/v1/escalations                             | manager, admin                         | allowed    | allowed      | allowed           | not found
POST /api/v1/escalations                             | broker, officer, counsellor            | refused    | refused      | refused           | refused
POST /api/v1/escalations                             | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /api/v1/escalations/manual/{id}                 | coach, team lead, manager, admin       | not found
GET  /api/v1/escalations/manual/{id}                 | broker, officer, counsellor            | refused
GET  /api/v1/escalations/manual/{id}                 | signed out                             | sign in
POST /api/v1/codec/decode                            | centre staff                           | allowed    | refused      | allowed           | refused
POST /api/v1/codec/decode                            | admin                                  | allowed    | allowed      | allowed           | refused
POST /api/v1/codec/decode                            | manager                                | refused    | refused      | refused           | refused
POST /api/v1/codec/decode                            | signed out                             | sign in    | sign in      | sign in           | sign in
POST /api/v1/codec/encode                            | staff                                  | allowed
POST /api/v1/codec/encode                            | signed out                             | sign in
OPTIONS /api/v1/codec/decode (from the Web UI)       | everyone                               | allowed
OPTIONS /api/v1/codec/encode (from the Web UI)       | everyone                               | allowed
GET  /api/v1/escalations/stats                       | staff                                  | allowed
GET  /api/v1/escalations/stats                       | signed out                             | sign in
POST /api/v1/register-extracts                       | team lead, admin                       | allowed
POST /api/v1/register-extracts                       | coach, broker, officer, counsellor, manager | refused
POST /api/v1/register-extracts                       | signed out                             | sign in
PATCH /api/v1/participants/{id}                      | team lead, admin                       | not found
PATCH /api/v1/participants/{id}                      | coach, broker, officer, counsellor, manager | refused
PATCH /api/v1/participants/{id}                      | signed out                             | sign in
POST /api/v1/staff/{staff}/sign-out-everywhere       | admin                                  | allowed
POST /api/v1/staff/{staff}/sign-out-everywhere       | centre staff, manager                  | refused
POST /api/v1/staff/{staff}/sign-out-everywhere       | signed out                             | sign in

GET  /                                               | staff                                  | allowed
GET  /                                               | signed out                             | sign in
GET  /caseload                                       | centre staff                           | allowed    | refused
GET  /caseload                                       | manager, admin                         | allowed    | allowed
GET  /caseload                                       | signed out                             | sign in    | sign in
GET  /pathways/new                                   | staff                                  | allowed
GET  /pathways/new                                   | signed out                             | sign in
POST /pathways/new                                   | coach, officer, counsellor, team lead  | allowed    | refused
POST /pathways/new                                   | admin                                  | allowed    | allowed
POST /pathways/new                                   | broker, manager                        | refused    | refused
POST /pathways/new                                   | signed out                             | sign in    | sign in
GET  /pathways/{case}                                | centre staff                           | allowed    | refused      | allowed           | not found
GET  /pathways/{case}                                | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /pathways/{case}                                | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /pathways/{case}/plan                           | centre staff                           | allowed    | refused      | allowed           | not found
GET  /pathways/{case}/plan                           | manager, admin                         | allowed    | allowed      | allowed           | not found
GET  /pathways/{case}/plan                           | signed out                             | sign in    | sign in      | sign in           | sign in
POST /pathways/{case}/plan                           | coach, officer, counsellor, team lead  | allowed    | refused      | allowed           | not found
POST /pathways/{case}/plan                           | admin                                  | allowed    | allowed      | allowed           | not found
POST /pathways/{case}/plan                           | broker, manager                        | refused    | refused      | refused           | refused
POST /pathways/{case}/plan                           | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /pathways/{case}/handlingsplan                  | centre staff                           | allowed    | refused      | allowed           | not found
GET  /pathways/{case}/handlingsplan                  | admin                                  | allowed    | allowed      | allowed           | not found
GET  /pathways/{case}/handlingsplan                  | manager                                | refused    | refused      | refused           | not found
GET  /pathways/{case}/handlingsplan                  | signed out                             | sign in    | sign in      | sign in           | sign in
POST /pathways/{case}/actions/{action} (pause)       | coach, team lead                       | allowed    | refused      | allowed           | not found
POST /pathways/{case}/actions/{action} (pause)       | admin                                  | allowed    | allowed      | allowed           | not found
POST /pathways/{case}/actions/{action} (pause)       | broker, officer, counsellor, manager   | refused    | refused      | refused           | refused
POST /pathways/{case}/actions/{action} (pause)       | signed out                             | sign in    | sign in      | sign in           | sign in
POST /pathways/{case}/steps/{step}/confirm           | centre staff                           | allowed    | refused      | allowed           | not found
POST /pathways/{case}/steps/{step}/confirm           | admin                                  | allowed    | allowed      | allowed           | not found
POST /pathways/{case}/steps/{step}/confirm           | manager                                | refused    | refused      | refused           | refused
POST /pathways/{case}/steps/{step}/confirm           | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /tasks                                          | staff                                  | allowed
GET  /tasks                                          | signed out                             | sign in
GET  /employers                                      | staff                                  | allowed
GET  /employers                                      | signed out                             | sign in
GET  /outcomes                                       | staff                                  | allowed
GET  /outcomes                                       | signed out                             | sign in
GET  /forecast                                       | manager, admin                         | allowed
GET  /forecast                                       | coach, broker, officer, counsellor, team lead | refused
GET  /forecast                                       | signed out                             | sign in
GET  /escalations                                    | staff                                  | allowed
GET  /escalations                                    | signed out                             | sign in
POST /escalations                                    | coach, team lead                       | allowed    | refused      | allowed           | not found
POST /escalations                                    | manager, admin                         | allowed    | allowed      | allowed           | not found
POST /escalations                                    | broker, officer, counsellor            | refused    | refused      | refused           | refused
POST /escalations                                    | signed out                             | sign in    | sign in      | sign in           | sign in
GET  /import                                          | coach, officer, counsellor, team lead, admin | allowed
GET  /import                                          | broker, manager                        | refused
GET  /import                                          | signed out                             | sign in
POST /import                                          | coach, officer, counsellor, team lead, admin | allowed
POST /import                                          | broker, manager                        | refused
POST /import                                          | signed out                             | sign in
GET  /import/{id}                                     | coach, officer, counsellor, team lead, admin | not found
GET  /import/{id}                                     | broker, manager                        | refused
GET  /import/{id}                                     | signed out                             | sign in
POST /import/{id}/confirm                             | coach, officer, counsellor, team lead, admin | not found
POST /import/{id}/confirm                             | broker, manager                        | refused
POST /import/{id}/confirm                             | signed out                             | sign in
POST /import/{id}/discard                             | coach, officer, counsellor, team lead, admin | not found
POST /import/{id}/discard                             | broker, manager                        | refused
POST /import/{id}/discard                             | signed out                             | sign in
GET  /import/{id}/report                              | coach, officer, counsellor, team lead, admin | not found
GET  /import/{id}/report                              | broker, manager                        | refused
GET  /import/{id}/report                              | signed out                             | sign in
GET  /register-extract                               | team lead, admin                       | allowed
GET  /register-extract                               | coach, broker, officer, counsellor, manager | refused
GET  /register-extract                               | signed out                             | sign in
POST /register-extract                               | team lead, admin                       | allowed
POST /register-extract                               | coach, broker, officer, counsellor, manager | refused
POST /register-extract                               | signed out                             | sign in
POST /register-extract/rectify                       | team lead, admin                       | allowed
POST /register-extract/rectify                       | coach, broker, officer, counsellor, manager | refused
POST /register-extract/rectify                       | signed out                             | sign in
POST /language                                       | staff                                  | allowed
POST /language                                       | signed out                             | sign in
`

// matrixKeys encrypt the codec server's probe payloads.
var matrixKeys *keyring.Ring

// The dev accounts that play each role; "own centre" is the account's centre.
var matrixAccounts = map[string]string{
	"coach": "coach.angered", "broker": "broker.angered", "officer": "officer.angered", "counsellor": "counsellor.angered",
	"team lead": "team.angered", "manager": "manager", "admin": "admin", "signed out": "",
}

var matrixGroups = map[string][]string{
	"centre staff": {"coach", "broker", "officer", "counsellor", "team lead"},
	"staff":        {"coach", "broker", "officer", "counsellor", "team lead", "manager", "admin"},
	"everyone":     {"coach", "broker", "officer", "counsellor", "team lead", "manager", "admin", "signed out"},
}

var matrixPlaces = []string{"own centre", "other centre", "protected, theirs", "protected, not theirs"}

// parseAccessTable reads the table into route → role → place → answer.
func parseAccessTable(t *testing.T) map[string]map[string]map[string]string {
	out := map[string]map[string]map[string]string{}
	lines := strings.Split(strings.TrimSpace(accessTable), "\n")
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "|")
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		f := strings.Fields(cols[0])
		if len(f) < 2 || len(cols) < 3 {
			t.Fatalf("access table: cannot read %q", line)
		}
		route := f[0] + " " + f[1]
		var roles []string
		for _, who := range strings.Split(cols[1], ",") {
			who = strings.TrimSpace(who)
			if g, ok := matrixGroups[who]; ok {
				roles = append(roles, g...)
			} else if _, ok := matrixAccounts[who]; ok {
				roles = append(roles, who)
			} else {
				t.Fatalf("access table: unknown role %q in %q", who, line)
			}
		}
		if out[route] == nil {
			out[route] = map[string]map[string]string{}
		}
		for _, role := range roles {
			if out[route][role] != nil {
				t.Fatalf("access table: %s appears twice for %s", route, role)
			}
			out[route][role] = map[string]string{}
			for i, place := range matrixPlaces {
				if 2+i < len(cols) && cols[2+i] != "" {
					out[route][role][place] = cols[2+i]
				}
			}
		}
	}
	return out
}

// matrixWorld is the cases the matrix asks about.
type matrixWorld struct {
	centre    map[string]string            // role → own centre
	cases     map[string]map[string]string // role → place → case ID
	otherCase string
}

func insertCase(t *testing.T, e *env, centre string, protected bool, assignee string) string {
	t.Helper()
	ctx := context.Background()
	pnr := personalNumber()
	num, err := identity.Parse(pnr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caseID := fmt.Sprintf("2026-M%07d", seq.Add(1))
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		pid := uuid.New()
		if _, err := tx.Exec(ctx, `INSERT INTO participants (id, personal_number, given_name, family_name, district, birth_date, protected_identity)
			VALUES ($1,$2,'Matrix','Person','Angered',$3,$4)`, pid, num.Canonical+caseID, num.BirthDate, protected); err != nil {
			return err
		}
		return store.InsertPathway(ctx, tx, store.NewPathway{CaseID: caseID, ParticipantID: pid, CentreID: centre, Programme: "adult",
			ProgrammeVersion: 1, Track: "adult", ReferralSource: "social_services", ReferredAt: time.Now(), Assignee: assignee})
	})
	if err != nil {
		t.Fatal(err)
	}
	return caseID
}

func newMatrixWorld(t *testing.T, e *env) *matrixWorld {
	ctx := context.Background()
	w := &matrixWorld{centre: map[string]string{}, cases: map[string]map[string]string{}}
	open := map[string]string{}
	colleague := map[string]string{}
	for role, id := range matrixAccounts {
		if id == "" {
			continue
		}
		st, err := store.GetStaff(ctx, e.pool, id)
		if err != nil {
			t.Fatal(err)
		}
		w.centre[role] = st.CentreID
	}
	w.centre["signed out"] = "gbg-angered"
	for _, c := range []string{"gbg-angered", "gbg-centrum-vaster"} {
		// A colleague who is not one of the probing accounts holds the protected case "not theirs".
		colleague[c] = "matrix." + c
		if err := store.UpsertStaff(ctx, e.pool, store.Staff{ID: colleague[c], Name: "Matrix colleague", Email: colleague[c] + "@pathways.test",
			CentreID: c, Roles: []string{store.RoleJobCoach}, Active: true}); err != nil {
			t.Fatal(err)
		}
		open[c] = insertCase(t, e, c, false, "")
	}
	w.otherCase = insertCase(t, e, "gbg-hisingen", false, "")
	for role, id := range matrixAccounts {
		c := w.centre[role]
		w.cases[role] = map[string]string{"own centre": open[c], "other centre": w.otherCase,
			"protected, not theirs": insertCase(t, e, c, true, colleague[c])}
		if id != "" {
			w.cases[role]["protected, theirs"] = insertCase(t, e, c, true, id)
		} else {
			w.cases[role]["protected, theirs"] = w.cases[role]["protected, not theirs"]
		}
	}
	return w
}

// placeOf says what a route's place is about: a case, a centre, or nothing.
func placeOf(route string) string {
	switch {
	case strings.Contains(route, "{case}"), route == "GET /api/v1/audit", route == "POST /api/v1/codec/decode", route == "POST /api/v1/escalations", route == "POST /escalations":
		return "case"
	case route == "GET /api/v1/pathways", route == "POST /api/v1/pathways", route == "GET /api/v1/tasks",
		route == "POST /api/v1/recruitment-needs", route == "GET /caseload", route == "POST /pathways/new":
		return "centre"
	}
	return ""
}

// matrixRequest builds the request a route is probed with: bodies that pass
// the access rules and are then refused or harmless, so no probe changes
// what the next one sees.
func matrixRequest(route, caseID, centre, csrf string) (method, path string, body io.Reader, contentType string) {
	method, pattern, _ := strings.Cut(route, " ")
	path = strings.NewReplacer("{case}", caseID, "{step}", "no-such-step", "{action}", "pause",
		"{staff}", "matrix.gbg-angered", "{need}", "need-usk-hisingen", "{id}", "00000000-0000-4000-8000-000000000000", "*", "style.css").Replace(pattern)
	js := func(v any) (io.Reader, string) {
		b, _ := json.Marshal(v)
		return bytes.NewReader(b), "application/json"
	}
	form := func(v url.Values) (io.Reader, string) {
		v.Set("csrf", csrf)
		return strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	}
	referral := map[string]any{"personal_number": personalNumber(), "given_name": "Matrix", "family_name": "Person", "district": "Angered",
		"centre_id": centre, "source": "social_services", "consent": false}
	switch route {
	case "GET /api/v1/pathways", "GET /api/v1/tasks", "GET /caseload":
		path += "?centre=" + centre
	case "GET /api/v1/audit":
		path += "?case=" + caseID
	case "POST /api/v1/pathways":
		body, contentType = js(referral)
	case "POST /pathways/new":
		body, contentType = form(url.Values{"personal_number": {personalNumber()}, "given_name": {"Matrix"}, "family_name": {"Person"},
			"district": {"Angered"}, "centre_id": {centre}, "source": {"social_services"}})
	case "POST /api/v1/pathways/{case}/steps/{step}/confirm":
		body, contentType = js(map[string]any{"outcome": "completed"})
	case "POST /api/v1/pathways/{case}/{action}":
		body, contentType = js(map[string]any{"reason": "matrix"})
	case "POST /api/v1/recruitment-needs":
		body, contentType = js(map[string]any{"employer_id": "emp-vasttrafik", "centre_id": centre, "ssyk": "8331", "title": "Matrix", "positions": 1, "start_date": "2030-01-01"})
	case "POST /api/v1/recruitment-needs/{need}/status":
		body, contentType = js(map[string]any{"status": "matrix"})
	case "POST /pathways/{case}/plan":
		body, contentType = form(url.Values{"target_ssyk": {"matrix"}})
	case "POST /api/v1/escalations":
		body, contentType = js(map[string]any{"case_ids": []string{caseID}, "reason": ""})
	case "POST /api/v1/staff/{staff}/sign-out-everywhere":
		body, contentType = js(map[string]any{})
	case "POST /pathways/{case}/actions/{action}":
		body, contentType = form(url.Values{"reason": {"matrix"}})
	case "POST /pathways/{case}/steps/{step}/confirm":
		body, contentType = form(url.Values{"outcome": {"completed"}})
	case "POST /escalations":
		body, contentType = form(url.Values{"case_ids": {caseID}, "reason": {""}})
	case "POST /api/v1/register-extracts":
		body, contentType = js(map[string]any{"personal_number": "not a number"})
	case "PATCH /api/v1/participants/{id}":
		body, contentType = js(map[string]any{"given_name": "Matrix"})
	case "POST /register-extract":
		body, contentType = form(url.Values{"personal_number": {"not a number"}})
	case "POST /register-extract/rectify":
		body, contentType = form(url.Values{"participant_id": {"00000000-0000-4000-8000-000000000000"}, "given_name": {"Matrix"}})
	case "POST /api/v1/codec/decode", "POST /api/v1/codec/encode":
		// A payload as the worker wrote it for the case's workflow.
		c := codec.New(matrixKeys).WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: pathway.WorkflowID(caseID)})
		out, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"matrix"`)}})
		if err != nil {
			panic(err)
		}
		b, _ := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		body, contentType = bytes.NewReader(b), "application/json"
	case "POST /language":
		// Forgetting the choice leaves every later probe as it was.
		body, contentType = form(url.Values{"language": {""}, "next": {"/caseload"}})
	case "POST /logout", "POST /import", "POST /import/{id}/confirm", "POST /import/{id}/discard":
		body, contentType = form(url.Values{})
	case "POST /login":
		body, contentType = form(url.Values{"username": {"matrix.gbg-angered"}, "password": {"wrong"}})
	}
	return method, path, body, contentType
}

// verdict names what an answer means under the access rules.
func verdict(route string, status int, location string) string {
	_, pattern, _ := strings.Cut(route, " ")
	switch {
	case status == http.StatusUnauthorized && strings.HasPrefix(pattern, "/api/v1/"):
		return "sign in"
	case status == http.StatusSeeOther && strings.HasPrefix(location, "/login") && route != "POST /logout":
		return "sign in"
	case status == http.StatusForbidden:
		return "refused"
	case status == http.StatusNotFound:
		return "not found"
	case status >= 500 && status != http.StatusServiceUnavailable:
		return fmt.Sprintf("broken (%d)", status)
	}
	return "allowed"
}

func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, false)
	e.api.Auth.Throttle = auth.Throttle{} // the probes of POST /login must not lock the address
	matrixKeys = e.api.Keys
	table := parseAccessTable(t)
	w := newMatrixWorld(t, e)

	// Every route the router serves, from the router itself.
	var served []string
	err := chi.Walk(e.api.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served = append(served, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(served)
	inRouter := map[string]bool{}
	for _, r := range served {
		inRouter[r] = true
		if table[r] == nil {
			t.Errorf("%s has no line in the access table: add who may use it", r)
		}
	}
	for r := range table {
		if !inRouter[r] {
			t.Errorf("the access table names %s, which the router does not serve", r)
		}
	}

	clients := map[string]*client{}
	tokens := map[string]string{}
	signIn := func(role string) {
		if id := matrixAccounts[role]; id != "" {
			clients[role] = e.signIn(t, id)
			tokens[role] = clients[role].csrf()
		} else {
			clients[role] = e.anon(t)
		}
	}
	for role := range matrixAccounts {
		signIn(role)
	}
	probes := 0
	for _, route := range served {
		for role, places := range table[route] {
			if len(places) == 0 {
				t.Errorf("%s for %s: no answer", route, role)
				continue
			}
			kind := placeOf(route)
			if kind == "case" && len(places) != len(matrixPlaces) {
				t.Errorf("%s for %s: a route about a case needs an answer for each of %v", route, role, matrixPlaces)
			}
			if kind == "" && len(places) != 1 {
				t.Errorf("%s for %s: a route about neither a case nor a centre has one answer", route, role)
			}
			for _, place := range matrixPlaces {
				want, ok := places[place]
				if !ok {
					continue
				}
				caseID, centre := w.cases[role][place], w.centre[role]
				if place == "other centre" {
					centre = "gbg-hisingen"
				}
				method, path, body, ct := matrixRequest(route, caseID, centre, tokens[role])
				req, _ := http.NewRequest(method, e.srv.URL+path, body)
				if ct != "" {
					req.Header.Set("Content-Type", ct)
				}
				if method == http.MethodOptions { // a CORS preflight, as the Temporal Web UI sends it
					req.Header.Set("Origin", strings.TrimRight(e.api.Config.Temporal.UIURL, "/"))
					req.Header.Set("Access-Control-Request-Method", http.MethodPost)
				}
				c := clients[role]
				if route == "POST /login" {
					c = e.anon(t) // a sign-in attempt must not replace the role's session
				}
				resp, err := c.http.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", route, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				probes++
				if got := verdict(route, resp.StatusCode, resp.Header.Get("Location")); got != want {
					t.Errorf("%s as %s, %s: %s (%d %.200s), want %s", route, role, place, got, resp.StatusCode, b, want)
				}
				if route == "POST /logout" {
					signIn(role) // the probe ended the session
				}
			}
		}
	}
	t.Logf("%d routes, %d probes", len(served), probes)
}
