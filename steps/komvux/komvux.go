// Package komvux is the adult-education step: enrol on a Komvux, vocational
// (yrkesvux) or SFI course, wait for the result, withdraw on cancel.
package komvux

import (
	"fmt"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Name is the step type's identifier in programme definitions.
const Name = "komvux"

// SignalResult is the education system's callback, relayed by the API.
const SignalResult = "education-result"

// Result is what the education system reports.
type Result struct {
	EnrolmentID string `json:"enrolment_id"`
	Status      string `json:"status"`
	Grade       string `json:"grade,omitempty"`
}

// coursePattern accepts a course code ("SFIC") or the catalogue's code of
// one occasion, municipality-code-number ("1488-USK-01").
var coursePattern = regexp.MustCompile(`^([A-Z0-9]{3,20}|[0-9]{4}-[A-Z0-9]{2,20}-[0-9]{2})$`)

// Type implements steps.Type and steps.Education.
type Type struct{}

func (Type) Name() string    { return Name }
func (Type) Title() string   { return "Adult education course (Komvux, vocational, SFI)" }
func (Type) Education() bool { return true }
func (Type) Workflow() any   { return Workflow }

// Activities binds the education adapter.
func (Type) Activities(d steps.Deps) any {
	return &Activities{Education: d.Education, People: d.People}
}

// Validate checks the course code and the form of education.
func (Type) Validate(p map[string]string) error {
	if !coursePattern.MatchString(p["course_code"]) {
		return fmt.Errorf("params.course_code %q is not a course code (3–20 capital letters or digits, or an occasion such as 1488-USK-01)", p["course_code"])
	}
	switch p["form"] {
	case "komvux", "yrkesvux", "sfi":
		return nil
	}
	return fmt.Errorf("params.form %q is not one of komvux, yrkesvux, sfi", p["form"])
}

// Workflow enrols, then waits for the result by callback signal or by
// polling, whichever comes first; on cancel it withdraws the enrolment on a
// disconnected context, so the wind-down runs although the step is cancelled.
func Workflow(ctx workflow.Context, in steps.Input) (steps.Result, error) {
	return Course(ctx, Name, in, in.Params["course_code"])
}

// Course is the whole course lifecycle, reusable by other step types (a job
// track's training): typeName is the registering type, whose activities
// must include this package's Activities (Enrol, AwaitResult, CheckResult,
// Withdraw). It returns a cancelled error after the wind-down if ctx is
// cancelled.
func Course(ctx workflow.Context, typeName string, in steps.Input, courseCode string) (steps.Result, error) {
	act := func(method string) string { return steps.ActivityName(typeName, method) }
	keys := steps.BusinessKeys(ctx, "enrol")
	enrol := EnrolInput{CaseID: in.CaseID, CourseCode: courseCode}
	if keys {
		enrol.Key = in.Key("enrol")
	}
	var enrolment integrations.Enrolment
	err := steps.ExecuteCreate(ctx, "enrol", steps.CallOptions(in.SecondsPerDay), act("Enrol"), enrol, &enrolment)
	if ctx.Err() != nil && steps.CompensateCreate(ctx, "enrol") {
		if err == nil {
			// The cancel came while the enrolment was being made.
			windDown(ctx, in, keys, act("Withdraw"), enrolment.ID)
			return steps.Result{}, temporal.NewCanceledError("step cancelled; enrolment withdrawn")
		}
		return steps.Result{}, temporal.NewCanceledError("step cancelled before an enrolment was made")
	}
	if err != nil {
		if temporal.IsCanceledError(err) {
			return steps.Result{}, err
		}
		return steps.Result{Outcome: pathway.StepFailed, Reason: "enrolment refused: " + steps.ErrorMessage(err)}, nil
	}
	ctx = workflow.WithActivityOptions(ctx, steps.CallOptions(in.SecondsPerDay))

	var final Result
	signals := workflow.GetSignalChannel(ctx, SignalResult)
	pollCtx, stopPoll := workflow.WithCancel(ctx)
	var poll workflow.Future
	if workflow.GetVersion(ctx, VersionPollByRetry, workflow.DefaultVersion, 1) == 1 {
		// One short status call per attempt, retried by the server at a
		// fixed interval: no worker slot is held between polls and the
		// history does not grow with them.
		pollCtx = workflow.WithActivityOptions(pollCtx, checkOptions(in))
		poll = workflow.ExecuteActivity(pollCtx, act("CheckResult"), CheckInput{EnrolmentID: enrolment.ID})
	} else {
		pollCtx = workflow.WithActivityOptions(pollCtx, pollOptions(in))
		poll = workflow.ExecuteActivity(pollCtx, act("AwaitResult"), PollInput{EnrolmentID: enrolment.ID, Interval: pollInterval(in)})
	}

	onSignal := func(c workflow.ReceiveChannel, _ bool) {
		var r Result
		c.Receive(ctx, &r)
		// Duplicate or stray callbacks are ignored: only the first final result counts.
		if r.EnrolmentID == enrolment.ID && terminal(r.Status) && final.Status == "" {
			final = r
		}
	}
	onPoll := func(f workflow.Future) {
		var e integrations.Enrolment
		if err := f.Get(ctx, &e); err == nil && final.Status == "" {
			final = Result{EnrolmentID: e.ID, Status: e.Status, Grade: e.Grade}
		}
	}
	selector := func(withPoll bool) workflow.Selector {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(signals, onSignal)
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		if withPoll {
			sel.AddFuture(poll, onPoll)
		}
		return sel
	}
	sel := selector(true)
	for final.Status == "" && ctx.Err() == nil {
		sel.Select(ctx)
		if final.Status == "" && poll.IsReady() {
			// Polling gave up (a refusal); wait for the callback alone.
			sel = selector(false)
		}
	}
	stopPoll()
	if ctx.Err() != nil {
		windDown(ctx, in, keys, act("Withdraw"), enrolment.ID)
		return steps.Result{}, temporal.NewCanceledError("step cancelled; enrolment withdrawn")
	}
	details := map[string]string{"enrolment_id": enrolment.ID, "course_code": enrolment.CourseCode, "grade": final.Grade}
	switch final.Status {
	case integrations.EnrolmentCompleted:
		return steps.Result{Outcome: pathway.StepCompleted, Details: details}, nil
	case integrations.EnrolmentDropped, integrations.EnrolmentWithdrawn:
		return steps.Result{Outcome: pathway.StepDroppedOut, Reason: "left the course", Details: details}, nil
	default:
		return steps.Result{Outcome: pathway.StepFailed, Reason: "did not pass the course", Details: details}, nil
	}
}

// VersionPollByRetry is the change ID under which the course result is
// polled by CheckResult retried at a fixed interval instead of one
// AwaitResult activity that lasts the whole course.
const VersionPollByRetry = "poll-by-retry"

// windDown withdraws the enrolment even though ctx is cancelled.
func windDown(ctx workflow.Context, in steps.Input, keys bool, withdraw, enrolmentID string) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, steps.CallOptions(in.SecondsPerDay))
	w := WithdrawInput{EnrolmentID: enrolmentID, Reason: "pathway step cancelled"}
	if keys {
		w.Key = in.Key("withdraw")
	}
	_ = workflow.ExecuteActivity(dctx, withdraw, w).Get(dctx, nil)
}

