package updates_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/updates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// gate holds a workflow's first "finish" handler until the test has sent a
// signal, so the signal arrives while the task carrying the Update runs.
type gate struct {
	entered, release chan struct{}
	once             sync.Once
}

var gates sync.Map // workflow ID -> *gate

// finishWorkflow ends once a "finish" Update has run, and returns how many
// times the handler ran in the history it ended with.
func finishWorkflow(ctx workflow.Context) (int, error) {
	applied := 0
	if err := workflow.SetUpdateHandler(ctx, "finish", func(ctx workflow.Context) error {
		if g, ok := gates.Load(workflow.GetInfo(ctx).WorkflowExecution.ID); ok && !workflow.IsReplaying(ctx) {
			// The test holds the task on purpose, outside any replay.
			//workflowcheck:ignore
			g.(*gate).once.Do(func() {
				close(g.(*gate).entered)
				<-g.(*gate).release
			})
		}
		applied++
		return nil
	}); err != nil {
		return 0, err
	}
	if err := workflow.Await(ctx, func() bool { return applied > 0 }); err != nil {
		return 0, err
	}
	return applied, nil
}

// The run ends in the same workflow task that carries the Update, while a
// signal arrives: the server fails that task and aborts the Update. A raw
// Update reports the abort to its caller although nothing was applied;
// Send sends it again under its ID and it is applied once.
func TestSendResendsAnUpdateItsTaskLost(t *testing.T) {
	c := testenv.TemporalClient(t)
	tq := testenv.TaskQueue(t)
	// The handler holds its task while the test signals: on a loaded
	// machine that may pass the SDK's 1 s deadlock detection.
	w := worker.New(c, tq, worker.Options{DeadlockDetectionTimeout: time.Minute})
	w.RegisterWorkflow(finishWorkflow)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	race := func(name string, send func(client.UpdateWorkflowOptions) error) (client.WorkflowRun, error) {
		id := tq + "-" + name
		g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
		gates.Store(id, g)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, finishWorkflow)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			gates.Delete(id)
			_ = c.TerminateWorkflow(context.Background(), id, "", "test over") // the raw run still waits
		})
		sent := make(chan error, 1)
		go func() {
			sent <- send(client.UpdateWorkflowOptions{WorkflowID: id, UpdateID: id + ":finish", UpdateName: "finish"})
		}()
		select {
		case <-g.entered:
		case <-ctx.Done():
			t.Fatal("the Update never reached its handler")
		}
		if err := c.SignalWorkflow(ctx, id, "", "poke", nil); err != nil {
			t.Fatal(err)
		}
		close(g.release)
		return run, <-sent
	}

	// Without a resend the caller is told of a failure.
	_, err := race("raw", func(o client.UpdateWorkflowOptions) error {
		o.WaitForStage = client.WorkflowUpdateStageCompleted
		h, err := c.UpdateWorkflow(ctx, o)
		if err == nil {
			err = h.Get(ctx, nil)
		}
		return err
	})
	var nr *serviceerror.WorkflowNotReady
	if !errors.As(err, &nr) {
		t.Fatalf("a raw Update in the lost task returned %v; the race did not happen, so the rest proves nothing", err)
	}

	run, err := race("send", func(o client.UpdateWorkflowOptions) error { return updates.Send(ctx, c, o, nil) })
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	var applied int
	if err := run.Get(ctx, &applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("the handler ran %d times in the final history, want 1", applied)
	}
}

func TestSendNeedsAnID(t *testing.T) {
	err := updates.Send(context.Background(), nil, client.UpdateWorkflowOptions{WorkflowID: "w", UpdateName: "u"}, nil)
	if err == nil {
		t.Fatal("an Update without an ID was sent")
	}
}

func TestClassify(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name    string
		ctx     context.Context
		err     error
		want    updates.Outcome
		message string
	}{
		{"applied", context.Background(), nil, updates.Applied, ""},
		{"validator", context.Background(), temporal.NewApplicationError("no open task", "Refused"), updates.Refused, "no open task"},
		{"no workflow", context.Background(), serviceerror.NewNotFound("workflow not found"), updates.NotRunning, ""},
		{"wait over", context.Background(), fmt.Errorf("update: %w", context.DeadlineExceeded), updates.Pending, ""},
		{"caller gone", done, errors.New("transport closing"), updates.Pending, ""},
		{"service failed", context.Background(), serviceerror.NewInternal("boom"), updates.Unknown, ""},
		{"dropped every time", context.Background(), serviceerror.NewWorkflowNotReady("unexpected workflow task failure"), updates.NotApplied, ""},
		{"dropped, then the wait ended", done, serviceerror.NewWorkflowNotReady("unexpected workflow task failure"), updates.NotApplied, ""},
	} {
		if o, m := updates.Classify(c.ctx, c.err); o != c.want || m != c.message {
			t.Errorf("%s: %v %q, want %v %q", c.name, o, m, c.want, c.message)
		}
	}
}
