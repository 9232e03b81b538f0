package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/logging"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// encryptedColumns are the columns that hold personal data encrypted at
// rest (keyring.Seal). The database scan skips them, and runs only once at
// least one of them exists: before that, identity numbers and names sit in
// plain columns by design and the scan would only report that.
var encryptedColumns = map[string]bool{
	"participants.personal_number_enc": true,
	"participants.given_name_enc":      true,
	"participants.family_name_enc":     true,
	"participants.email_enc":           true,
	"participants.phone_enc":           true,
	"timeline.summary_enc":             true,
	"timeline.data_enc":                true,
}

// privacyRig is a deployment whose worker, client and API log into one
// buffer, driven through the HTTP API as staff would.
type privacyRig struct {
	ts   *testsystem.System
	raw  client.Client // sees payloads as Temporal stores them
	logs *testenv.SyncBuffer
	srv  *httptest.Server
}

// newPrivacyRig builds the rig; encrypted false switches the codec off, to
// show that the scan catches what it is there to catch.
func newPrivacyRig(t *testing.T, encrypted bool) *privacyRig {
	t.Helper()
	ts := testsystem.New(t, testsystem.Options{NoWorker: true})
	r := &privacyRig{ts: ts, logs: &testenv.SyncBuffer{}}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(r.logs), zap.DebugLevel))

	opts := client.Options{Logger: logging.NewTemporal(log.Named("worker"))}
	if encrypted {
		codec.Apply(&opts, testenv.Keyring(t))
	}
	tc := testenv.DialTemporal(t, opts)
	r.raw = testenv.DialTemporal(t, client.Options{})

	w := sdkworker.New(tc, ts.TaskQueue, sdkworker.Options{})
	worker.RegisterPathway(w, ts.Steps, ts.Pool, ts.Keys, ts.Deps)
	worker.RegisterSteps(w, ts.Steps, ts.Deps)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	cs := &cases.Service{Pool: ts.Pool, Temporal: tc, TaskQueue: ts.TaskQueue, Programmes: ts.Programmes, SecondsPerDay: 0.05, Keys: ts.Keys}
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: tc, Log: log.Named("api"), Keys: testenv.Keyring(t),
		Cases: cs, UpdateTimeout: 30 * time.Second}
	r.srv = httptest.NewServer(s.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

// person is a participant whose every detail is a distinctive marker.
type person struct {
	PNR, Given, Family, Email string
	tag                       string
	texts                     []string // staff free text written about them
}

func newPerson(tag string) *person {
	pnr := personalNumber()
	u := fmt.Sprintf("%s%08X", strings.ToUpper(tag), rand.Uint32())
	return &person{PNR: pnr, tag: u, Given: "Givenmark" + u, Family: "Familymark" + u,
		Email: strings.ToLower("mail.mark" + u + "@example.se")}
}

// text returns a new free-text marker and remembers it.
func (p *person) text(kind string) string {
	s := fmt.Sprintf("%s-freetext-%s-%d", kind, p.tag, len(p.texts))
	p.texts = append(p.texts, s)
	return s
}

// markers are every form the person's details could leak in.
func (p *person) markers() []string {
	digits := strings.ReplaceAll(p.PNR, "-", "")
	m := []string{p.PNR, digits, digits[2:], p.PNR[2:], p.Given, p.Family, p.Email}
	return append(m, p.texts...)
}

type staffClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func (r *privacyRig) signIn(t *testing.T, id string) *staffClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &staffClient{t: t, base: r.srv.URL, http: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := c.http.PostForm(r.srv.URL+"/login", url.Values{"username": {id}, "password": {store.DevPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", id, resp.StatusCode)
	}
	return c
}

// post sends a JSON body and fails the test unless the answer is want.
func (c *staffClient) post(path string, body any, want int, out any) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatal(err)
		}
	}
}

