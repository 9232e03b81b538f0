package komvux

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/steps"
)

// Activities talk to the municipality's adult-education system.
type Activities struct {
	Education integrations.Education
	People    steps.PersonResolver
}

// EnrolInput names the case and course; the person is looked up here.
type EnrolInput struct {
	CaseID     string `json:"case_id"`
	CourseCode string `json:"course_code"`
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
}

// Enrol asks for a place; the idempotency key makes a retry return the same
// enrolment instead of a second one.
func (a *Activities) Enrol(ctx context.Context, in EnrolInput) (integrations.Enrolment, error) {
	person, err := a.People.Person(ctx, in.CaseID)
	if err != nil {
		return integrations.Enrolment{}, err
	}
	e, err := a.Education.Enrol(ctx, steps.IdempotencyKey(ctx), integrations.EnrolRequest{CaseID: in.CaseID, CourseCode: in.CourseCode, Person: person})
	return e, steps.Classify(err)
}

// AwaitResult polls the enrolment until it ends, heartbeating the number of
// polls so a retried attempt resumes instead of starting over.
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
		case <-t.C:
		}
	}
}

// Withdraw ends the enrolment; withdrawing twice is harmless.
func (a *Activities) Withdraw(ctx context.Context, in WithdrawInput) error {
	return steps.Classify(a.Education.Withdraw(ctx, steps.IdempotencyKey(ctx), in.EnrolmentID, in.Reason))
}
