package steps_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
)

// TestReplayStepHistories replays every committed history of a step type's
// child workflow (steps/testdata, recorded from live runs by
// `go test ./steps/conformance -record-histories`) with today's code, and
// requires a history of every registered type. A failure means a change to
// a step's logic needs workflow.GetVersion; never rewrite a history to pass.
func TestReplayStepHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	replayer := worker.NewWorkflowReplayer()
	for _, st := range catalog.Types {
		replayer.RegisterWorkflowWithOptions(st.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(st.Name())})
	}
	covered := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			covered[h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()] = true
			if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, st := range catalog.Types {
		if !covered[steps.WorkflowName(st.Name())] {
			t.Errorf("no committed history of %s in steps/testdata", steps.WorkflowName(st.Name()))
		}
	}
}