// start refers the person to Angered and maps them.
func (r *privacyRig) start(t *testing.T, coach *staffClient, p *person) string {
	t.Helper()
	var started cases.Started
	coach.post("/api/v1/pathways", map[string]any{"personal_number": p.PNR, "given_name": p.Given, "family_name": p.Family,
		"email": p.Email, "district": "Angered", "source": "social_services", "consent": true}, http.StatusCreated, &started)
	base := "/api/v1/pathways/" + started.CaseID
	coach.post(base+"/first-contact", map[string]any{"channel": "meeting"}, http.StatusOK, nil)
	coach.post(base+"/mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1",
		"work_history": p.text("history"), "goals": p.text("goals"), "obstacles": []string{p.text("obstacle")}}, http.StatusOK, nil)
	return started.CaseID
}

func (r *privacyRig) waitRow(t *testing.T, caseID, what string, cond func(store.PathwayRow) bool) store.PathwayRow {
	t.Helper()
	return (&system{pool: r.ts.Pool}).waitRow(t, caseID, what, cond)
}

// TestPrivacyScan runs real pathways with a participant whose identity
// number, names, e-mail and every staff free text are markers, then reads
// back every Temporal history they produced as stored (no codec), the logs
// of the worker, client and API, and the database, and fails on any marker.
func TestPrivacyScan(t *testing.T) {
	r := newPrivacyRig(t, true)
	coach := r.signIn(t, "coach.angered")
	var people []*person

	// A pathway to work: a step confirmed with a reason, an outcome, two
	// follow-ups with notes.
	a := newPerson("a")
	people = append(people, a)
	caseA := r.start(t, coach, a)
	baseA := "/api/v1/pathways/" + caseA
	coach.post(baseA+"/plan", map[string]any{"target_ssyk": "8332", "steps": []map[string]any{
		{"id": "coach", "type": "manual", "duration_days": 10, "params": map[string]string{"description": "CV training"}}}}, http.StatusOK, nil)
	row := r.waitRow(t, caseA, "step running", func(r store.PathwayRow) bool { return r.CurrentStep != "" })
	coach.post(baseA+"/steps/"+row.CurrentStep+"/confirm-step", map[string]any{"outcome": "completed", "reason": a.text("confirm")}, http.StatusOK, nil)
	r.waitRow(t, caseA, "awaiting outcome", func(r store.PathwayRow) bool { return r.Phase == pathway.PhaseOutcome })
	coach.post(baseA+"/outcome", map[string]any{"kind": "work", "start_date": time.Now().Format(time.DateOnly), "employer": "Åkeri AB", "ssyk": "8332", "employer_kind": "regular", "employment_form": "unsubsidised"}, http.StatusOK, nil)
	for _, d := range []int{30, 90} {
		(&system{pool: r.ts.Pool}).waitTask(t, caseA, "follow_up")
		coach.post(baseA+"/follow-up", map[string]any{"day": d, "still_there": true, "note": a.text(fmt.Sprintf("followup%d", d))}, http.StatusOK, nil)
	}
	r.waitRow(t, caseA, "closed", func(r store.PathwayRow) bool { return r.Status == "closed" })

	// A pathway transferred with a reason, then closed with a note.
	b := newPerson("b")
	people = append(people, b)
	caseB := r.start(t, coach, b)
	coach.post("/api/v1/pathways/"+caseB+"/transfer", map[string]any{"to_centre": "gbg-hisingen", "reason": b.text("transfer")}, http.StatusOK, nil)
	r.waitRow(t, caseB, "transferred", func(r store.PathwayRow) bool { return r.CentreID == "gbg-hisingen" })
	other := r.signIn(t, "coach.hisingen")
	other.post("/api/v1/pathways/"+caseB+"/close", map[string]any{"reason": "moved", "note": b.text("close")}, http.StatusOK, nil)
	r.waitRow(t, caseB, "closed", func(r store.PathwayRow) bool { return r.Status == "closed" })

	// A refused action, so validator messages and failures are in the histories too.
	c := newPerson("c")
	people = append(people, c)
	caseC := r.start(t, coach, c)
	coach.post("/api/v1/pathways/"+caseC+"/mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1",
		"goals": c.text("late-goals")}, http.StatusUnprocessableEntity, nil)

	var markers []string
	for _, p := range people {
		markers = append(markers, p.markers()...)
	}
	t.Run("histories", func(t *testing.T) {
		n := 0
		for _, h := range r.histories(t, []string{caseA, caseB, caseC}) {
			n++
			for _, m := range markers {
				if bytes.Contains(h.data, []byte(m)) {
					t.Errorf("history of %s holds %q in plain text", h.workflowID, m)
				}
			}
		}
		t.Logf("%d workflow runs scanned", n)
	})
	// Every history on the dev server, of every test that ran before this
	// one (make test shares one server across packages): no identity number
	// in the format staff type it.
	t.Run("all-histories", func(t *testing.T) {
		n, bytesScanned := 0, 0
		for _, h := range r.allHistories(t) {
			n++
			bytesScanned += len(h.data)
			if loc := personalNumberPattern.Find(h.data); loc != nil {
				t.Errorf("history of %s holds an identity number in plain text: %s", h.workflowID, loc)
			}
			for _, m := range markers {
				if bytes.Contains(h.data, []byte(m)) {
					t.Errorf("history of %s holds %q in plain text", h.workflowID, m)
				}
			}
		}
		t.Logf("%d workflow runs, %d bytes scanned", n, bytesScanned)
	})
	t.Run("logs", func(t *testing.T) {
		logs := r.logs.String()
		if !strings.Contains(logs, caseA) {
			t.Fatal("no logs were captured: the scan would see nothing")
		}
		for _, m := range markers {
			if strings.Contains(logs, m) {
				t.Errorf("the logs hold %q", m)
			}
		}
		t.Logf("%d bytes of logs scanned", len(logs))
	})
	t.Run("database", func(t *testing.T) {
		scanDatabase(t, r.ts, markers)
	})
}

