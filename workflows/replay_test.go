package workflows_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	pworker "github.com/pathways-se/pathways/worker"
)

// historyDirs hold every committed history: the pathway's, the sweep's and
// manual escalation's, retention's (here) and each step type's.
var historyDirs = []string{"testdata", "../steps/testdata"}

// replayRegistry lets the worker's own registration functions fill a
// replayer, so it replays exactly the workflow types the worker runs; it
// keeps their names and ignores activities.
type replayRegistry struct {
	sdkworker.Registry
	replayer sdkworker.WorkflowReplayer
	names    map[string]bool
}

func (r *replayRegistry) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}
func (r *replayRegistry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	r.replayer.RegisterWorkflowWithOptions(w, o)
	r.names[o.Name] = true
}
func (r *replayRegistry) RegisterActivity(any)                                      {}
func (r *replayRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions) {}

// Every committed history must replay against today's code, and every
// workflow type the worker registers has at least one. A failure here means
// a change to a workflow's logic needs workflow.GetVersion: never rewrite a
// history to make it pass.
func TestReplayCommittedHistories(t *testing.T) {
	r := &replayRegistry{replayer: sdkworker.NewWorkflowReplayer(), names: map[string]bool{}}
	reg := catalog.Registry()
	pworker.RegisterPathway(r, reg, nil, nil, steps.Deps{})
	pworker.RegisterSteps(r, reg, steps.Deps{})
	escalation.Register(r, &escalation.Activities{})
	pworker.RegisterRetention(r, &activities.Retention{})

	var files []string
	for _, dir := range historyDirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	covered := map[string]int{}
	for _, f := range files {
		h, err := client.HistoryFromJSON(mustOpen(t, f), client.HistoryJSONOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if a := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes(); a != nil {
			covered[a.GetWorkflowType().GetName()]++
		}
		t.Run(strings.TrimPrefix(f, "../"), func(t *testing.T) {
			if err := r.replayer.ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatal(err)
			}
		})
	}
	var missing []string
	for name := range r.names {
		if covered[name] == 0 {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no committed history of the registered workflow type(s) %v: record one (see README, Versioning)", missing)
	}
	t.Logf("%d histories replayed, covering %d workflow types", len(files), len(covered))
}

func mustOpen(t *testing.T, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
