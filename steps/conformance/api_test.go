package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/store"
)

// TestEveryStepActionReachableThroughAPI: every action a registered step
// type declares (steps.Action) is taken through the API route
// POST /api/v1/pathways/{case}/steps/{step}/{action} on a running step of
// that type, on the dev server against the simulators, and the step ends
// completed. A job track's internship actions answer 409 not_yet during its
// course; the course is then finished by the education simulator, whose
// callback the API relays, and the actions go through.
func TestEveryStepActionReachableThroughAPI(t *testing.T) {
	ts := testsystem.New(t, testsystem.Options{})
	srv := httptest.NewServer((&api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Keys: ts.Keys,
		Cases: ts.Cases(0), UpdateTimeout: 30 * time.Second}).Handler())
	t.Cleanup(srv.Close)
	ts.SetPublicURL(srv.URL)
	coach := signIn(t, srv.URL, "coach.angered")
	ctx := context.Background()

	courses, err := ts.Clients.Education.SearchCourses(ctx, integrations.CourseQuery{})
	if err != nil || len(courses) == 0 {
		t.Fatalf("simulator courses: %v", err)
	}
	course := strings.Split(courses[0].Code, "-")[1]
	needs, err := ts.Clients.Employers.RecruitmentNeeds(ctx, integrations.NeedQuery{})
	if err != nil || len(needs) == 0 {
		t.Fatalf("simulator needs: %v", err)
	}
	need := needs[0]

	var reached, declared atomic.Int64
	// After every (parallel) subtest: each declared action was reached.
	t.Cleanup(func() {
		if reached.Load() != declared.Load() {
			t.Errorf("%d of %d declared actions reached through the API", reached.Load(), declared.Load())
		}
		t.Logf("%d declared step actions reached through the API", reached.Load())
	})
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		actions := steps.ActionsOf(typ)
		if len(actions) == 0 {
			t.Skip("declares no actions")
		}
		declared.Add(int64(len(actions)))
		t.Parallel()
		started, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: pnr(), GivenName: "Steg", FamilyName: "Åtgärd",
			District: "Angered", Source: pathway.SourceSocialServices, Consent: true, Via: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]string{}
		for k, v := range c.Example() {
			switch k {
			case "course_code", "workshop_code":
				v = course
			case "employer":
				v = need.EmployerID
			}
			params[k] = v
		}
		// Real time (no demo clock): nothing ends by itself meanwhile.
		in := steps.Input{CaseID: started.CaseID, StepID: "r1-s1", Type: typ.Name(), Params: params, DurationDays: 200,
			MunicipalityCode: need.Municipality, NeedID: need.ID, TargetSSYK: need.SSYK}
		run, err := ts.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: pathway.StepWorkflowID(in.CaseID, in.StepID),
			TaskQueue: ts.TaskQueue}, steps.WorkflowName(typ.Name()), in)
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/pathways/" + in.CaseID + "/steps/" + in.StepID + "/"
		if hasSideEffects(typ) {
			waitUntil(t, "the step's first outside call", func() bool { return len(simCreated(ts, in.CaseID)) > 0 })
		}
		if typ.Name() == "jobtrack" {
			// During the course: not yet.
			r := coach.post(path+actions[0].Name, example(actions[0]), "k-early")
			if r.status != http.StatusConflict || !strings.Contains(r.body, "not_yet") {
				t.Fatalf("%s during the course: %d %s, want 409 not_yet", actions[0].Name, r.status, r.body)
			}
			enrolment := simCreated(ts, in.CaseID)[0]
			resp, err := http.Post(ts.SimURL+"/education/admin/enrolments/"+enrolment+"/complete", "application/json", strings.NewReader(`{"status":"completed"}`))
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("complete the course: %v %v", err, resp)
			}
			resp.Body.Close()
			waitUntil(t, "the internship's agreement", func() bool { return len(simCreated(ts, in.CaseID)) > 1 })
		}
		for i, a := range actions {
			var r reply
			waitUntil(t, a.Name+" accepted", func() bool {
				r = coach.post(path+a.Name, example(a), fmt.Sprintf("k%d", i))
				return r.status != http.StatusConflict || !strings.Contains(r.body, "not_yet")
			})
			var done api.ActionResult
			if err := json.Unmarshal([]byte(r.body), &done); r.status != http.StatusOK || err != nil || done.State != "completed" {
				t.Fatalf("%s: %d %s", a.Name, r.status, r.body)
			}
			// The status link answers for it too.
			if st := coach.get("/api/v1/pathways/" + in.CaseID + "/actions/" + done.ActionID); st.status != http.StatusOK || !strings.Contains(st.body, `"state":"completed"`) {
				t.Fatalf("status of %s: %d %s", done.ActionID, st.status, st.body)
			}
			reached.Add(1)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		var res steps.Result
		if err := run.Get(wctx, &res); err != nil || res.Outcome != pathway.StepCompleted {
			t.Fatalf("after its actions the step ended %+v, %v; want completed", res, err)
		}
	})

}

// example is a valid input of an action: each choice's first option.
func example(a steps.Action) map[string]string {
	in := map[string]string{}
	for _, f := range a.Fields {
		if len(f.Options) > 0 {
			in[f.Name] = f.Options[0]
		}
	}
	return in
}

// simCreated lists the enrolments and agreements the simulators hold for a case.
func simCreated(ts *testsystem.System, caseID string) []string {
	var ids []string
	for _, e := range ts.Sim.Enrolments() {
		if e.CaseID == caseID {
			ids = append(ids, e.ID)
		}
	}
	for _, a := range ts.Sim.Agreements() {
		if a.CaseID == caseID {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 90 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	pnrSeq  atomic.Int64
	pnrBase = time.Now().UnixNano() % 900
)

// pnr is a valid identity number no other call in this process gives (up
// to 900 calls): parallel subtests share one registry.
func pnr() string {
	n := (pnrBase + pnrSeq.Add(1)) % 900
	nine := fmt.Sprintf("850412%03d", 100+n)
	return "19850412-" + nine[6:] + string(identity.CheckDigit(nine))
}

// apiClient is a signed-in staff member's HTTP client.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

type reply struct {
	status int
	body   string
}

func signIn(t *testing.T, base, id string) *apiClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	resp, err := c.http.PostForm(base+"/login", url.Values{"username": {id}, "password": {store.DevPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", id, resp.StatusCode)
	}
	return c
}

func (c *apiClient) get(path string) reply {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(out)}
}

func (c *apiClient) post(path string, body any, key string) reply {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(api.IdempotencyHeader, key)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(out)}
}
