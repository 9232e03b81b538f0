package workflows

import (
	"encoding/json"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
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

// localProjectionOptions run the projection in the worker, inside the
// workflow task, so an Update answers without two extra trips through the
// server. Every back-off stays under the workflow task timeout (10 s), so
// the SDK retries in process while it heartbeats the task; after 30 s the
// server-side activity takes over with projectionOptions, so a long
// PostgreSQL outage costs timers on the server, not a spinning task.
var localProjectionOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Second,
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
	return compressBackoff(outsideOptions, w.in.SecondsPerDay)
}

// compressBackoff and errorMessage are the contract's, shared with the steps.
var (
	compressBackoff = pathway.CompressBackoff
	errorMessage    = pathway.ErrorMessage
)

func event(kind, summary, actor string) *pathway.TimelineEvent {
	return &pathway.TimelineEvent{Kind: kind, Summary: summary, Actor: actor}
}

func eventWith(kind, summary, actor string, data any) *pathway.TimelineEvent {
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
func (w *pathwayWorkflow) project(ctx workflow.Context, progress bool, ev *pathway.TimelineEvent) error {
	if progress {
		w.calm()
	}
	w.st.Seq++
	p := pathway.Projection{
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
	if w.version(ctx, "project-local-activity") == 1 {
		lctx := workflow.WithLocalActivityOptions(ctx, localProjectionOptions)
		err := workflow.ExecuteLocalActivity(lctx, pathway.ActivityProject, p).Get(ctx, nil)
		if err == nil || ctx.Err() != nil {
			return err
		}
		// PostgreSQL is away for longer: the same idempotent write, retried
		// by the server until it lands; the caller still waits for it.
	}
	actx := workflow.WithActivityOptions(ctx, projectionOptions)
	return workflow.ExecuteActivity(actx, pathway.ActivityProject, p).Get(ctx, nil)
}

// notice is a notice to an outside system with the activity that sends it.
// Undelivered ones are state, so a hand-over to the next run carries them.
type notice struct {
	Activity string         `json:"activity"` // pathway.ActivityNotifySocialServices or ActivityReportOutcome
	What     string         `json:"what"`     // for staff: "social services notice"
	Notice   pathway.Notice `json:"notice"`
}

// notify tells an outside system about the pathway and waits for it.
func (w *pathwayWorkflow) notify(ctx workflow.Context, n notice) error {
	actx := workflow.WithActivityOptions(ctx, w.outsideOptions())
	err := workflow.ExecuteActivity(actx, n.Activity, n.Notice).Get(ctx, nil)
	if err == nil {
		return nil
	}
	return w.notifyFailed(ctx, n, err)
}

// notifyFailed makes a failed notice a task for staff and a timeline entry
// instead of failing the pathway.
func (w *pathwayWorkflow) notifyFailed(ctx workflow.Context, n notice, err error) error {
	w.openTask(pathway.Task{Key: w.taskKey("integration", n.What, n.Notice.Event), Kind: "integration_rejected",
		Title: "Handle manually: " + n.What + " failed: " + errorMessage(err), Role: "team_lead",
		Due: workflow.Now(ctx).Add(w.days(2))})
	return w.project(ctx, false, event("integration_failed", n.What+" failed: "+errorMessage(err), "system"))
}

// send queues notices for the sender, which delivers them in order beside
// the main loop. They stay in state until answered: a hand-over does not
// wait for a slow outside system, the next run sends them again under the
// same keys, and the outside system answers a repeat from its key.
func (w *pathwayWorkflow) send(ctx workflow.Context, ns ...notice) {
	w.st.Notices = append(w.st.Notices, ns...)
	w.startSender(ctx)
}

func (w *pathwayWorkflow) startSender(ctx workflow.Context) {
	if w.sending {
		return
	}
	w.sending = true
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { w.sending = false }()
		for len(w.st.Notices) > 0 {
			n := w.st.Notices[0]
			actx := workflow.WithActivityOptions(ctx, w.outsideOptions())
			err := workflow.ExecuteActivity(actx, n.Activity, n.Notice).Get(ctx, nil)
			// A failure's projection must land before a hand-over; the
			// call itself need not.
			w.busy++
			w.st.Notices = w.st.Notices[1:]
			if err != nil {
				_ = w.notifyFailed(ctx, n, err)
			}
			w.busy--
		}
	})
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
