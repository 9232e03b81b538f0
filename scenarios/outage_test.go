package scenarios

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// PostgreSQL killed for 45 s, past the local projection's 30 s: a pause sent
// meanwhile answers only after PostgreSQL is back, the console then shows it
// at once (read-your-writes), and the workflow task did not spin while it
// waited (heartbeats and the server-side retries, a handful of tasks).
func TestProjectionWaitsOutDatabaseOutage(t *testing.T) {
	db := startOwnDatabase(t)
	s := newSystemWith(t, 0, testsystem.Options{Pool: db.pool})
	ctx := context.Background()
	started, err := s.cases.Start(ctx, referral(personalNumber()))
	if err != nil {
		t.Fatal(err)
	}
	id := started.CaseID
	s.waitRow(t, id, "the referral", func(store.PathwayRow) bool { return true })
	before := workflowTasks(t, s.tc, started.WorkflowID)

	db.kill()
	answered := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: started.WorkflowID, UpdateName: pathway.UpdatePause,
			Args: []any{pathway.Pause{Actor: coach, Reason: pathway.PauseSick}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("the pause answered while PostgreSQL was down: %v", err)
	case <-time.After(45 * time.Second):
	}
	back := time.Now()
	db.restart(t)
	if err := <-answered; err != nil {
		t.Fatalf("pause after the outage: %v", err)
	}
	t.Logf("the pause answered %s after PostgreSQL was restarted", time.Since(back).Round(time.Millisecond))
	row, err := store.GetPathway(ctx, s.pool, id)
	if err != nil {
		t.Fatal(err)
	}
	if !row.Paused {
		t.Errorf("the pause answered but the read model shows %+v", row)
	}
	n := workflowTasks(t, s.tc, started.WorkflowID) - before
	t.Logf("%d workflow tasks from the kill to the answer", n)
	if n > 20 {
		t.Errorf("%d workflow tasks during a 45 s outage: the task spins", n)
	}
}

// workflowTasks counts a workflow's completed workflow tasks.
func workflowTasks(t *testing.T, c client.Client, workflowID string) int {
	n := 0
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			n++
		}
	}
	return n
}
