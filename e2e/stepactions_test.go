package e2e

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

// TestCoachRecordsWorkshopResultInConsole: a pathway's CV workshop is
// running; the coach opens the case page, where the form of the
// workshop's declared action (workshop-result) is rendered from the
// declaration, records "completed", and the step completes.
func TestCoachRecordsWorkshopResultInConsole(t *testing.T) {
	ts := testsystem.New(t, testsystem.Options{})
	srv := httptest.NewServer((&api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Cases: ts.Cases(0), Keys: ts.Keys,
		Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}).Handler())
	t.Cleanup(srv.Close)
	ts.SetPublicURL(srv.URL)
	ctx := context.Background()

	courses, err := ts.Clients.Education.SearchCourses(ctx, integrations.CourseQuery{})
	if err != nil || len(courses) == 0 {
		t.Fatalf("courses: %v", err)
	}
	started, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: validPNR(), GivenName: "Vera", FamilyName: "Holm", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true, Via: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	coach := pathway.Actor{StaffID: "coach.angered"}
	for _, u := range []struct {
		name string
		arg  any
	}{
		{pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach, Channel: "meeting"}},
		{pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"service"}, EducationLevel: "3", Language: "sv:B2", Goals: "Work in retail"}},
		{pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5223", Steps: []pathway.StepSpec{{ID: "workshop", Type: "cvworkshop",
			Title: "CV workshop", DurationDays: 30, Params: map[string]string{"workshop_code": strings.Split(courses[0].Code, "-")[1]}}}}},
	} {
		uctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := updates.Send(uctx, ts.Temporal, client.UpdateWorkflowOptions{WorkflowID: started.WorkflowID, UpdateName: u.name,
			UpdateID: started.CaseID + ":" + u.name, Args: []any{u.arg}}, nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
	}

	bctx := browser(t)
	page := srv.URL + "/pathways/" + started.CaseID
	if err := cd.Do(bctx,
		cd.Navigate(srv.URL+"/login"),
		cd.WaitVisible(cd.CSS("#username")),
		cd.SendKeys(cd.CSS("#username"), "coach.angered"),
		cd.SendKeys(cd.CSS("#password"), store.DevPassword),
		cd.Submit(cd.CSS("#password")),
		cd.WaitVisible(cd.CSS("table")),
		cd.Navigate(page),
	); err != nil {
		t.Fatal(err)
	}
	// The form shows once the workshop place is booked and the step runs.
	form := "form[data-action='workshop-result']"
	waitVisible(bctx, t, form)
	if err := cd.Do(bctx,
		cd.SetValue(cd.CSS("#sa-r1-workshop-workshop-result-outcome"), "completed"),
		cd.Click(cd.CSS("#sa-r1-workshop-workshop-result-submit")),
		cd.WaitVisible(cd.CSS("#h-timeline")),
	); err != nil {
		t.Fatal(err)
	}
	waitVisible(bctx, t, "#phase[data-phase='"+pathway.PhaseOutcome+"']")
	plan := textOf(t, bctx, "section[aria-labelledby='h-plan'] tbody")
	completed := false
	for _, tag := range lang.Supported {
		completed = completed || strings.Contains(plan, lang.New(tag).Code("step_status", pathway.StepCompleted))
	}
	if !strings.Contains(plan, "r1-workshop") || !completed {
		t.Fatalf("the plan after the result: %q", plan)
	}
	if forms, err := cd.Run(bctx, cd.Evaluate[int](`document.querySelectorAll("`+form+`").length`)); err != nil || forms != 0 {
		t.Fatalf("the workshop's form is still offered after it ended (%d, %v)", forms, err)
	}
}

// waitVisible reloads until the selector is on the page.
func waitVisible(ctx context.Context, t *testing.T, sel string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if n, err := cd.Run(ctx, cd.Evaluate[int](`document.querySelectorAll("`+sel+`").length`)); err == nil && n > 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
		_ = cd.Do(ctx, cd.Reload())
	}
	t.Fatalf("%s never showed", sel)
}
