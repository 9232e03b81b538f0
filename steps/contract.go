package steps

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
)

// This file holds the shared parts of the step-type contract (see
// docs/adding-a-step-type.md): idempotency keys, retry classification,
// default activity options, and the optional interface through which the
// conformance suite drives a type.

// ErrTypeRejected is the ApplicationError type of a refusal by an outside
// system. Activity options list it as non-retryable.
const ErrTypeRejected = "rejected"

// IdempotencyKey is the key a side-effecting activity passes to an outside
// system: the workflow ID plus the activity ID. It is the same on every retry
// of one activity execution, and different for every other call. It holds no
// personal data: workflow IDs carry case IDs only.
func IdempotencyKey(ctx context.Context) string {
	info := activity.GetInfo(ctx)
	return info.WorkflowExecution.ID + "/" + info.ActivityID
}

// Classify turns an adapter error into an activity error: a refusal
// (integrations.Rejected, a 4xx) is non-retryable with type "rejected";
// anything else (a timeout, a 5xx) stays retryable.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if integrations.IsRejected(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRejected, nil)
	}
	return err
}

// SideEffectOptions are the default options for a short call to an outside
// system: 30 s per attempt, retried with backoff for at most a day, refusals
// final.
var SideEffectOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 24 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		NonRetryableErrorTypes: []string{ErrTypeRejected},
	},
}

// CallOptions are SideEffectOptions under the pathway's clock: see
// CompressBackoff.
func CallOptions(secondsPerDay float64) workflow.ActivityOptions {
	return CompressBackoff(SideEffectOptions, secondsPerDay)
}

// CompressBackoff caps the retry back-off of opts at one programme day
// (never below the initial interval). Under a compressed demo clock a
// 5-minute wait would span months of the programme; on the real clock
// (secondsPerDay 0) a day is far above every cap and opts are unchanged.
func CompressBackoff(opts workflow.ActivityOptions, secondsPerDay float64) workflow.ActivityOptions {
	if secondsPerDay <= 0 || opts.RetryPolicy == nil {
		return opts
	}
	rp := *opts.RetryPolicy // the caller's policy is shared; change a copy
	day := Days(1, secondsPerDay)
	if day < rp.InitialInterval {
		day = rp.InitialInterval
	}
	if rp.MaximumInterval == 0 || rp.MaximumInterval > day {
		rp.MaximumInterval = day
	}
	opts.RetryPolicy = &rp
	return opts
}

// ErrorMessage is the message of an activity error without the SDK's wrapping.
func ErrorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// Conformable is implemented by every step type so the conformance suite
// (steps/conformance) can exercise it without knowing it.
type Conformable interface {
	// Example returns the parameters the type documents as valid.
	Example() map[string]string
	// Invalid returns parameter sets Validate must refuse, by a short name.
	Invalid() map[string]map[string]string
	// Drive pushes a running step to completion. The suite calls it once,
	// one programme day after the start, when the step's first outside call
	// is done. A type that completes by itself (a timer at the end date)
	// may do nothing; it must then complete within the step's duration.
	Drive(d Driver)
}

// Driver is what the conformance suite offers Drive.
type Driver interface {
	// Update sends an Update to the step's workflow.
	Update(name string, arg any)
	// Signal sends a Signal to the step's workflow.
	Signal(name string, arg any)
	// LastCreated returns the ID the fakes gave the most recent enrolment
	// or agreement, e.g. to address an education callback.
	LastCreated() string
}
