package workflows_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// A long history continues as new at a safe point, carrying the state and
// the signals that arrived just before, and the next run goes on from there.
func TestContinueAsNewKeepsStateAndSignals(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	h.at(2, func() {
		// One ladder per case: the second signal climbs it (a second rule at
		// level 1 would be the same escalation).
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "mapping_overdue", Level: 2, Role: "team_lead", Reason: "test"})
	})
	h.at(2.5, func() { h.env.SetCurrentHistoryLength(5000) })
	h.run(programme())
	h.ok("contact")

	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next pathway.Start
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	var carried struct {
		Phase       string            `json:"phase"`
		Seq         int64             `json:"seq"`
		Escalations []json.RawMessage `json:"escalations"`
		Tasks       []pathway.Task    `json:"tasks"`
	}
	if err := json.Unmarshal(next.Carry, &carried); err != nil {
		t.Fatal(err)
	}
	if carried.Phase != pathway.PhaseMapping || len(carried.Escalations) != 1 || carried.Seq != 3 { // referral, contact, escalation
		t.Fatalf("carried %+v", carried)
	}

	// The next run resumes in mapping with the same tasks and goes on.
	h2 := newHarness(t)
	h2.at(1, func() {
		s := h2.status()
		if s.Phase != pathway.PhaseMapping || countTasks(s, "escalation") != 1 || !hasTask(s, "mapping") {
			t.Errorf("resumed status %+v", s)
		}
		h2.update("mapping", pathway.UpdateMapping, mapping())
	})
	h2.at(2, func() {
		h2.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h2.env.ExecuteWorkflow(pathway.WorkflowName, next)
	h2.ok("mapping", "close")
	if s := h2.result(); s.ClosureReason != pathway.CloseMoved {
		t.Errorf("reason %s", s.ClosureReason)
	}
	if first := h2.reg.projections[0].Seq; first != carried.Seq+1 {
		t.Errorf("sequence restarted: first projection of the new run has seq %d, want %d", first, carried.Seq+1)
	}
}

// A close that arrives while the run waits to hand over (here for a
// transfer whose centre check is retrying) still completes: the run closes
// the case instead of continuing as new, and both Updates answer.
func TestCloseDuringContinueAsNew(t *testing.T) {
	h := newHarness(t)
	h.env.SetTestTimeout(15 * time.Second)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	// The centre check retries with back-off for about five minutes (the
	// suite's attempt limit); everything below happens within them.
	after := func(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, 2*day+d) }
	after(0, func() {
		h.reg.setCentresDown(true)
		h.update("transfer", pathway.UpdateTransfer, pathway.Transfer{Actor: staff, ToCentre: "gbg-oster", Reason: "moved to Öster"})
	})
	after(10*time.Second, func() { h.env.SetCurrentHistoryLength(5000) })
	after(20*time.Second, func() {
		// Wakes the main loop, which finds the history long and waits to hand over.
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "no_progress", Level: 1, Role: "job_coach", Reason: "test"})
	})
	after(30*time.Second, func() {
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	after(45*time.Second, func() { h.reg.setCentresDown(false) })
	h.run(programme())

	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); errors.As(err, &can) {
		t.Fatal("the run continued as new although staff closed the case")
	}
	h.ok("contact", "transfer", "close")
	s := h.result()
	if s.Phase != pathway.PhaseClosed || s.ClosureReason != pathway.CloseMoved {
		t.Errorf("result phase %s reason %s", s.Phase, s.ClosureReason)
	}
	if got := h.out.events(); !contains(got, "closure:moved") {
		t.Errorf("social services heard %v, want the closure", got)
	}
	if d := h.elapsedDays(); d > 2.1 {
		t.Errorf("closed on day %.2f, want right after the close on day 2", d)
	}
}

