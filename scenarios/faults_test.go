package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/mailout"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/store"
)

// 200 compressed pathways run while every outside system answers 30% of
// requests with 503, loses some answers after acting, and adds latency. All
// reach their outcome and closure, and the simulators' own records show no
// enrolment, report or notice twice. Alongside, escalation mail for
// referrals nobody contacted goes through the outbox to an SMTP relay that
// defers 30% of deliveries: every mail arrives, once.
func TestPathwaysUnderOutsideFaults(t *testing.T) {
	n := 200
	if v := os.Getenv("PATHWAYS_FAULT_PATHWAYS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("PATHWAYS_FAULT_PATHWAYS=%q: want a positive number", v)
		}
	}
	// 0.15 s a day: the 548-day limit lasts 82 s, far more than a pathway
	// needs (the 90-day follow-up is the longest wait, 14 s), so a loaded
	// CI machine slows the run without cutting pathways short. Retry
	// back-off is capped at a programme day too (steps.CompressBackoff).
	s := newSystemWith(t, 0.15, testsystem.Options{Register: func(w sdkworker.Worker, ts *testsystem.System) {
		escalation.Register(w, escalation.New(ts.Pool, ts.Temporal, mailout.Queue{Pool: ts.Pool}, "", time.UTC))
	}})
	ctx := context.Background()
	stalled := s.escalateUncontacted(t, 20)
	if err := s.sim.SetFaults(simulators.Faults{
		Global:  &simulators.FaultSpec{LatencyMS: 20, JitterMS: 30, Errors: map[string]float64{"503": 0.3}, LostResponseRate: 0.03},
		Systems: map[string]*simulators.FaultSpec{"smtp": {LatencyMS: 5, Errors: map[string]float64{"451": 0.3}, DropRate: 0.05}},
	}); err != nil {
		t.Fatal(err)
	}
	s.deliverMail(t) // after the faults: every mail meets the deferring relay
	ids := make([]string, n)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(40)
	for i := 0; i < n; i++ {
		g.Go(func() error {
			id, err := s.faultPathway(gctx, i)
			ids[i] = id
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)

	enrolments := map[string]int{}
	for _, e := range s.sim.Enrolments() {
		enrolments[e.CaseID]++
	}
	reports := map[string]int{}
	for _, r := range s.sim.Reports() {
		if r.Kind == "outcome" {
			reports[r.CaseID]++
		}
	}
	notices := map[string]int{}
	for _, no := range s.sim.Notices() {
		notices[no.CaseID+"/"+no.Event]++
	}
	closed := 0
	for _, id := range ids {
		row, err := store.GetPathway(ctx, s.pool, id)
		if err != nil {
			t.Fatal(err)
		}
		if row.Status == "closed" && row.ClosureReason == pathway.CloseStudies {
			closed++
		}
		if enrolments[id] != 1 || reports[id] != 1 || notices[id+"/outcome"] != 1 || notices[id+"/closure"] != 1 {
			t.Errorf("case %s: %d enrolments, %d outcome reports, %d outcome and %d closure notices; want 1 each",
				id, enrolments[id], reports[id], notices[id+"/outcome"], notices[id+"/closure"])
		}
	}
	st := s.sim.Stats()
	injected := 0
	for _, sys := range st.Systems {
		injected += sys.ByStatus["503"] // every 503 here is injected
	}
	if closed != n {
		t.Errorf("%d of %d pathways closed with their outcome", closed, n)
	}
	if st.DuplicateSideEffects != 0 {
		t.Errorf("simulators counted %d duplicate side effects", st.DuplicateSideEffects)
	}
	mails := s.checkMail(t, stalled)
	after := s.sim.Stats() // mail may still have been going out when st was read
	smtp := after.Systems["smtp"]
	if smtp.Faults["error"]+smtp.Faults["drop"] == 0 {
		t.Errorf("the SMTP relay never deferred or dropped a session: %+v", smtp.Faults)
	}
	if after.Mail.Duplicates != 0 {
		t.Errorf("the relay received %d mails again", after.Mail.Duplicates)
	}
	t.Logf("fault test: %d/%d pathways completed in %s; %d injected 503s retried; %d keyed replays; %d duplicate side effects; "+
		"%d escalation mails delivered once each through %d refused or dropped SMTP sessions (%d re-deliveries)",
		closed, n, took.Round(time.Second), injected, replays(st), st.DuplicateSideEffects,
		mails, smtp.Faults["error"]+smtp.Faults["drop"], after.Mail.Duplicates)
}

// escalateUncontacted starts k referrals that nobody contacts and runs one
// stall sweep over them (first-contact rule only), before any fault is set.
func (s *system) escalateUncontacted(t *testing.T, k int) []string {
	t.Helper()
	ctx := context.Background()
	if err := store.SetEscalationContact(ctx, s.pool, "*", escalation.RoleJobCoach, "job_coach@centre.example"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < k; i++ {
		nine := fmt.Sprintf("7705%02d%03d", 1+i%28, 500+i)
		st, err := s.cases.Start(ctx, referral("1977"+nine[2:6]+"-"+nine[6:]+string(identity.CheckDigit(nine))))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.CaseID)
	}
	if err := s.until(ctx, func() (bool, error) {
		var due int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE phase = 'referral' AND first_contact_due < now()`).Scan(&due)
		return due == k, err
	}); err != nil {
		t.Fatalf("first contact overdue: %v", err)
	}
	rules := escalation.DefaultRules()
	for i := range rules {
		rules[i].Disabled = rules[i].Name != escalation.RuleFirstContact
	}
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "fault-sweep-" + s.tq, TaskQueue: s.tq},
		escalation.WorkflowName, escalation.SweepInput{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	var res escalation.SweepResult
	if err := run.Get(ctx, &res); err != nil || res.Escalated != k {
		t.Fatalf("sweep: %+v %v; want %d escalated", res, err, k)
	}
	return ids
}

// deliverMail runs the worker's outbox deliverer, with test-sized back-off,
// until the test ends.
func (s *system) deliverMail(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	d := &mailout.Deliverer{Pool: s.pool, Relay: s.clients.Notifier, Log: zap.NewNop(), Every: 100 * time.Millisecond,
		Retry: mailout.Backoff{Initial: 200 * time.Millisecond, Max: 2 * time.Second}}
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
}

// checkMail waits for the outbox to drain and checks that every queued mail
// reached the relay exactly once and that each stalled case was mailed.
func (s *system) checkMail(t *testing.T, stalled []string) int {
	t.Helper()
	ctx := context.Background()
	var c store.OutboxCounts
	if err := s.until(ctx, func() (bool, error) {
		var err error
		c, err = store.MailOutboxCounts(ctx, s.pool)
		return err == nil && c.Pending == 0, err
	}); err != nil {
		t.Fatalf("mail outbox did not drain: %+v %v", c, err)
	}
	got := s.sim.Mail()
	if c.Failed != 0 || c.Sent != len(got) || c.Sent == 0 {
		t.Errorf("outbox %+v, relay received %d distinct mails", c, len(got))
	}
	for _, m := range got {
		if m.Deliveries != 1 {
			t.Errorf("mail %s delivered %d times", m.IdempotencyKey, m.Deliveries)
		}
	}
	for _, id := range stalled {
		mailed := false
		for _, m := range got {
			mailed = mailed || strings.Contains(m.Subject, id)
		}
		if !mailed {
			t.Errorf("case %s was escalated but nobody was mailed", id)
		}
	}
	return len(got)
}

func replays(st simulators.Stats) int {
	n := 0
	for _, sys := range st.Systems {
		n += sys.Replays
	}
	return n
}

// faultPathway takes one person from referral to closure: a one-course plan,
// studies as the outcome, both follow-ups answered.
func (s *system) faultPathway(ctx context.Context, i int) (string, error) {
	nine := fmt.Sprintf("8604%02d%03d", 1+i%28, 100+i)
	pnr := "1986" + nine[2:6] + "-" + nine[6:] + string(identity.CheckDigit(nine))
	s.sim.SetRegistration(pnr, true, "", []string{"plan", "outcome"})
	started, err := s.cases.Start(ctx, referral(pnr))
	if err != nil {
		return "", err
	}
	id := started.CaseID
	var st pathway.Status
	steps := []struct {
		name string
		arg  any
	}{
		{pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach}},
		{pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"care"}, EducationLevel: "2", Language: "sv:A2", Goals: "study"}},
		{pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5321", Steps: []pathway.StepSpec{
			{ID: "sfi", Type: komvux.Name, DurationDays: 10, Params: map[string]string{"course_code": "SFIC", "form": "sfi"}}}}},
	}
	for _, u := range steps {
		if err := s.tryUpdate(id, "", u.name, u.arg, &st); err != nil {
			return id, fmt.Errorf("%s %s: %w", id, u.name, err)
		}
	}
	// The education system reports the course completed (admin paths carry no faults).
	if err := s.until(ctx, func() (bool, error) {
		for _, e := range s.sim.Enrolments() {
			if e.CaseID == id && e.Status == integrations.EnrolmentActive {
				resp, err := http.Post(s.simURL+"/education/admin/enrolments/"+e.ID+"/complete", "application/json", bytes.NewReader([]byte(`{"status":"completed"}`)))
				if err != nil {
					return false, nil
				}
				resp.Body.Close()
				return resp.StatusCode < 300, nil
			}
		}
		return false, nil
	}); err != nil {
		return id, fmt.Errorf("%s: course: %w; %s", id, err, s.diagnose(ctx, id))
	}
	if err := s.until(ctx, func() (bool, error) {
		row, err := store.GetPathway(ctx, s.pool, id)
		return err == nil && row.Phase == pathway.PhaseOutcome, nil
	}); err != nil {
		return id, fmt.Errorf("%s: awaiting outcome: %w; %s", id, err, s.diagnose(ctx, id))
	}
	if err := s.tryUpdate(id, "", pathway.UpdateOutcome, pathway.Outcome{Actor: coach, Kind: pathway.OutcomeStudies, StartDate: time.Now(), Employer: "Komvux", StudyForm: pathway.StudyKomvux, StudentFinance: &csn}, &st); err != nil {
		return id, err
	}
	for _, d := range []int{30, 90} {
		// Staff answer when the console lists the follow-up task (polling
		// the read model, not the workflow).
		if err := s.until(ctx, func() (bool, error) {
			var open bool
			err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tasks WHERE task_key = $1 AND status = 'open')`,
				fmt.Sprintf("%s:follow_up:%d", id, d)).Scan(&open)
			return open, err
		}); err != nil {
			return id, fmt.Errorf("%s: follow-up %d task: %w; %s", id, d, err, s.diagnose(ctx, id))
		}
		if err := s.tryUpdate(id, "", pathway.UpdateFollowUp, pathway.FollowUp{Actor: coach, Day: d, StillThere: true}, &st); err != nil {
			return id, fmt.Errorf("%s: follow-up %d: %w", id, d, err)
		}
	}
	var final pathway.Status
	return id, s.tc.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &final)
}

