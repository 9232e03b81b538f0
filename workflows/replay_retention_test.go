package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/retention"
	"github.com/pathways-se/pathways/workflows"
)

// The retention workflow's committed histories (recorded by
// `go test ./retention -update-histories`) replay against today's code.
func TestReplayRetentionHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/retention/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed retention histories: %v", err)
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.Retention, workflow.RegisterOptions{Name: retention.WorkflowName})
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
