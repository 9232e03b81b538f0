package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	pworker "github.com/pathways-se/pathways/worker"
	"github.com/pathways-se/pathways/workflows"
)

// Every committed history must replay against today's code. A failure here
// means a change to the workflow's logic needs workflow.GetVersion.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no committed histories in workflows/testdata")
	}
	reg := catalog.Registry()
	replayer := worker.NewWorkflowReplayer()
	wf := &workflows.Pathways{Steps: pworker.StepCatalog(reg)}
	replayer.RegisterWorkflowWithOptions(wf.Pathway, workflow.RegisterOptions{Name: pathway.WorkflowName})
	for _, st := range reg.All() {
		replayer.RegisterWorkflowWithOptions(st.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(st.Name())})
	}
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

func mustOpen(t *testing.T, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