// TestPrivacyScanCatchesPlainPayloads (its name marks its task queue as
// plain, see plainQueue) shows the scan is not blind: with the
// codec switched off, the same pathway leaves the mapping in plain text in
// the history, and the history scan finds it.
func TestPrivacyScanCatchesPlainPayloads(t *testing.T) {
	r := newPrivacyRig(t, false)
	coach := r.signIn(t, "coach.angered")
	p := newPerson("plain")
	caseID := r.start(t, coach, p)
	found := map[string]bool{}
	for _, h := range r.histories(t, []string{caseID}) {
		for _, m := range p.markers() {
			if bytes.Contains(h.data, []byte(m)) {
				found[m] = true
			}
		}
	}
	for _, m := range p.texts {
		if !found[m] {
			t.Errorf("without the codec the scan did not find %q in the history", m)
		}
	}
	for _, form := range []string{p.PNR, p.PNR[2:], strings.Replace(p.PNR[2:], "-", "+", 1)} {
		if !personalNumberPattern.MatchString(`"` + form + `"`) {
			t.Errorf("the server-wide scan would miss the identity number form %s", form)
		}
	}
	// ... and would not take IDs for one.
	for _, id := range []string{"20886762-9715-4c1e-8a55-0123456789ab", "f870093-9603-", "2026-7KQ2M9X4"} {
		if personalNumberPattern.MatchString(`"` + id + `"`) {
			t.Errorf("the server-wide scan takes %s for an identity number", id)
		}
	}
}

type history struct {
	workflowID string
	data       []byte // every event, as protobuf and as protojson
}

