package komvux

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/steps"
)

// Activities talk to the municipality's adult-education system.
type Activities struct {
	Education integrations.Education
	People    steps.PersonResolver
	// Callback makes the enrolment's completion callback URL (nil: none).
	Callback func(caseID, stepID string) string
}

// EnrolInput names the case and course; the person is looked up here.
type EnrolInput struct {
	CaseID     string `json:"case_id"`
	CourseCode string `json:"course_code"`
	Key        string `json:"key,omitempty"` // business key, e.g. "<case>:<step>:enrol"
}

// PollInput is what AwaitResult polls.
type PollInput struct {
	EnrolmentID string        `json:"enrolment_id"`
	Interval    time.Duration `json:"interval"`
}

// WithdrawInput ends an enrolment.
type WithdrawInput struct {
	EnrolmentID string `json:"enrolment_id"`
	Reason      string `json:"reason"`
	Key         string `json:"key,omitempty"` // business key, e.g. "<case>:<step>:withdraw"
}

// CheckInput is what CheckResult looks at.
type CheckInput struct {
	EnrolmentID string `json:"enrolment_id"`
}

// ErrTypeNotFinal is the retryable error of CheckResult while the course runs.
const ErrTypeNotFinal = "not-final"

// Enrol asks for a place; the idempotency key makes a retry return the same
// enrolment instead of a second one.
func (a *Activities) Enrol(ctx context.Context, in EnrolInput) (integrations.Enrolment, error) {
	person, err := a.People.Person(ctx, in.CaseID)
	if err != nil {
		return integrations.Enrolment{}, err
	}
	req := integrations.EnrolRequest{CaseID: in.CaseID, CourseCode: in.CourseCode, Person: person}
	// The business key "<case>:<step>:enrol" names the step the callback is for.
	if parts := strings.Split(in.Key, ":"); a.Callback != nil && len(parts) == 3 && parts[0] == in.CaseID {
		req.CallbackURL = a.Callback(in.CaseID, parts[1])
	}
	e, err := a.Education.Enrol(ctx, steps.KeyOr(ctx, in.Key), req)
	return e, steps.Classify(err)
}

// CheckResult asks once how the enrolment stands. While the course runs it
// fails with the retryable ErrTypeNotFinal, and the server retries it at the
// poll interval: nothing waits inside a worker between polls.
func (a *Activities) CheckResult(ctx context.Context, in CheckInput) (integrations.Enrolment, error) {
	e, err := a.Education.Status(ctx, in.EnrolmentID)
	if err != nil {
		return e, steps.Classify(err)
	}
	if !terminal(e.Status) {
		// Benign: the expected answer while a course runs, logged at debug.
		return e, temporal.NewApplicationErrorWithOptions("enrolment "+in.EnrolmentID+" is "+e.Status, ErrTypeNotFinal,
			temporal.ApplicationErrorOptions{Category: temporal.ApplicationErrorCategoryBenign})
	}
	return e, nil
}

// AwaitResult polls the enrolment until it ends, heartbeating the number of
// polls so a retried attempt resumes instead of starting over. Only step
// workflows from before VersionPollByRetry schedule it; it gives its slot
// back at once when the worker stops (the retry resumes elsewhere).
func (a *Activities) AwaitResult(ctx context.Context, in PollInput) (integrations.Enrolment, error) {
	polls := 0
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &polls)
	}
	t := time.NewTicker(in.Interval)
	defer t.Stop()
	for {
		e, err := a.Education.Status(ctx, in.EnrolmentID)
		if err != nil && integrations.IsRejected(err) {
			return e, steps.Classify(err)
		}
		if err == nil && terminal(e.Status) {
			return e, nil
		}
		polls++
		activity.RecordHeartbeat(ctx, polls)
		select {
		case <-ctx.Done():
			return e, ctx.Err()
		case <-activity.GetWorkerStopChannel(ctx):
			return e, errors.New("worker stopping; the poll resumes on the retry")
		case <-t.C:
		}
	}
}

// Withdraw ends the enrolment; withdrawing twice is harmless.
func (a *Activities) Withdraw(ctx context.Context, in WithdrawInput) error {
	return steps.Classify(a.Education.Withdraw(ctx, steps.KeyOr(ctx, in.Key), in.EnrolmentID, in.Reason))
}
