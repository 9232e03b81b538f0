package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// changes are the guarded changes of the pathway workflow, each with the
// change level from which a new pathway has it without asking. A pathway
// started at that level or above takes the change's version 1 from its
// first event and records no version marker; the SDK's marker also updated
// a search attribute, a visibility write on the server (a first workflow
// task with one ran at 92 pathways a second against 105 without, measured
// by turns in one run). Older pathways ask workflow.GetVersion as before.
//
// A new change is listed at the next level (pathway.ChangeLevel + 1), so it
// is asked of GetVersion until a release raises pathway.ChangeLevel to it;
// a change to a place already guarded takes a new change ID, never version
// 2 of a listed one. TestEveryAskedChangeIsListed keeps every ID asked
// listed, so a misspelt one cannot quietly record markers again.
var changes = map[string]int{
	"project-local-activity":    1,
	"hand-over-yields-to-close": 1,
	"carried-notices":           1,
	"report-plan":               1,
	"outcome-from-mapping":      1,
	"outcome-notices-from-loop": 1,
	"one-escalation-ladder":     1,
	"need-gone-replan":          1,
	"outcome-during-step-start": 1,
	"replan-task-says-why":      1,
}

// knownLevel is the highest change level this code knows: the one its own
// starters stamp.
const knownLevel = pathway.ChangeLevel

// version is workflow.GetVersion(ctx, change, DefaultVersion, 1) for a
// pathway that predates the change's level, and 1 without a marker for one
// that started with it.
func (w *pathwayWorkflow) version(ctx workflow.Context, change string) workflow.Version {
	if level, ok := changes[change]; ok && w.in.ChangeLevel >= level {
		return 1
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1)
}

// checkLevel refuses a pathway from a newer release: a panic fails the
// workflow task, which Temporal retries until a worker that knows the level
// runs it, instead of running changes this code lacks as if it had them.
func (w *pathwayWorkflow) checkLevel() {
	if w.in.ChangeLevel > knownLevel {
		panic(fmt.Sprintf("pathway %s started at change level %d; this worker knows up to %d: upgrade the worker", w.in.CaseID, w.in.ChangeLevel, knownLevel))
	}
}
