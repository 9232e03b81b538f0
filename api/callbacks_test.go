package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/callbacks"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
)

// TestEducationCallbackRelayed: a Komvux step's enrolment carries a signed
// callback URL; when the education simulator ends the course it calls that
// URL, the API relays the result to the step as a signal, and the step
// completes (the pathway runs on real time, so its poll would take an
// hour: the callback is what ends it). A forged or another step's
// signature is refused.
func TestEducationCallbackRelayed(t *testing.T) {
	e := newEnv(t, true)
	coach := e.signIn(t, "coach.angered")
	courses, err := e.ts.Clients.Education.SearchCourses(context.Background(), integrations.CourseQuery{Municipality: "1480"}) // Angered is in Göteborg
	if err != nil || len(courses) == 0 {
		t.Fatalf("courses: %v", err)
	}
	code := courses[0].Code // the catalogue code of a course in the participant's municipality

	var started cases.Started
	coach.must(coach.post("/api/v1/pathways", referral(personalNumber(), "Angered")), http.StatusCreated).decode(t, &started)
	base := "/api/v1/pathways/" + started.CaseID
	waitFor(t, "the pathway", func() bool {
		return coach.post(base+"/first-contact", map[string]any{"channel": "phone"}).Status == http.StatusOK
	})
	coach.must(coach.post(base+"/mapping", map[string]any{"abilities": []string{"care"}, "education_level": "3", "language": "sv:B1", "goals": "Work in care"}), http.StatusOK)
	coach.must(coach.post(base+"/plan", map[string]any{"target_ssyk": "5321", "steps": []map[string]any{
		{"id": "course", "type": "komvux", "title": "Course", "duration_days": 60, "params": map[string]string{"course_code": code, "form": "komvux"}}}}), http.StatusOK)

	var enrolment string
	waitFor(t, "the enrolment", func() bool {
		for _, en := range e.sim.Enrolments() {
			if en.CaseID == started.CaseID {
				enrolment = en.ID
			}
		}
		return enrolment != ""
	})
	// Only the signed URL of this very step is accepted.
	anon := e.anon(t)
	body := map[string]any{"enrolment_id": enrolment, "status": "completed", "grade": "A"}
	anon.must(anon.post("/callbacks/education/"+started.CaseID+"/r1-course?sig=00ff", body), http.StatusForbidden)
	anon.must(anon.post("/callbacks/education/"+started.CaseID+"/r1-course", body), http.StatusForbidden)
	anon.must(anon.post("/callbacks/education/"+started.CaseID+"/r1-other?sig="+callbacks.Signature(e.api.Keys, started.CaseID, "r1-course"), body), http.StatusForbidden)

	// The education system ends the course and calls back.
	resp, err := http.Post(e.ts.SimURL+"/education/admin/enrolments/"+enrolment+"/complete", "application/json", strings.NewReader(`{"status":"completed","grade":"B"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var done struct{ Callback bool }
	reply{Status: resp.StatusCode, Body: b}.decode(t, &done)
	if resp.StatusCode != http.StatusOK || !done.Callback {
		t.Fatalf("complete: %d, callback URL set at enrolment: %v", resp.StatusCode, done.Callback)
	}
	var view api.PathwayView
	waitFor(t, "the course step completed by the relayed callback", func() bool {
		coach.must(coach.get(base), http.StatusOK).decode(t, &view)
		for _, s := range view.Live.Steps {
			if s.ID == "r1-course" && s.Status == pathway.StepCompleted {
				return true
			}
		}
		return false
	})
	relayed := false
	for _, cb := range e.sim.Callbacks() {
		if cb.EnrolmentID == enrolment && cb.HTTPStatus == http.StatusAccepted {
			relayed = true
		}
	}
	if !relayed {
		t.Fatalf("the simulator's callback was not answered 202: %+v", e.sim.Callbacks())
	}
	// A late repeat, once the step has ended, is answered without relaying.
	anon.must(anon.post("/callbacks/education/"+started.CaseID+"/r1-course?sig="+callbacks.Signature(e.api.Keys, started.CaseID, "r1-course"), body), http.StatusOK)
}
