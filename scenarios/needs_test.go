package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/internship"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// registerNeed is a broker registering a need in the employer system for
// Västtrafik (Göteborg, where the test participants live).
func registerNeed(t *testing.T, s *system, key string, positions int) integrations.RecruitmentNeed {
	t.Helper()
	n, err := s.clients.Needs.RegisterNeed(context.Background(), key, integrations.NewNeed{EmployerID: "emp-vasttrafik", SSYK: "8331",
		Title: "Bus drivers", Positions: positions, StartDate: time.Now().AddDate(0, 2, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func needNow(t *testing.T, s *system, id string) integrations.RecruitmentNeed {
	t.Helper()
	n, err := s.clients.Needs.Need(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// toPlanning starts a pathway and records first contact and mapping.
func toPlanning(t *testing.T, s *system) (string, string) {
	t.Helper()
	started, err := s.cases.Start(context.Background(), referral(personalNumber()))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"driving"}, EducationLevel: "2", Language: "sv:B1", Goals: "bus driver"})
	return id, started.WorkflowID
}

// A need the employer withdraws while the participant is in the training
// step before its internship: the need watcher signals the pathway, which
// opens a replan task naming the need; the training goes on.
func TestNeedWithdrawnDuringTrainingOpensReplanTask(t *testing.T) {
	s := newSystem(t, 1)
	ctx := context.Background()
	need := registerNeed(t, s, "test:withdrawn:"+t.Name()+fmt.Sprint(time.Now().UnixNano()), 3)
	id, wfID := toPlanning(t, s)
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "8331", RecruitmentNeedID: need.ID, Steps: []pathway.StepSpec{
		{ID: "training", Type: komvux.Name, DurationDays: 60, Params: map[string]string{"course_code": "1480-SFIC-01", "form": "sfi"}},
		{ID: "internship", Type: internship.Name, DurationDays: 60, Params: map[string]string{"employer": "need"}}}})
	s.waitRow(t, id, "the training step running", func(r store.PathwayRow) bool { return strings.Contains(r.CurrentStep, "training") })

	// Nothing to tell while the need is open.
	if n, err := worker.CheckNeeds(ctx, s.pool, s.clients.Needs, s.tc); err != nil || n != 0 {
		t.Fatalf("open need: %d signalled, %v", n, err)
	}
	if _, err := s.clients.Needs.SetNeedStatus(ctx, "test:withdraw:"+need.ID, need.ID, integrations.NeedWithdrawn, "hiring frozen"); err != nil {
		t.Fatal(err)
	}
	n, err := worker.CheckNeeds(ctx, s.pool, s.clients.Needs, s.tc)
	if err != nil || n != 1 {
		t.Fatalf("withdrawn need: %d signalled, %v", n, err)
	}
	s.waitTask(t, id, "replan")
	page, err := store.ListTasks(ctx, s.pool, store.TaskFilter{CaseID: id, Status: "open"})
	if err != nil {
		t.Fatal(err)
	}
	title := task(page.Items, "replan").Title
	if !strings.Contains(title, need.ID) || !strings.Contains(title, "withdrawn") || !strings.Contains(title, "hiring frozen") {
		t.Fatalf("the replan task %q does not name the need and why", title)
	}
	// The training goes on, the need is no longer linked, and the watcher
	// has nothing more to say.
	row := s.waitRow(t, id, "need unlinked", func(r store.PathwayRow) bool {
		ties, _ := store.NeedTies(ctx, s.pool)
		for _, tc := range ties {
			if tc.CaseID == r.CaseID {
				return false
			}
		}
		return true
	})
	if row.Phase != pathway.PhaseSteps || !strings.Contains(row.CurrentStep, "training") {
		t.Fatalf("the training stopped: %+v", row)
	}
	if n, err := worker.CheckNeeds(ctx, s.pool, s.clients.Needs, s.tc); err != nil || n != 0 {
		t.Fatalf("after the replan task: %d signalled, %v", n, err)
	}
	s.update(t, id, pathway.UpdateClose, pathway.Close{Actor: coach, Reason: pathway.CloseMoved, Note: "moved"})
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, wfID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if *updateHistories {
		for i, r := range histories(t, s, wfID) {
			writeHistory(t, fmt.Sprintf("need-withdrawn-replan-run%d.json", i+1), r)
		}
	}
}

// The employer system counts a need's positions down as agreements naming
// it are made, marks it filled at none, and counts up again when an
// agreement ends early.
func TestNeedPositionsCountDownAndUp(t *testing.T) {
	s := newSystem(t, 1)
	ctx := context.Background()
	need := registerNeed(t, s, "test:positions:"+fmt.Sprint(time.Now().UnixNano()), 1)
	if need.Positions != 1 || need.Status != integrations.NeedOpen {
		t.Fatalf("registered need %+v", need)
	}
	id, wfID := toPlanning(t, s)
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "8331", RecruitmentNeedID: need.ID, Steps: []pathway.StepSpec{
		{ID: "internship", Type: internship.Name, DurationDays: 120, Params: map[string]string{"employer": "need"}}}})
	deadline := time.Now().Add(60 * time.Second)
	for n := needNow(t, s, need.ID); n.Filled != 1; n = needNow(t, s, need.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("no position taken: %+v", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := needNow(t, s, need.ID); n.Positions != 0 || n.Status != integrations.NeedFilled {
		t.Fatalf("after the agreement: %+v", n)
	}
	// The participant moves: the internship winds down before its end date
	// and the position comes free again.
	s.update(t, id, pathway.UpdateClose, pathway.Close{Actor: coach, Reason: pathway.CloseMoved, Note: "moved"})
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, wfID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if n := needNow(t, s, need.ID); n.Positions != 1 || n.Filled != 0 || n.Status != integrations.NeedOpen {
		t.Fatalf("after the early end: %+v", n)
	}
	agr := 0
	for _, r := range s.sim.Requests("employers", "/employers/agreements", "POST") {
		if r.Status == 201 {
			agr++
		}
	}
	if agr != 1 {
		t.Fatalf("%d agreements made, want 1", agr)
	}
}

// Every approved plan and every revision is reported to the employment
// service once, under a key numbered by the revision.
func TestPlanReportedPerRevision(t *testing.T) {
	s := newSystem(t, 1)
	ctx := context.Background()
	pnr := personalNumber()
	s.sim.SetRegistration(pnr, true, "jobb- och utvecklingsgarantin", []string{"plan", "outcome"})
	started, err := s.cases.Start(ctx, referral(pnr))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"care"}, EducationLevel: "2", Language: "sv:B1", Goals: "care"})
	manualStep := func(id string, days int) pathway.StepSpec {
		return pathway.StepSpec{ID: id, Type: "manual", DurationDays: days, Params: map[string]string{"description": "coaching"}}
	}
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5321", Steps: []pathway.StepSpec{manualStep("coaching", 60)}})
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5321", Steps: []pathway.StepSpec{manualStep("cv", 30), manualStep("more", 30)}})
	want := []string{id + ":plan:1:report", id + ":plan:2:report"}
	deadline := time.Now().Add(60 * time.Second)
	var keys []string
	for {
		keys = nil
		for _, r := range s.sim.Requests("employment", "/employment/plans", "POST") {
			if r.Status == 202 && !r.Replay {
				keys = append(keys, r.IdempotencyKey)
			}
		}
		if len(keys) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("plan reports under %v, want %v", keys, want)
	}
	s.update(t, id, pathway.UpdateClose, pathway.Close{Actor: coach, Reason: pathway.CloseMoved, Note: "moved"})
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if n := len(s.sim.Requests("employment", "/employment/plans", "POST")); n != 2 {
		t.Fatalf("%d plan report requests, want 2", n)
	}
	if *updateHistories {
		for i, r := range histories(t, s, started.WorkflowID) {
			writeHistory(t, fmt.Sprintf("plan-report-run%d.json", i+1), r)
		}
	}
}