// until polls cond, five times a second, for up to five minutes.
func (s *system) until(ctx context.Context, cond func() (bool, error)) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("timed out")
}

// diagnose says where a stuck pathway stands, for the failure message.
func (s *system) diagnose(ctx context.Context, id string) string {
	row, _ := store.GetPathway(ctx, s.pool, id)
	tl, _ := store.Timeline(ctx, s.pool, s.cases.Keys, id)
	var ev []string
	for _, e := range tl {
		ev = append(ev, e.Summary)
	}
	var enrol []string
	for _, e := range s.sim.Enrolments() {
		if e.CaseID == id {
			enrol = append(enrol, e.ID+":"+e.Status)
		}
	}
	desc := ""
	if row.CurrentStep != "" {
		d, err := s.tc.DescribeWorkflowExecution(ctx, pathway.StepWorkflowID(id, row.CurrentStep), "")
		if err == nil {
			for _, a := range d.GetPendingActivities() {
				desc += fmt.Sprintf(" pending %s attempt %d state %s last failure %q;", a.GetActivityType().GetName(), a.GetAttempt(), a.GetState(), a.GetLastFailure().GetMessage())
			}
			desc += " step status " + d.GetWorkflowExecutionInfo().GetStatus().String()
		}
	}
	return fmt.Sprintf("phase %s step %s; timeline %q; enrolments %v;%s", row.Phase, row.CurrentStep, ev, enrol, desc)
}
