package steps

import (
	"context"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
)

// This file holds the shared parts of the step-type contract (see
// docs/adding-a-step-type.md): idempotency keys, retry classification,
// default activity options, and the optional interface through which the
// conformance suite drives a type.

// ErrTypeRejected is the ApplicationError type of a refusal by an outside
// system. Activity options list it as non-retryable.
const ErrTypeRejected = "rejected"

// Key is a business idempotency key: the parts joined by ":", e.g.
// Key(caseID, stepID, "enrol") = "2026-0001:r1-s2:enrol". It names what the
// side effect is for, so it is the same on every retry, after a restart and
// after continue-as-new, and different for every other side effect. Parts
// are IDs, never personal data.
func Key(parts ...string) string { return strings.Join(parts, ":") }

// Key is the business key of a step's side effect: case, step, event. Step
// IDs carry the plan revision ("r2-s1"), so a step of a revised plan never
// shares a key with one of an earlier revision.
func (in Input) Key(event string) string { return Key(in.CaseID, in.StepID, event) }

// KeyOr is the activity side of a business key: the key the workflow passed
// in the activity input, or, for a call scheduled by step code from before
// business keys (no key in its input), the key that code's earlier attempts
// used, so a retry of such a call is still deduplicated.
func KeyOr(ctx context.Context, key string) string {
	if key != "" {
		return key
	}
	return legacyKey(ctx)
}

func legacyKey(ctx context.Context) string {
	info := activity.GetInfo(ctx)
	return info.WorkflowExecution.ID + "/" + info.ActivityID
}

// VersionBusinessKeys is the change ID (with the phase appended, e.g.
// "business-keys:enrol") under which step workflows pass business keys to
// their side-effecting activities.
const VersionBusinessKeys = "business-keys"

// VersionCompensateCreate is the change ID (with the phase appended) under
// which a step's create call (an enrolment, a place, an agreement) runs on a
// disconnected context, so a cancel that arrives while it is in flight
// waits for it and then undoes what it made.
const VersionCompensateCreate = "compensate-create"

// Each phase of a step (a job track's course, then its agreement) has change
// IDs of its own: a run that passed the first phase under older code and
// reaches the second under new code records a marker only there, and the
// replay must not take the first phase's answer for the second.

// BusinessKeys reports whether this run passes business keys in the given
// phase; histories from before the change replay without.
func BusinessKeys(ctx workflow.Context, phase string) bool {
	return workflow.GetVersion(ctx, VersionBusinessKeys+":"+phase, workflow.DefaultVersion, 1) == 1
}

// CompensateCreate reports whether this run is at version 1 of
// VersionCompensateCreate in the given phase (see ExecuteCreate).
func CompensateCreate(ctx workflow.Context, phase string) bool {
	return workflow.GetVersion(ctx, VersionCompensateCreate+":"+phase, workflow.DefaultVersion, 1) == 1
}

// ExecuteCreate runs a side-effecting create activity that a cancel must
// not orphan. Under VersionCompensateCreate it runs on a disconnected
// context and is awaited even when ctx is cancelled meanwhile: the caller
// then sees ctx.Err() != nil with the created object in out, and winds it
// down. (Cancelling the call instead would leave the request in flight at
// the outside system, which may make the object after the workflow has
// stopped caring.) Before that version the call is cancelled with ctx.
func ExecuteCreate(ctx workflow.Context, phase string, opts workflow.ActivityOptions, activityName string, in, out any) error {
	if !CompensateCreate(ctx, phase) {
		actx := workflow.WithActivityOptions(ctx, opts)
		return workflow.ExecuteActivity(actx, activityName, in).Get(ctx, out)
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, opts)
	return workflow.ExecuteActivity(dctx, activityName, in).Get(dctx, out)
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

// CompressBackoff caps retry back-off at one programme day: the pathway's
// rule (pathway.CompressBackoff), so pathway and steps cannot drift apart.
func CompressBackoff(opts workflow.ActivityOptions, secondsPerDay float64) workflow.ActivityOptions {
	return pathway.CompressBackoff(opts, secondsPerDay)
}

// ErrorMessage is the message of an activity error without the SDK's wrapping.
func ErrorMessage(err error) string { return pathway.ErrorMessage(err) }

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
