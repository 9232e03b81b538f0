package komvux_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/komvux"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type person struct{}

func (person) Person(context.Context, string) (integrations.Person, error) {
	return integrations.Person{PersonalNumber: "19900101-0017", GivenName: "Testa", FamilyName: "Testsson"}, nil
}

// TestCourseHoldsNoWorkerSlot: while a course runs, its result is polled by
// a short call that the server retries, so between polls nothing runs on the
// worker; a worker with production's 30 s stop grace stops at once, and the
// next worker sees the result.
func TestCourseHoldsNoWorkerSlot(t *testing.T) {
	sim := simulators.New(1, zap.NewNop())
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	tc, queue := testenv.TemporalClient(t), testenv.TaskQueue(t)
	deps := steps.Deps{Education: integrations.NewEducationClient(srv.URL+"/education", 5*time.Second), People: person{}}
	start := func() sdkworker.Worker {
		w := sdkworker.New(tc, queue, sdkworker.Options{WorkerStopTimeout: 30 * time.Second})
		w.RegisterWorkflowWithOptions(komvux.Workflow, workflow.RegisterOptions{Name: steps.WorkflowName(komvux.Name)})
		w.RegisterActivityWithOptions(komvux.Type{}.Activities(deps), activity.RegisterOptions{Name: steps.ActivityName(komvux.Name, "")})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := start()
	in := steps.Input{CaseID: "2026-POLL0001", StepID: "r1-s1", Type: komvux.Name,
		Params: map[string]string{"course_code": "USK", "form": "yrkesvux"}, DurationDays: 200, SecondsPerDay: 0.2}
	ctx := context.Background()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: pathway.StepWorkflowID(in.CaseID, in.StepID), TaskQueue: queue},
		steps.WorkflowName(komvux.Name), in)
	if err != nil {
		t.Fatal(err)
	}

	// Wait for the third poll of the running course.
	deadline := time.Now().Add(45 * time.Second)
	var enrolment string
	for {
		polls := 0
		for _, r := range sim.Requests("education", "/education/enrolments/", http.MethodGet) {
			polls++
			enrolment = strings.TrimPrefix(r.Path, "/education/enrolments/")
		}
		if polls >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d polls of the course within 45 s, want 3", polls)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d, err := tc.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if p := d.GetPendingActivities(); len(p) != 1 || p[0].GetAttempt() < 2 {
		t.Errorf("pending activities %v: want one poll the server retries (attempt 2 or later)", p)
	}

	began := time.Now()
	w.Stop()
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("the worker took %s to stop while a course ran; want at once", took.Round(time.Millisecond))
	}

	resp, err := http.Post(srv.URL+"/education/admin/enrolments/"+enrolment+"/complete", "application/json",
		strings.NewReader(`{"status":"completed","grade":"C"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("completing %s at the simulator: %s", enrolment, resp.Status)
	}
	w2 := start()
	defer w2.Stop()
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	var res steps.Result
	if err := run.Get(wctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != pathway.StepCompleted || res.Details["grade"] != "C" {
		t.Errorf("result %+v, want completed with grade C", res)
	}
}
