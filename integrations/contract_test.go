package integrations_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/taxonomy"
)

const pnr = "199001012380" // a made-up number, never logged

type env struct {
	sim     *simulators.Sim
	srv     *httptest.Server
	smtp    string
	clients *integrations.Clients
	cfg     *config.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := simulators.New(7, nil)
	srv := httptest.NewServer(sim.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.ServeSMTP(ctx, ln); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		sim.Close()
	})
	cfg := &config.Config{}
	cfg.Systems = config.SystemsConfig{
		Timeout:        2 * time.Second,
		Education:      srv.URL + "/education",
		Employment:     srv.URL + "/employment",
		JobSearch:      srv.URL + "/jobsearch",
		JobSearchKey:   "test-api-key",
		Employers:      srv.URL + "/employers",
		SocialServices: srv.URL + "/social",
	}
	cfg.SMTP = config.SMTPConfig{Addr: ln.Addr().String(), From: "pathways@kommun.example"}
	return &env{sim: sim, srv: srv, smtp: ln.Addr().String(), clients: integrations.NewClients(cfg), cfg: cfg}
}

func (e *env) noDuplicates(t *testing.T) {
	t.Helper()
	if st := e.sim.Stats(); st.DuplicateSideEffects != 0 {
		t.Fatalf("simulator saw %d duplicate side effects", st.DuplicateSideEffects)
	}
}

func person() integrations.Person {
	return integrations.Person{PersonalNumber: pnr, GivenName: "Test", FamilyName: "Testsson", Email: "test@example.org"}
}

