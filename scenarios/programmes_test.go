package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/store"
)

// Each shipped programme runs end to end on its default steps against the
// simulators: courses are completed by the education system, agreements
// run to their end date, manual steps are confirmed by staff.
func TestShippedProgrammesEndToEnd(t *testing.T) {
	cases := []struct {
		programme, birth, ssyk string
		need                   bool
		outcome                string // recorded by staff when the steps are done; "" if a step leads to it
	}{
		{"youth", "20040312", "5321", false, pathway.OutcomeStudies},
		{"adult", "19850412", "5321", true, pathway.OutcomeWork},
		{"jobtrack", "19900520", "5321", true, ""},
	}
	// 0.06 s a day: the 548-day limit lasts 33 s, room for a loaded CI machine
	// beside the ~150 programme days of agreements that run to their end.
	s := newSystem(t, 0.06)
	for i, c := range cases {
		t.Run(c.programme, func(t *testing.T) {
			ctx := context.Background()
			nine := c.birth[2:] + fmt.Sprintf("%03d", 200+i)
			r := referral(c.birth + "-" + nine[6:] + string(identity.CheckDigit(nine)))
			r.Programme = c.programme
			if c.programme == "youth" {
				r.District = "Hisingen"
			}
			started, err := s.cases.Start(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			id := started.CaseID
			plan := pathway.Plan{Actor: coach, TargetSSYK: c.ssyk} // no steps: the programme's defaults
			if c.need {
				needs, err := s.clients.Employers.RecruitmentNeeds(ctx, integrations.NeedQuery{Municipality: "1480"})
				if err != nil || len(needs) == 0 {
					t.Fatalf("recruitment needs: %v (%d)", err, len(needs))
				}
				plan.RecruitmentNeedID, plan.TargetSSYK = needs[0].ID, needs[0].SSYK
			}
			s.update(t, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
			s.update(t, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"care"}, EducationLevel: "2", Language: "sv:B1", Goals: "work"})
			s.update(t, id, pathway.UpdateApprovePlan, plan)
			row := s.drive(t, id, c.outcome)
			if row.Status != "closed" || row.Outcome == nil || row.ClosureReason != row.Outcome.Kind {
				t.Fatalf("%s ended %+v outcome %+v", c.programme, row, row.Outcome)
			}
			tl, err := store.Timeline(ctx, s.pool, s.cases.Keys, id)
			if err != nil {
				t.Fatal(err)
			}
			ended := 0
			for _, e := range tl {
				if e.Kind == "step_ended" {
					ended++
					if !strings.Contains(e.Summary, "completed") {
						t.Errorf("step not completed: %s", e.Summary)
					}
				}
			}
			if ended == 0 {
				t.Errorf("no step ran")
			}
		})
	}
}

// drive acts as staff and as the education system until the case closes.
func (s *system) drive(t *testing.T, id, outcome string) store.PathwayRow {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(3 * time.Minute)
	completed := map[string]bool{}
	confirmed := map[string]bool{}
	answered := map[int]bool{}
	for time.Now().Before(deadline) {
		row, err := store.GetPathway(ctx, s.pool, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case row.Status == "closed":
			return row
		case row.Phase == pathway.PhaseSteps && (strings.HasSuffix(row.CurrentStep, "coaching") || strings.HasSuffix(row.CurrentStep, "guidance")):
			if !confirmed[row.CurrentStep] {
				var out string
				if s.tryUpdate(id, pathway.StepWorkflowID(id, row.CurrentStep), manual.UpdateConfirm, manual.Confirm{Actor: coach, Outcome: pathway.StepCompleted}, &out) == nil {
					confirmed[row.CurrentStep] = true
				}
			}
		case row.Phase == pathway.PhaseOutcome:
			var st pathway.Status
			if err := s.tryUpdate(id, "", pathway.UpdateOutcome, withDetails(pathway.Outcome{Actor: coach, Kind: outcome, StartDate: time.Now(), Employer: "Vuxenutbildningen"}), &st); err != nil {
				t.Fatalf("outcome: %v", err)
			}
		case row.Phase == pathway.PhaseFollowUp && row.OpenTasks > 0:
			for _, d := range []int{30, 90} {
				if answered[d] {
					continue
				}
				var st pathway.Status
				if s.tryUpdate(id, "", pathway.UpdateFollowUp, pathway.FollowUp{Actor: coach, Day: d, StillThere: true}, &st) == nil {
					answered[d] = true
				}
				break
			}
		case row.Phase == pathway.PhasePlanning:
			t.Fatalf("a step did not complete; the case went back to planning")
		}
		// The education system finishes any open enrolment of this case.
		for _, e := range s.sim.Enrolments() {
			if e.CaseID == id && e.Status == integrations.EnrolmentActive && !completed[e.ID] {
				resp, err := http.Post(s.simURL+"/education/admin/enrolments/"+e.ID+"/complete", "application/json",
					bytes.NewReader([]byte(`{"status":"completed","grade":"C"}`)))
				if err == nil {
					resp.Body.Close()
					completed[e.ID] = resp.StatusCode < 300
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	row, _ := store.GetPathway(ctx, s.pool, id)
	t.Fatalf("case %s did not close in time: %+v", id, row)
	return row
}
