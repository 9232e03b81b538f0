package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/store"
)

// When the education system refuses an enrolment (a 4xx), the pathway does
// not retry: the step fails once, the case goes back to planning, and a
// coach gets a task that says why.
func TestRefusalBecomesAStaffTask(t *testing.T) {
	s := newSystem(t, 1)
	ctx := context.Background()
	if err := s.sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{
		"education": {Errors: map[string]float64{"422": 1}, SideEffectsOnly: true},
	}}); err != nil {
		t.Fatal(err)
	}
	started, err := s.cases.Start(ctx, referral(personalNumber()))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"care"}, EducationLevel: "2", Language: "sv:A2", Goals: "study"})
	s.update(t, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5321", Steps: []pathway.StepSpec{
		{ID: "sfi", Type: komvux.Name, DurationDays: 30, Params: map[string]string{"course_code": "SFIC", "form": "sfi"}}}})

	s.waitTask(t, id, "replan")
	page, err := store.ListTasks(ctx, s.pool, store.TaskFilter{CaseID: id, Status: "open"})
	if err != nil {
		t.Fatal(err)
	}
	var title string
	for _, task := range page.Items {
		if task.Kind == "replan" {
			title = task.Title
		}
	}
	if !strings.Contains(title, "refused") || !strings.Contains(title, "422") || task(page.Items, "replan").Role != "job_coach" {
		t.Fatalf("replan task %q does not say why", title)
	}
	t.Logf("task: %s", title)
	row := s.waitRow(t, id, "back to planning", func(r store.PathwayRow) bool { return r.Phase == pathway.PhasePlanning })
	if row.Status != "active" {
		t.Fatalf("row %+v", row)
	}
	// One attempt, no retries, and still one after a while.
	time.Sleep(3 * time.Second)
	if n := len(s.sim.Requests("education", "/education/enrolments", "POST")); n != 1 {
		t.Fatalf("%d enrolment attempts after a refusal, want 1", n)
	}
	// The participant moves away; the history (with the replan task's
	// version marker) is a replay fixture.
	s.update(t, id, pathway.UpdateClose, pathway.Close{Actor: coach, Reason: pathway.CloseMoved, Note: "moved to another municipality"})
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &final); err != nil {
		t.Fatal(err)
	}
	if *updateHistories {
		for i, r := range histories(t, s, started.WorkflowID) {
			writeHistory(t, fmt.Sprintf("refusal-replan-run%d.json", i+1), r)
		}
	}
}

func task(ts []store.TaskRow, kind string) store.TaskRow {
	for _, t := range ts {
		if t.Kind == kind {
			return t
		}
	}
	return store.TaskRow{}
}
