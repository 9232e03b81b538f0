package scenarios

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/agreement"
	"github.com/pathways-se/pathways/store"
)

// Someone who finds work in week two, during the mapping, is closed as
// work: the outcome is recorded from the mapping phase (never before first
// contact), the mapping's tasks close, and follow-up runs as usual. With
// -update-histories the run is kept as outcome-from-mapping-run1.json.
func TestOutcomeInMappingClosesAsWork(t *testing.T) {
	s := newSystem(t, 0.05)
	ctx := context.Background()
	started, err := s.cases.Start(ctx, referral(personalNumber()))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	work := pathway.Outcome{Actor: coach, Kind: pathway.OutcomeWork, StartDate: time.Now(), Employer: "Åkeri AB", SSYK: "8332",
		EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised}
	// Before first contact there is nobody to record an outcome for.
	var refused pathway.Status
	if err := s.tryUpdate(id, "", pathway.UpdateOutcome, work, &refused); err == nil || !strings.Contains(err.Error(), "referral") {
		t.Fatalf("an outcome before first contact: %v", err)
	}
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach, Channel: "phone"})
	s.waitTask(t, id, "mapping")
	st := s.update(t, id, pathway.UpdateOutcome, work)
	if st.Phase != pathway.PhaseFollowUp || st.Outcome == nil || st.Outcome.Kind != pathway.OutcomeWork {
		t.Fatalf("after an outcome in mapping: phase %s outcome %+v", st.Phase, st.Outcome)
	}
	for _, task := range st.OpenTasks {
		if task.Kind == "mapping" || task.Kind == "mapping_reminder" {
			t.Fatalf("the mapping's task stayed open: %+v", task)
		}
	}
	for _, d := range []int{30, 90} {
		s.waitTask(t, id, "follow_up")
		s.update(t, id, pathway.UpdateFollowUp, pathway.FollowUp{Actor: coach, Day: d, StillThere: true})
	}
	row := s.waitRow(t, id, "closed as work", func(r store.PathwayRow) bool { return r.Status == "closed" })
	if row.ClosureReason != pathway.OutcomeWork {
		t.Fatalf("closed as %q, want work", row.ClosureReason)
	}
	var open int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE case_id = $1 AND status = 'open'`, id).Scan(&open); err != nil || open != 0 {
		t.Fatalf("open tasks on the closed case: %d %v", open, err)
	}
	if *updateHistories {
		for _, r := range histories(t, s, started.WorkflowID) {
			writeHistory(t, "outcome-from-mapping-run1.json", r)
		}
	}
}

// An outcome recorded while a step runs cancels the step, which winds down
// before the case moves on: the internship's agreement is ended at the
// employer, and the step ends cancelled because of the outcome.
func TestOutcomeWindsDownRunningStep(t *testing.T) {
	s := newSystem(t, 0.5)
	ctx := context.Background()
	started, err := s.cases.Start(ctx, referral(personalNumber()))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach, Channel: "meeting"})
	s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"warehouse"}, EducationLevel: "3",
		Language: "sv:B2", Goals: "work in logistics"})
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "9331", Steps: []pathway.StepSpec{
		{ID: "praktik", Type: agreement.NameInternship, DurationDays: 60, Params: map[string]string{"employer": "emp-001", "hours_per_week": "30"}}}})
	active := func() (string, string) {
		for _, a := range s.sim.Agreements() {
			if a.CaseID == id {
				return a.ID, a.Status
			}
		}
		return "", ""
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, st := active(); st == "active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no active agreement at the employer within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	st := s.update(t, id, pathway.UpdateOutcome, pathway.Outcome{Actor: coach, Kind: pathway.OutcomeWork, StartDate: time.Now(), Employer: "Lager AB", SSYK: "9331",
		EmployerKind: pathway.EmployerRegular, EmploymentForm: pathway.EmploymentUnsubsidised})
	if st.Phase != pathway.PhaseFollowUp {
		t.Fatalf("after the outcome: phase %s", st.Phase)
	}
	row := s.waitRow(t, id, "step wound down", func(r store.PathwayRow) bool { return r.CurrentStep == "" })
	if row.Phase != pathway.PhaseFollowUp {
		t.Fatalf("phase %s after the wind-down", row.Phase)
	}
	agreement, status := active()
	if status != "ended" {
		t.Fatalf("agreement %s is %q at the employer after the outcome, want ended", agreement, status)
	}
	var final pathway.Status
	q, err := s.tc.QueryWorkflow(ctx, started.WorkflowID, "", pathway.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Get(&final); err != nil {
		t.Fatal(err)
	}
	if len(final.Steps) != 1 || final.Steps[0].Status != pathway.StepCancelled || final.Steps[0].Reason != "outcome recorded" {
		t.Fatalf("the step after the outcome: %+v", final.Steps)
	}
}
