// Package updates sends a workflow Update and waits for its result. Every
// caller that changes a pathway (API, step actions, CLI) sends through it,
// so each gets the same resend rule.
package updates

import (
	"cmp"
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// attempts bounds the resends: a workflow whose every task fails (a bug;
// the server then refuses Updates at once, "Workflow Task in failed
// state") is given up on within half a second rather than retried until
// the caller leaves.
const attempts = 4

// Send sends an Update under opts.UpdateID and waits until it completes,
// decoding its result into result (which may be nil).
//
// Temporal fails a workflow task on the server when the run tries to end or
// continue as new while a new event has arrived meanwhile; it then aborts
// the Updates that task carried, unapplied, with WorkflowNotReady ("due to
// unexpected workflow task failure"), and does not retry them itself. Send
// sends such an Update again under the same ID: nothing was applied, and the
// ID keeps a resend from applying it twice.
func Send(ctx context.Context, c client.Client, opts client.UpdateWorkflowOptions, result any) error {
	if opts.UpdateID == "" {
		return errors.New("updates: an Update needs an ID from the caller's idempotency key")
	}
	opts.WaitForStage = client.WorkflowUpdateStageCompleted
	wait := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		h, err := c.UpdateWorkflow(ctx, opts)
		if err == nil {
			err = h.Get(ctx, result)
		}
		if !notApplied(err) || attempt == attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 4
	}
}

// notApplied is true for the server's answer that the Update's workflow
// task failed before the Update was accepted, or that the workflow's tasks
// are failing: in both the Update was not applied.
func notApplied(err error) bool {
	var nr *serviceerror.WorkflowNotReady
	return errors.As(err, &nr)
}

// What a staff action service answers when nothing changed: nothing was
// sent (no worker polls; the workflow service does not answer), or what was
// sent was dropped unapplied (NotApplied). The console shows these texts
// through the Swedish catalogue (lang).
var (
	ErrNoWorker    = errors.New("no pathway worker is running, so the action was not sent and nothing changed; try again shortly")
	ErrUnreachable = errors.New("the workflow service does not answer, so the action was not sent and nothing changed; try again shortly")
	ErrNotApplied  = errors.New("the pathway could not take the action just now, so nothing changed; try again shortly")
)

// Refusal is the workflow validator's (or handler's) refusal, its message
// for the staff member.
type Refusal struct{ Message string }

func (e *Refusal) Error() string { return e.Message }

// Outcome is what became of an Update, as far as its sender can tell.
type Outcome int

const (
	// Applied: the workflow accepted and completed it.
	Applied Outcome = iota
	// Refused: the workflow's validator or handler said no; nothing changed.
	Refused
	// NotRunning: there is no running workflow to send it to.
	NotRunning
	// Pending: sent, perhaps accepted, not answered before the wait ended;
	// sending it again under the same ID is safe.
	Pending
	// NotApplied: the server dropped it, unapplied, every time it was sent
	// (its workflow's tasks keep failing); nothing changed.
	NotApplied
	// Unknown: the service failed after it may have been sent.
	Unknown
)

// Classify reads what Send returned, sent under ctx; message is the
// refusal's own text.
func Classify(ctx context.Context, err error) (o Outcome, message string) {
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	var deadline *serviceerror.DeadlineExceeded
	var canceled *serviceerror.Canceled
	switch {
	case err == nil:
		return Applied, ""
	case errors.As(err, &appErr):
		return Refused, appErr.Message()
	case errors.As(err, &notFound):
		return NotRunning, ""
	case notApplied(err):
		// Before the wait: a wait that ended between resends still knows
		// nothing was applied.
		return NotApplied, ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &deadline), errors.As(err, &canceled), ctx.Err() != nil:
		return Pending, ""
	}
	return Unknown, ""
}

// DefaultWait is how long Within waits for an answer unless told.
const DefaultWait = 20 * time.Second

// Ready asks a service's check before sending (nil: ready), bounded by
// wait (DefaultWait when zero): a workflow service that hangs must not hold
// the action past the wait its answer has.
func Ready(ctx context.Context, wait time.Duration, check func(context.Context) error) error {
	if check == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(wait, DefaultWait))
	defer cancel()
	return check(ctx)
}

// Within sends as Send does, waits at most wait (DefaultWait when zero)
// for the answer, and says what became of the Update; err is Send's.
func Within(ctx context.Context, c client.Client, wait time.Duration, opts client.UpdateWorkflowOptions, result any) (Outcome, string, error) {
	if wait <= 0 {
		wait = DefaultWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := Send(wctx, c, opts, result)
	o, message := Classify(wctx, err)
	return o, message, err
}
