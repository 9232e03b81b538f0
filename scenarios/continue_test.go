package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/store"
)

// startWithHistoryLimit starts a case through the case service, then runs
// its workflow again with a small history limit, so it continues as new
// every few actions. The case service has no such option: production keeps
// the default.
func startWithHistoryLimit(tb testing.TB, s *system, pnr string, limit int, mutate ...func(*pathway.Start)) (caseID, workflowID string) {
	tb.Helper()
	ctx := context.Background()
	started, err := s.cases.Start(ctx, referral(pnr))
	if err != nil {
		tb.Fatal(err)
	}
	it := s.tc.GetWorkflowHistory(ctx, started.WorkflowID, "", false, 0)
	first, err := it.Next()
	if err != nil {
		tb.Fatal(err)
	}
	var in pathway.Start
	if err := codec.DataConverter(testenv.Keyring(tb)).FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		tb.Fatal(err)
	}
	if err := s.tc.TerminateWorkflow(ctx, started.WorkflowID, "", "restarted with a small history limit"); err != nil {
		tb.Fatal(err)
	}
	in.HistoryLimit = limit
	for _, m := range mutate {
		m(&in)
	}
	if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: started.WorkflowID, TaskQueue: s.tq,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE}, pathway.WorkflowName, in); err != nil {
		tb.Fatal(err)
	}
	return started.CaseID, started.WorkflowID
}

// scheduled lists, per run, the notices the pathway scheduled.
func scheduled(tb testing.TB, runs []run) [][]pathway.Notice {
	out := make([][]pathway.Notice, len(runs))
	for i, r := range runs {
		for _, e := range r.Events {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a == nil {
				continue
			}
			switch a.GetActivityType().GetName() {
			case pathway.ActivityNotifySocialServices, pathway.ActivityReportOutcome:
				var n pathway.Notice
				if err := codec.DataConverter(testenv.Keyring(tb)).FromPayloads(a.GetInput(), &n); err != nil {
					tb.Fatal(err)
				}
				out[i] = append(out[i], n)
			}
		}
	}
	return out
}

