package workflows

import (
	"encoding/json"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/store"
)

// Activity receivers: nil pointers only name the methods for ExecuteActivity.
var (
	registryActs *activities.Registry
	outsideActs  *activities.Outside
)

// projectionOptions retry until PostgreSQL answers: the read model must
// converge, and the write is idempotent by sequence number.
var projectionOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// outsideOptions bound calls to outside systems: 5xx and timeouts retry with
// backoff, at least once a minute, for a day; refusals are non-retryable and
// become staff tasks.
var outsideOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{"rejected", "unknown_case", "unknown_centre"},
	},
}

// outsideOptions are outsideOptions with back-off under the pathway's clock.
func (w *pathwayWorkflow) outsideOptions() workflow.ActivityOptions {
	return steps.CompressBackoff(outsideOptions, w.in.SecondsPerDay)
}

func event(kind, summary, actor string) *store.TimelineEvent {
	return &store.TimelineEvent{Kind: kind, Summary: summary, Actor: actor}
}

func eventWith(kind, summary, actor string, data any) *store.TimelineEvent {
	e := event(kind, summary, actor)
	// encoding/json caches types with sync.Map; its output is deterministic.
	//workflowcheck:ignore
	if b, err := json.Marshal(data); err == nil {
		e.Data = b
	}
	return e
}

// openTask records a task in state; the next projection writes it.
func (w *pathwayWorkflow) openTask(t pathway.Task) {
	if w.st.hasTask(t.Key) {
		return
	}
	w.st.Tasks = append(w.st.Tasks, t)
	w.opened = append(w.opened, t)
}

// closeTask removes a task from state; the next projection marks it done.
func (w *pathwayWorkflow) closeTask(key string) {
	if w.st.removeTask(key) {
		w.closed = append(w.closed, key)
	}
}

// closeTasksOfKind closes every open task of a kind.
func (w *pathwayWorkflow) closeTasksOfKind(kind string) {
	var keys []string
	for _, t := range w.st.Tasks {
		if t.Kind == kind {
			keys = append(keys, t.Key)
		}
	}
	for _, k := range keys {
		w.closeTask(k)
	}
}

// project writes the current state, an optional timeline event and the task
// changes since the last projection to the read model.
func (w *pathwayWorkflow) project(ctx workflow.Context, progress bool, ev *store.TimelineEvent) error {
	if progress {
		w.calm()
	}
	w.st.Seq++
	p := store.Projection{
		CaseID:     w.in.CaseID,
		Seq:        w.st.Seq,
		At:         workflow.Now(ctx),
		Status:     w.status(ctx),
		Progress:   progress,
		Event:      ev,
		OpenTasks:  w.opened,
		CloseTasks: w.closed,
	}
	w.opened, w.closed = nil, nil
	actx := workflow.WithActivityOptions(ctx, projectionOptions)
	return workflow.ExecuteActivity(actx, registryActs.Project, p).Get(ctx, nil)
}

// notify tells an outside system about the pathway. A refusal becomes a task
// for staff and a timeline entry instead of failing the pathway.
func (w *pathwayWorkflow) notify(ctx workflow.Context, what string, fn any, n activities.Notice) error {
	actx := workflow.WithActivityOptions(ctx, w.outsideOptions())
	err := workflow.ExecuteActivity(actx, fn, n).Get(ctx, nil)
	if err == nil {
		return nil
	}
	w.openTask(pathway.Task{Key: w.taskKey("integration", what, n.Event), Kind: "integration_rejected",
		Title: "Handle manually: " + what + " failed: " + steps.ErrorMessage(err), Role: "team_lead",
		Due: workflow.Now(ctx).Add(w.days(2))})
	return w.project(ctx, false, event("integration_failed", what+" failed: "+steps.ErrorMessage(err), "system"))
}

// calm closes the escalation once the case moves: progress is the answer an
// escalation asks for.
func (w *pathwayWorkflow) calm() {
	if len(w.st.Escalations) == 0 {
		return
	}
	w.st.Escalations = nil
	w.closeTasksOfKind("escalation")
}