func TestEducationContract(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	edu := e.clients.Education

	courses, err := edu.SearchCourses(ctx, integrations.CourseQuery{Municipality: "1480", Form: "yrkesvux"})
	if err != nil {
		t.Fatal(err)
	}
	if len(courses) == 0 {
		t.Fatal("no yrkesvux courses in Göteborg")
	}
	for _, c := range courses {
		if c.Municipality != "1480" || c.Form != "yrkesvux" || c.Code == "" || c.Provider == "" || c.StartDate.IsZero() || c.PacePercent == 0 {
			t.Fatalf("course does not match the query or lacks fields: %+v", c)
		}
	}
	sfi, err := edu.SearchCourses(ctx, integrations.CourseQuery{Municipality: "1488", Form: "sfi", Text: "kurs C"})
	if err != nil || len(sfi) == 0 {
		t.Fatalf("SFI C in Trollhättan: %v %d", err, len(sfi))
	}

	req := integrations.EnrolRequest{CaseID: "C-1", CourseCode: courses[0].Code, Person: person()}
	a, err := edu.Enrol(ctx, "wf-1/enrol-1", req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := edu.Enrol(ctx, "wf-1/enrol-1", req)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID != b.ID || a.Status != integrations.EnrolmentActive {
		t.Fatalf("same key gave %+v and %+v", a, b)
	}
	if n := len(e.sim.Enrolments()); n != 1 {
		t.Fatalf("simulator holds %d enrolments, want 1", n)
	}
	recs := e.sim.Requests("education", "/education/enrolments", "POST")
	if len(recs) != 2 || recs[0].Replay || !recs[1].Replay || recs[1].IdempotencyKey != "wf-1/enrol-1" {
		t.Fatalf("request log: %+v", recs)
	}

	st, err := edu.Status(ctx, a.ID)
	if err != nil || st.Status != integrations.EnrolmentActive || st.CourseCode != req.CourseCode {
		t.Fatalf("status: %+v %v", st, err)
	}
	if err := edu.Withdraw(ctx, "wf-1/withdraw-1", a.ID, "moved"); err != nil {
		t.Fatal(err)
	}
	if err := edu.Withdraw(ctx, "wf-1/withdraw-1", a.ID, "moved"); err != nil {
		t.Fatal(err)
	}
	st, _ = edu.Status(ctx, a.ID)
	if st.Status != integrations.EnrolmentWithdrawn {
		t.Fatalf("after withdraw: %+v", st)
	}
	_, err = edu.Status(ctx, "enr-999999")
	if !integrations.IsRejected(err) {
		t.Fatalf("unknown enrolment: want Rejected, got %v", err)
	}
	_, err = edu.Enrol(ctx, "wf-1/enrol-x", integrations.EnrolRequest{CaseID: "C-1", CourseCode: "NOPE", Person: person()})
	var rej *integrations.Rejected
	if !errors.As(err, &rej) || rej.Status != 422 || !strings.Contains(rej.Reason, "unknown course") {
		t.Fatalf("unknown course: %v", err)
	}
	e.noDuplicates(t)
}

func TestEducationCompletionCallback(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []map[string]string
	var keys []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		got = append(got, m)
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
	}))
	defer cb.Close()
	if err := e.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{
		"education": {DuplicateCallbackRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	courses, _ := e.clients.Education.SearchCourses(ctx, integrations.CourseQuery{Municipality: "1488"})
	enr, err := e.clients.Education.Enrol(ctx, "k-cb", integrations.EnrolRequest{
		CaseID: "C-2", CourseCode: courses[0].Code, Person: person(), CallbackURL: cb.URL + "/callbacks/education?case=C-2"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.srv.URL+"/education/admin/enrolments/"+enr.ID+"/complete", "application/json",
		strings.NewReader(`{"status":"completed","grade":"B"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("complete: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("want the callback delivered twice (duplicate fault), got %d", len(got))
	}
	for i, m := range got {
		if m["enrolment_id"] != enr.ID || m["status"] != "completed" || m["grade"] != "B" || keys[i] == "" || keys[i] != keys[0] {
			t.Fatalf("callback %d: %v key %q", i, m, keys[i])
		}
	}
	st, _ := e.clients.Education.Status(ctx, enr.ID)
	if st.Status != integrations.EnrolmentCompleted || st.Grade != "B" {
		t.Fatalf("status after completion: %+v", st)
	}
}

func TestJobSearchContract(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	all, err := e.clients.Employment.SearchVacancies(ctx, integrations.VacancyQuery{Limit: 100})
	if err != nil || all.Total == 0 {
		t.Fatalf("all vacancies: %v %+v", err, all.Total)
	}
	// Pick an occupation and municipality that exist; ask by SSYK and SCB
	// code, as pathways stores them.
	v0 := all.Hits[0]
	if v0.SSYK == "" || v0.OccupationGroupID == "" || v0.OccupationGroupID == v0.SSYK {
		t.Fatalf("hit without SSYK code and group concept ID: %+v", v0)
	}
	q := integrations.VacancyQuery{Q: strings.Fields(v0.Headline)[0], OccupationGroup: v0.SSYK,
		Municipality: v0.MunicipalityCode, Offset: 0, Limit: 5}
	page, err := e.clients.Employment.SearchVacancies(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == 0 || len(page.Hits) == 0 {
		t.Fatalf("no hits for %+v", q)
	}
	for _, h := range page.Hits {
		if h.SSYK != q.OccupationGroup || h.OccupationGroupID != v0.OccupationGroupID || h.MunicipalityCode != q.Municipality || h.ID == "" ||
			h.Employer == "" || h.ApplicationDeadline.IsZero() {
			t.Fatalf("hit does not match: %+v", h)
		}
	}
	q.Offset, q.Limit = 1, 2
	if _, err := e.clients.Employment.SearchVacancies(ctx, q); err != nil {
		t.Fatal(err)
	}
	recs := e.sim.Requests("jobsearch", "/jobsearch/search", "GET")
	last := recs[len(recs)-1]
	vals, _ := url.ParseQuery(last.Query)
	// JobSearch takes taxonomy concept IDs: the client translated the codes.
	for k, want := range map[string]string{"q": q.Q, "occupation-group": taxonomy.OccupationGroup(q.OccupationGroup),
		"municipality": taxonomy.Municipality(q.Municipality), "offset": "1", "limit": "2"} {
		if vals.Get(k) != want {
			t.Fatalf("simulator saw %s=%q, want %q (query %s)", k, vals.Get(k), want, last.Query)
		}
	}
	if last.APIKey == "" || last.APIKey != recs[0].APIKey {
		t.Fatalf("api-key not seen: %+v", last)
	}
	// A malformed limit is a 400 from JobSearch: a Rejected.
	_, err = e.clients.Employment.SearchVacancies(ctx, integrations.VacancyQuery{Limit: 1000})
	if !integrations.IsRejected(err) {
		t.Fatalf("limit 1000: want Rejected, got %v", err)
	}
}

func TestEmploymentRegistrationAndConsent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	emp := e.clients.Employment
	e.sim.SetRegistration(pnr, true, "jobb- och utvecklingsgarantin", []string{"plan"})
	reg, err := emp.Registration(ctx, person())
	if err != nil || !reg.Registered || len(reg.Consent) != 1 {
		t.Fatalf("registration: %+v %v", reg, err)
	}
	plan := integrations.PlanReport{CaseID: "C-3", Person: person(), TargetSSYK: "5321", Steps: []string{"sfi", "yrkesvux"}}
	if err := emp.ReportPlan(ctx, "wf-3/plan", plan); err != nil {
		t.Fatal(err)
	}
	if err := emp.ReportPlan(ctx, "wf-3/plan", plan); err != nil {
		t.Fatal(err)
	}
	err = emp.ReportOutcome(ctx, "wf-3/outcome", integrations.OutcomeReport{CaseID: "C-3", Person: person(), Kind: "employment", StartDate: time.Now(), SSYK: "5321"})
	var ce *integrations.ConsentError
	if !errors.As(err, &ce) || !integrations.IsRejected(err) || !errors.Is(err, integrations.ErrNoConsent) {
		t.Fatalf("outcome without consent: want ConsentError, got %v", err)
	}
	if strings.Contains(err.Error(), pnr) || strings.Contains(err.Error(), "Testsson") {
		t.Fatalf("error leaks personal data: %v", err)
	}
	if n := len(e.sim.Requests("employment", "/employment/outcomes", "")); n != 0 {
		t.Fatalf("outcome reached the gateway %d times despite no consent", n)
	}
	if n := len(e.sim.Reports()); n != 1 {
		t.Fatalf("gateway holds %d reports, want 1 plan", n)
	}
	e.sim.SetRegistration(pnr, false, "", nil)
	if err := emp.ReportPlan(ctx, "wf-3/plan-2", plan); !integrations.IsRejected(err) {
		t.Fatalf("unregistered: want Rejected, got %v", err)
	}
	e.noDuplicates(t)
}

func TestEmployersContract(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ers := e.clients.Employers
	needs, err := ers.RecruitmentNeeds(ctx, integrations.NeedQuery{})
	if err != nil || len(needs) == 0 {
		t.Fatalf("needs: %v %d", err, len(needs))
	}
	n0 := needs[0]
	f, err := ers.RecruitmentNeeds(ctx, integrations.NeedQuery{SSYK: n0.SSYK, Municipality: n0.Municipality})
	if err != nil || len(f) == 0 {
		t.Fatalf("filtered needs: %v", err)
	}
	for _, n := range f {
		if n.SSYK != n0.SSYK || n.Municipality != n0.Municipality || n.Positions < 1 || n.StartDate.IsZero() || n.ContactRole == "" || n.RequiredTraining == "" {
			t.Fatalf("need: %+v", n)
		}
	}
	req := integrations.AgreementRequest{CaseID: "C-4", EmployerID: n0.EmployerID, Kind: "work_training",
		StartDate: time.Now().AddDate(0, 0, 7), EndDate: time.Now().AddDate(0, 3, 0)}
	a, err := ers.CreateAgreement(ctx, "wf-4/agreement", req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ers.CreateAgreement(ctx, "wf-4/agreement", req)
	if err != nil || a.ID != b.ID || a.Status != "active" {
		t.Fatalf("same key: %+v %+v %v", a, b, err)
	}
	if n := len(e.sim.Agreements()); n != 1 {
		t.Fatalf("%d agreements, want 1", n)
	}
	for range 2 {
		if err := ers.EndAgreement(ctx, "wf-4/end", a.ID, "completed"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ers.EndAgreement(ctx, "wf-4/end-again", a.ID, "completed"); err != nil {
		t.Fatalf("ending an ended agreement: %v", err)
	}
	if ag := e.sim.Agreements(); ag[0].Status != "ended" {
		t.Fatalf("agreement not ended: %+v", ag[0])
	}
	_, err = ers.CreateAgreement(ctx, "wf-4/bad", integrations.AgreementRequest{CaseID: "C-4", EmployerID: "emp-nope", Kind: "internship", StartDate: time.Now()})
	if !integrations.IsRejected(err) {
		t.Fatalf("unknown employer: want Rejected, got %v", err)
	}
	e.noDuplicates(t)
}

func TestSocialNoticeOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := integrations.SocialNotice{CaseID: "C-5", Person: person(), Event: "closure", Reason: "employment", At: time.Now()}
	for range 3 {
		if err := e.clients.SocialServices.Notify(ctx, "wf-5/social", n); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.sim.Notices(); len(got) != 1 || got[0].CaseID != "C-5" {
		t.Fatalf("notices: %+v", got)
	}
	st := e.sim.Stats().Systems["social"]
	if st.SideEffects != 1 || st.Replays != 2 {
		t.Fatalf("social stats: %+v", st)
	}
	e.noDuplicates(t)
}

func TestMailOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := integrations.Mail{To: "coach@kommun.example", Subject: "Ärende C-6: åtgärd krävs", Body: "Öppna ärendet C-6 i konsolen.\n.\nMvh"}
	for range 2 {
		if err := e.clients.Notifier.Mail(ctx, "wf-6/mail", m); err != nil {
			t.Fatal(err)
		}
	}
	got := e.sim.Mail()
	if len(got) != 1 || got[0].Deliveries != 1 {
		t.Fatalf("mail: %+v", got)
	}
	if got[0].Subject != m.Subject || got[0].Body != m.Body || got[0].IdempotencyKey != "wf-6/mail" || got[0].To[0] != m.To {
		t.Fatalf("captured mail differs: %+v", got[0])
	}
	// A new process (new Mailer) re-sending the same key: the Message-ID is
	// the same, so the receiving side sees a re-delivery, not a new message.
	again := integrations.NewMailer(e.cfg.SMTP, time.Second)
	if err := again.Mail(ctx, "wf-6/mail", m); err != nil {
		t.Fatal(err)
	}
	st := e.sim.Stats()
	if st.Mail.Messages != 1 || st.Mail.Duplicates != 1 || len(e.sim.Mail()) != 1 {
		t.Fatalf("mail stats: %+v", st.Mail)
	}
	// An SMTP 5xx is a Rejected, a 4xx is not.
	_ = e.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"smtp": {Errors: map[string]float64{"550": 1}}}})
	if err := e.clients.Notifier.Mail(ctx, "wf-6/mail-2", m); !integrations.IsRejected(err) || strings.Contains(err.Error(), m.To) {
		t.Fatalf("550: want Rejected without the address, got %v", err)
	}
	_ = e.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"smtp": {Errors: map[string]float64{"451": 1}}}})
	if err := e.clients.Notifier.Mail(ctx, "wf-6/mail-3", m); err == nil || integrations.IsRejected(err) {
		t.Fatalf("451: want retryable, got %v", err)
	}
	_ = e.sim.SetFaults(simulators.Faults{})
	if err := e.clients.Notifier.Mail(ctx, "wf-6/mail-3", m); err != nil {
		t.Fatalf("after fault cleared: %v", err)
	}
}

func TestMailPlainAuth(t *testing.T) {
	e := newEnv(t)
	cfg := e.cfg.SMTP
	cfg.User, cfg.Password = "relay", "secret"
	cfg.From = "Pathways <pathways@kommun.example>"
	if err := integrations.NewMailer(cfg, time.Second).Mail(context.Background(), "k-auth",
		integrations.Mail{To: "x@kommun.example", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
}