// A pathway that continues as new every few actions sends its notices from
// different runs, and one while social services are failing. Each notice has
// its business key (case, system, event, outcome number); no two notices
// share one, and a retried or re-sent notice keeps its key, so the outside
// systems create each notice once.
func TestIdempotencyKeysStableAcrossRuns(t *testing.T) {
	s := newSystem(t, 0.05)
	ctx := context.Background()
	pnr := personalNumber()
	s.sim.SetRegistration(pnr, true, "jobb- och utvecklingsgarantin", []string{"plan", "outcome"})
	// Social services refuse every notice until the first one has been tried.
	if err := s.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{
		"social": {Errors: map[string]float64{"503": 1}, SideEffectsOnly: true}}}); err != nil {
		t.Fatal(err)
	}
	id, wfID := startWithHistoryLimit(t, s, pnr, 25)
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"forklift"}, EducationLevel: "3", Language: "sv:B2", Goals: "logistics"})
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "8332", Steps: []pathway.StepSpec{
		{ID: "coach", Type: manual.Name, DurationDays: 60, Params: map[string]string{"description": "CV training"}}}})
	outcome := pathway.Outcome{Actor: coach, Kind: pathway.OutcomeWork, StartDate: time.Now(), Employer: "Lager AB", SSYK: "8332", EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised}
	s.update(t, id, pathway.UpdateOutcome, outcome)
	deadline := time.Now().Add(30 * time.Second)
	for len(s.sim.Requests("social", "/social/notices", "POST")) == 0 {
		if time.Now().After(deadline) {
			for i, r := range histories(t, s, wfID) {
				var types []string
				for _, e := range r.Events {
					types = append(types, strings.TrimPrefix(e.GetEventType().String(), "EVENT_TYPE_"))
				}
				t.Logf("run %d: %s", i+1, strings.Join(types, " "))
			}
			t.Fatal("no notice reached social services")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Grow the history until the run hands over with the notice still
	// failing: the next run must send it again, under the same key.
	for runs, signals := len(histories(t, s, wfID)), 0; len(histories(t, s, wfID)) == runs; signals++ {
		if signals > 30 {
			t.Fatal("the pathway did not continue as new while the notice was failing")
		}
		checkIn(t, s, wfID, fmt.Sprintf("check_in_%d", signals))
	}
	if err := s.sim.SetFaults(simulators.Faults{}); err != nil {
		t.Fatal(err)
	}
	// The work lasted two weeks: the outcome lapses, and a second one follows.
	s.waitTask(t, id, "follow_up")
	s.update(t, id, pathway.UpdateFollowUp, pathway.FollowUp{Actor: coach, Day: 30, StillThere: false})
	outcome.StartDate, outcome.Employer = time.Now(), "Åkeri AB"
	s.update(t, id, pathway.UpdateOutcome, outcome)
	for _, d := range []int{30, 90} {
		s.waitTask(t, id, "follow_up")
		s.update(t, id, pathway.UpdateFollowUp, pathway.FollowUp{Actor: coach, Day: d, StillThere: true})
	}
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, wfID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if final.ClosureReason != pathway.CloseWork {
		t.Fatalf("closed as %q", final.ClosureReason)
	}
	runs := histories(t, s, wfID)
	if *updateHistories {
		for i, r := range runs {
			writeHistory(t, fmt.Sprintf("notices-business-keys-run%d.json", i+1), r)
		}
	}

	// The workflow built the keys, in more than one run.
	social := func(ev string) string { return id + ":notice:social:" + ev }
	employment := func(ev string) string { return id + ":notice:employment:" + ev }
	runsOf := map[string][]int{} // the runs that scheduled each key
	for i, ns := range scheduled(t, runs) {
		for _, n := range ns {
			if k := runsOf[n.Key]; len(k) == 0 || k[len(k)-1] != i+1 {
				runsOf[n.Key] = append(k, i+1)
			}
		}
	}
	t.Logf("%d runs; keys scheduled in runs %v", len(runs), runsOf)
	first, second := runsOf[social("outcome:1")], runsOf[social("outcome:2")]
	if len(runs) < 3 || len(first) == 0 || len(second) == 0 || first[0] == second[0] {
		t.Errorf("want the two outcomes' notices first sent in different runs")
	}
	if len(first) < 2 {
		t.Errorf("the first outcome's notice was not carried into a later run")
	}

	// Social services saw exactly three keys, each creating one notice.
	byKey := map[string][]simulators.RequestRecord{}
	for _, r := range s.sim.Requests("social", "/social/notices", "POST") {
		byKey[r.IdempotencyKey] = append(byKey[r.IdempotencyKey], r)
	}
	wantKeys(t, "social services", byKey, social("outcome:1"), social("outcome:2"), social("closure"))
	if first := byKey[social("outcome:1")]; len(first) < 2 || first[0].Status != 503 {
		t.Errorf("the first notice was not retried under its key: %+v", first)
	}
	reports := map[string][]simulators.RequestRecord{}
	for _, r := range s.sim.Requests("employment", "/employment/outcomes", "POST") {
		reports[r.IdempotencyKey] = append(reports[r.IdempotencyKey], r)
	}
	wantKeys(t, "the employment service", reports, employment("outcome:1"), employment("outcome:2"))

	var events []string
	for _, n := range s.sim.Notices() {
		events = append(events, n.Event)
	}
	if strings.Join(events, ",") != "outcome,outcome,closure" {
		t.Errorf("social services hold notices %v, want outcome,outcome,closure", events)
	}
	for _, sys := range []string{"social", "employment"} {
		if st := s.sim.Stats().Systems[sys]; st.KeyMismatches != 0 {
			t.Errorf("%s: %d keys reused for a different request", sys, st.KeyMismatches)
		}
	}
}

// wantKeys checks that the keys seen are exactly want, and that each key
// created at most one object however often it was sent.
func wantKeys(t *testing.T, system string, byKey map[string][]simulators.RequestRecord, want ...string) {
	t.Helper()
	var got []string
	for k, rs := range byKey {
		got = append(got, k)
		created := 0
		for _, r := range rs {
			if r.Created != "" {
				created++
			}
		}
		if created > 1 {
			t.Errorf("%s: key %s created %d objects", system, k, created)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s saw keys %v, want %v", system, got, want)
		return
	}
	for _, k := range want {
		if _, ok := byKey[k]; !ok {
			t.Errorf("%s saw keys %v, want %v", system, got, want)
			return
		}
	}
}

// A close that arrives while a run waits to hand over (for a transfer whose
// centre check is stuck behind a lock) closes the case; the pathway had
// continued as new twice before. Its runs are committed as replay histories.
func TestCloseDuringContinueAsNewOnServer(t *testing.T) {
	s := newSystem(t, 1) // a slow clock: only the test's actions add history
	ctx := context.Background()
	// Started as before change levels, so the run records the version
	// marker of the hand-over, which tells the test the run has begun to
	// hand over; the hand-over is the same code at every level.
	id, wfID := startWithHistoryLimit(t, s, personalNumber(), 40, func(in *pathway.Start) { in.ChangeLevel = 0 })
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	signals := 0
	escalate := func() {
		signals++
		checkIn(t, s, wfID, fmt.Sprintf("check_in_%d", signals))
	}
	for len(histories(t, s, wfID)) < 3 {
		if signals > 60 {
			t.Fatal("the pathway did not continue as new twice")
		}
		escalate()
	}

	// Hold the centre check: a transfer's handler stays in flight.
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "LOCK TABLE centres IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	transferred := make(chan error, 1)
	go func() {
		var st pathway.Status
		transferred <- s.tryUpdate(id, "", pathway.UpdateTransfer, pathway.Transfer{Actor: coach, ToCentre: "gbg-oster", Reason: "moved"}, &st)
	}()
	// Grow the history until the run decides to hand over and waits.
	for !waitingToHandOver(t, s, wfID) {
		if signals > 120 {
			t.Fatal("the run never started to hand over")
		}
		escalate()
	}
	closed := make(chan error, 1)
	var st pathway.Status
	go func() {
		closed <- s.tryUpdate(id, "", pathway.UpdateClose, pathway.Close{Actor: coach, Reason: pathway.CloseMoved}, &st)
	}()
	time.Sleep(500 * time.Millisecond)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if st.Phase != pathway.PhaseClosed {
		t.Errorf("close answered phase %s", st.Phase)
	}
	if err := <-transferred; err != nil {
		t.Errorf("transfer: %v", err)
	}
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, wfID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if final.ClosureReason != pathway.CloseMoved {
		t.Errorf("closed as %q", final.ClosureReason)
	}
	runs := histories(t, s, wfID)
	last := runs[len(runs)-1].Events
	if len(runs) != 3 || last[len(last)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		t.Errorf("%d runs, the last ending in %v: want 3, the last completed", len(runs), last[len(last)-1].GetEventType())
	}
	s.waitRow(t, id, "closed", func(r store.PathwayRow) bool { return r.Status == "closed" })
	if *updateHistories {
		for i, r := range runs {
			writeHistory(t, fmt.Sprintf("close-during-continue-as-new-run%d.json", i+1), r)
		}
	}
}

// waitingToHandOver is true once the current run has decided to continue
// as new: the hand-over records its version marker before it waits.
func waitingToHandOver(tb testing.TB, s *system, workflowID string) bool {
	it := s.tc.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		if isMarker(e, testenv.Keyring(tb), "hand-over-yields-to-close") {
			return true
		}
	}
	return false
}

func isMarker(e *historypb.HistoryEvent, keys *keyring.Ring, changeID string) bool {
	m := e.GetMarkerRecordedEventAttributes()
	if m == nil {
		return false
	}
	var id string
	if p := m.GetDetails()["change-id"]; p != nil && len(p.GetPayloads()) > 0 {
		_ = codec.DataConverter(keys).FromPayload(p.GetPayloads()[0], &id)
	}
	return id == changeID
}

// checkIn grows a pathway's history by one escalation signal and waits until
// the workflow has handled it. Signals sent faster than a loaded machine
// handles them would keep the channel full, and a run hands over only when
// it is empty.
func checkIn(tb testing.TB, s *system, workflowID, rule string) {
	tb.Helper()
	ctx := context.Background()
	if err := s.tc.SignalWorkflow(ctx, workflowID, "", pathway.SignalEscalate, pathway.Escalation{
		Rule: rule, Level: 1, Role: "job_coach", Reason: "check-in"}); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for idle := 0; idle < 2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		d, err := s.tc.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			tb.Fatal(err)
		}
		if d.GetPendingWorkflowTask() == nil {
			idle++
		} else {
			idle = 0
		}
	}
}