func terminal(status string) bool {
	switch status {
	case integrations.EnrolmentCompleted, integrations.EnrolmentFailed, integrations.EnrolmentDropped, integrations.EnrolmentWithdrawn:
		return true
	}
	return false
}

// checkOptions retry the short CheckResult at the poll interval for as long
// as the course may last; only a refusal (the enrolment is unknown) ends it.
func checkOptions(in steps.Input) workflow.ActivityOptions {
	iv := pollInterval(in)
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: steps.Days(float64(in.DurationDays)*3+30, in.SecondsPerDay) + time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: iv, BackoffCoefficient: 1, MaximumInterval: iv,
			NonRetryableErrorTypes: []string{steps.ErrTypeRejected},
		},
	}
}

// pollOptions let the poll run for the whole course, heartbeating (before
// VersionPollByRetry).
func pollOptions(in steps.Input) workflow.ActivityOptions {
	return steps.CompressBackoff(workflow.ActivityOptions{
		StartToCloseTimeout: steps.Days(float64(in.DurationDays)*3+30, in.SecondsPerDay) + time.Hour,
		HeartbeatTimeout:    pollInterval(in)*3 + 30*time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{"rejected"},
		},
	}, in.SecondsPerDay)
}

// pollInterval is a programme day under a demo clock, at most an hour.
func pollInterval(in steps.Input) time.Duration {
	d := steps.Days(1, in.SecondsPerDay)
	if d > time.Hour {
		d = time.Hour
	}
	if d < time.Second {
		d = time.Second
	}
	return d
}

// Example is a vocational care course.
func (Type) Example() map[string]string {
	return map[string]string{"course_code": "VARVAR0", "form": "yrkesvux"}
}

// Invalid are parameter sets Validate refuses.
func (Type) Invalid() map[string]map[string]string {
	return map[string]map[string]string{
		"missing course":    {"form": "komvux"},
		"lower-case course": {"course_code": "matmat01a", "form": "komvux"},
		"unknown form":      {"course_code": "MATMAT01A", "form": "folkhogskola"},
		"missing form":      {"course_code": "MATMAT01A"},
	}
}

// Drive completes the course by the education system's callback signal.
func (Type) Drive(d steps.Driver) {
	d.Signal(SignalResult, Result{EnrolmentID: d.LastCreated(), Status: integrations.EnrolmentCompleted, Grade: "C"})
}