// Notices to an outside system that is down do not hold the hand-over for a
// day: the run continues as new with the notices in its state, and the next
// run sends them under the same keys.
func TestNoticesInFlightDoNotHoldTheHandOver(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	h.at(2, func() { h.update("mapping", pathway.UpdateMapping, mapping()) })
	h.at(3, func() {
		h.out.setDown(true)
		h.update("outcome", pathway.UpdateOutcome, pathway.Outcome{Actor: staff, Kind: pathway.OutcomeWork, StartDate: h.env.Now(), Employer: "Logistik AB", EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised})
	})
	// The suite gives up a failing activity after about five minutes (its
	// attempt limit); the hand-over comes ten seconds in.
	h.env.RegisterDelayedCallback(func() {
		h.env.SetCurrentHistoryLength(5000)
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "no_progress", Level: 1, Role: "job_coach", Reason: "test"})
	}, 3*day+10*time.Second)
	h.run(programme())
	h.ok("contact", "mapping", "outcome")

	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	if d := h.env.Now().Sub(h.start) - 3*day; d > time.Minute {
		t.Errorf("handed over %v after the outcome: the notices held it back", d)
	}
	var next pathway.Start
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	var carried struct {
		Notices []struct {
			Notice pathway.Notice `json:"notice"`
		} `json:"notices"`
	}
	if err := json.Unmarshal(next.Carry, &carried); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, n := range carried.Notices {
		keys = append(keys, n.Notice.Key)
	}
	social, employment := "2026-TEST0001:notice:social:outcome:1", "2026-TEST0001:notice:employment:outcome:1"
	if len(keys) != 2 || keys[0] != social || keys[1] != employment {
		t.Fatalf("carried notices %v, want [%s %s]", keys, social, employment)
	}

	// The next run delivers them, then the closure, each under its own key.
	h2 := newHarness(t)
	h2.at(1, func() {
		h2.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h2.env.ExecuteWorkflow(pathway.WorkflowName, next)
	h2.ok("close")
	h2.result()
	want := []string{social, "2026-TEST0001:notice:social:closure", employment}
	if got := h2.out.keys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("delivered keys %v, want %v", got, want)
	}
}

// Signals and Updates that arrive while the run waits to hand over are
// applied before it does, and their effects are carried to the next run.
func TestMessagesDuringHandOverAreCarried(t *testing.T) {
	h := newHarness(t)
	h.at(1, func() { h.update("contact", pathway.UpdateFirstContact, pathway.FirstContact{Actor: staff}) })
	after := func(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, 2*day+d) }
	after(0, func() {
		h.reg.setCentresDown(true)
		h.update("transfer", pathway.UpdateTransfer, pathway.Transfer{Actor: staff, ToCentre: "gbg-oster", Reason: "moved to Öster"})
	})
	after(10*time.Second, func() { h.env.SetCurrentHistoryLength(5000) })
	after(20*time.Second, func() {
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "no_progress", Level: 1, Role: "job_coach", Reason: "test"})
	})
	after(30*time.Second, func() {
		// One ladder per case: the second signal climbs it (a second rule at
		// level 1 would be the same escalation).
		h.env.SignalWorkflow(pathway.SignalEscalate, pathway.Escalation{Rule: "mapping_overdue", Level: 2, Role: "team_lead", Reason: "test"})
		h.update("pause", pathway.UpdatePause, pathway.Pause{Actor: staff, Reason: pathway.PauseSick})
	})
	after(45*time.Second, func() { h.reg.setCentresDown(false) })
	h.run(programme())
	h.ok("contact", "transfer", "pause")

	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next pathway.Start
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	var carried struct {
		Seq      int64  `json:"seq"`
		CentreID string `json:"centre_id"`
		Paused   bool   `json:"paused"`
	}
	if err := json.Unmarshal(next.Carry, &carried); err != nil {
		t.Fatal(err)
	}
	if carried.CentreID != "gbg-oster" || !carried.Paused {
		t.Errorf("carried centre %s, paused %v: want the transfer and the pause", carried.CentreID, carried.Paused)
	}
	if kinds := h.reg.kinds(); countKind(kinds, "escalated") != 2 || !contains(kinds, "paused") || !contains(kinds, "transfer") {
		t.Errorf("timeline %v: want both escalations, the pause and the transfer before the hand-over", kinds)
	}
	if last := h.reg.last().Seq; carried.Seq != last {
		t.Errorf("carried seq %d, last projection %d", carried.Seq, last)
	}
}
