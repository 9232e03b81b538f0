// Package schedules keeps a Temporal Schedule in step with configuration:
// created on first start, its spec, action and policies updated on every
// later start, a pause set by an operator kept. Every worker may call it.
package schedules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Ensure creates the schedule o describes, or updates an existing one's
// spec, action, overlap policy and catch-up window. It reports whether it
// created the schedule.
func Ensure(ctx context.Context, c client.Client, o client.ScheduleOptions) (created bool, err error) {
	if o.Spec.TimeZoneName != "" {
		if _, err := time.LoadLocation(o.Spec.TimeZoneName); err != nil {
			return false, fmt.Errorf("schedule %s: time zone %q: %w", o.ID, o.Spec.TimeZoneName, err)
		}
	}
	sc := c.ScheduleClient()
	_, err = sc.Create(ctx, o)
	if err == nil {
		return true, nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return false, fmt.Errorf("create schedule %s: %w", o.ID, err)
	}
	err = sc.GetHandle(ctx, o.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			spec := o.Spec
			s.Spec = &spec
			s.Action = o.Action
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = o.Overlap
			s.Policy.CatchupWindow = o.CatchupWindow
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", o.ID, err)
	}
	return false, nil
}
