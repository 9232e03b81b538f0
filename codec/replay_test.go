package codec_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	pworker "github.com/pathways-se/pathways/worker"
	"github.com/pathways-se/pathways/workflows"
)

// The committed histories were recorded before encryption: a worker with
// the codec (as every worker now has) still replays them, since payloads
// without the encrypted encoding pass through.
func TestCommittedHistoriesReplayThroughTheCodec(t *testing.T) {
	files, err := filepath.Glob("../workflows/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed histories: %v", err)
	}
	r1, _ := rings(t)
	dc := codec.DataConverter(r1)
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
	if err != nil {
		t.Fatal(err)
	}
	reg := catalog.Registry()
	wf := &workflows.Pathways{Steps: pworker.StepCatalog(reg)}
	replayer.RegisterWorkflowWithOptions(wf.Pathway, workflow.RegisterOptions{Name: pathway.WorkflowName})
	for _, st := range reg.All() {
		replayer.RegisterWorkflowWithOptions(st.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(st.Name())})
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			h, err := client.HistoryFromJSON(fh, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A history recorded now is encrypted under this run's keys; decoded in
// place (as -update-histories writes it) it replays without any key.
func TestRecordedHistoryReplaysDecoded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ring := testenv.Keyring(t)
	c := encryptedClient(t, ring)
	queue := testenv.TaskQueue(t)
	w := startWorker(t, c, queue)
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, echo, "recorded")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "finish", "done"); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	plain := worker.NewWorkflowReplayer()
	plain.RegisterWorkflow(echo)
	if err := plain.ReplayWorkflowHistory(nil, h); err == nil {
		t.Fatal("an encrypted history replayed without keys: the test shows nothing")
	}
	if err := codec.New(ring).DecodeInPlace(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := plain.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("decoded history: %v", err)
	}
}