// histories reads every workflow run on the rig's task queue as Temporal
// stores it. The pathways of the given cases must be among them.
func (r *privacyRig) histories(t *testing.T, caseIDs []string) []history {
	t.Helper()
	ctx := context.Background()
	var execs []*workflowservice.ListWorkflowExecutionsResponse
	deadline := time.Now().Add(30 * time.Second)
	for {
		execs = execs[:0]
		seen := map[string]bool{}
		var token []byte
		for {
			resp, err := r.raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
				Query: fmt.Sprintf("TaskQueue = '%s'", r.ts.TaskQueue), NextPageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			execs = append(execs, resp)
			for _, e := range resp.Executions {
				seen[e.GetExecution().GetWorkflowId()] = true
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		all := true
		for _, id := range caseIDs {
			all = all && seen[pathway.WorkflowID(id)]
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility lists %v, not every pathway of %v", seen, caseIDs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var out []history
	for _, resp := range execs {
		for _, e := range resp.Executions {
			h := history{workflowID: e.GetExecution().GetWorkflowId()}
			it := r.raw.GetWorkflowHistory(ctx, h.workflowID, e.GetExecution().GetRunId(), false, 0)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := proto.Marshal(ev)
				j, _ := protojson.Marshal(ev)
				h.data = append(append(h.data, b...), j...)
			}
			out = append(out, h)
		}
	}
	return out
}

// personalNumberPattern is an identity or co-ordination number with its
// separator (YYYYMMDD-NNNN, YYMMDD-NNNN, YYMMDD+NNNN) standing alone, not
// inside a UUID or other ID. Only the raw protobuf is searched: in
// ciphertext such a run of digits and a separator does not occur by chance.
var personalNumberPattern = regexp.MustCompile(`(?:^|[^0-9A-Za-z-])(?:19|20)?[0-9]{6}[-+][0-9]{4}(?:[^0-9A-Za-z-]|$)`)

// plainQueue marks the task queues of the test that switches the codec off
// on purpose; the server-wide scan leaves them out.
const plainQueue = "PlainPayloads"

// allHistories reads every workflow run in the namespace as stored (raw
// protobuf only), except those of the deliberately plain test.
func (r *privacyRig) allHistories(t *testing.T) []history {
	t.Helper()
	ctx := context.Background()
	var out []history
	var token []byte
	for {
		resp, err := r.raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.Executions {
			if strings.Contains(e.GetTaskQueue(), plainQueue) {
				continue
			}
			h := history{workflowID: e.GetExecution().GetWorkflowId()}
			it := r.raw.GetWorkflowHistory(ctx, h.workflowID, e.GetExecution().GetRunId(), false, 0)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				b, _ := proto.Marshal(ev)
				h.data = append(h.data, b...)
			}
			out = append(out, h)
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return out
		}
	}
}

// scanDatabase reads every column of every table but the encrypted ones,
// as text (bytea as escaped text, so plain bytes still match).
func scanDatabase(t *testing.T, ts *testsystem.System, markers []string) {
	ctx := context.Background()
	rows, err := ts.Pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, name, typ string }
	var cols []col
	landed := false
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		if encryptedColumns[c.table+"."+c.name] {
			landed = true
			continue
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !landed {
		t.Skip("no encrypted column (e.g. participants.personal_number_enc) exists yet: identity numbers, names and staff free text are still stored in plain columns; the database scan runs once encryption at rest lands")
	}
	scanned := 0
	for _, c := range cols {
		expr := pgx.Identifier{c.name}.Sanitize() + "::text"
		if c.typ == "bytea" {
			expr = "encode(" + pgx.Identifier{c.name}.Sanitize() + ", 'escape')"
		}
		q := fmt.Sprintf("SELECT %s FROM %s WHERE %s IS NOT NULL", expr, pgx.Identifier{c.table}.Sanitize(), pgx.Identifier{c.name}.Sanitize())
		vals, err := ts.Pool.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.name, err)
		}
		for vals.Next() {
			var v string
			if err := vals.Scan(&v); err != nil {
				t.Fatal(err)
			}
			scanned++
			for _, m := range markers {
				if strings.Contains(v, m) {
					t.Errorf("%s.%s holds %q in plain text", c.table, c.name, m)
				}
			}
		}
		vals.Close()
		if err := vals.Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d columns, %d values scanned", len(cols), scanned)
}
