package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/workflows"
)

// The escalation workflows' committed histories (recorded on the dev server
// by escalation's TestSweepOnDevServerRecordsHistory; the sweep's first ones
// from the code before it moved here) replay against today's code.
func TestReplayEscalationHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/escalation/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want the sweep's first and continued runs and a manual escalation, found %v", files)
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.StallSweep, workflow.RegisterOptions{Name: contract.SweepWorkflowName})
	replayer.RegisterWorkflowWithOptions(workflows.StallSweepContinued, workflow.RegisterOptions{Name: contract.SweepContinuedName})
	replayer.RegisterWorkflowWithOptions(workflows.ManualEscalation, workflow.RegisterOptions{Name: contract.ManualWorkflowName})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			h, err := client.HistoryFromJSON(mustOpen(t, f), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatal(err)
			}
		})
	}
}
