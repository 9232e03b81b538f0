package escalation

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/workflows"
)

// ScheduleID is the ID of the daily sweep schedule.
const ScheduleID = "escalation-stall-sweep"

// SweepWorkflowID is the workflow ID prefix of scheduled sweeps; Temporal
// appends the scheduled time.
const SweepWorkflowID = "escalation-sweep"

// Register registers the sweep and manual escalation workflows and their
// activities on a worker.
func Register(r sdkworker.Registry, a *Activities) {
	r.RegisterWorkflowWithOptions(workflows.StallSweep, workflow.RegisterOptions{Name: contract.SweepWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.StallSweepContinued, workflow.RegisterOptions{Name: contract.SweepContinuedName})
	r.RegisterWorkflowWithOptions(workflows.ManualEscalation, workflow.RegisterOptions{Name: contract.ManualWorkflowName})
	r.RegisterActivityWithOptions(a, activity.RegisterOptions{Name: contract.ActivityPrefix})
}

// ScheduleConfig is the sweep schedule.
type ScheduleConfig struct {
	ID        string // default ScheduleID; tests use their own
	Cron      string // e.g. "0 7 * * *"
	TimeZone  string // e.g. "Europe/Stockholm"
	TaskQueue string
	Input     SweepInput
}

func (c ScheduleConfig) spec() client.ScheduleSpec {
	return client.ScheduleSpec{CronExpressions: []string{c.Cron}, TimeZoneName: c.TimeZone}
}

func (c ScheduleConfig) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       SweepWorkflowID,
		Workflow:                 WorkflowName,
		Args:                     []any{c.Input},
		TaskQueue:                c.TaskQueue,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}
}

// EnsureSchedule creates the sweep schedule, or updates its spec, action and
// policies if it exists; a pause set by an operator is kept. It is
// idempotent, so every worker may call it at start.
func EnsureSchedule(ctx context.Context, c client.Client, cfg ScheduleConfig) (created bool, err error) {
	if cfg.Cron == "" || cfg.TaskQueue == "" {
		return false, errors.New("escalation schedule: cron and task queue are required")
	}
	if cfg.TimeZone != "" {
		if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
			return false, fmt.Errorf("escalation schedule: time zone %q: %w", cfg.TimeZone, err)
		}
	}
	id := cfg.ID
	if id == "" {
		id = ScheduleID
	}
	sc := c.ScheduleClient()
	_, err = sc.Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          cfg.spec(),
		Action:        cfg.action(),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 6 * time.Hour,
		Note:          "Daily sweep for stalled cases (package escalation)",
	})
	if err == nil {
		return true, nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return false, fmt.Errorf("create schedule %s: %w", id, err)
	}
	spec := cfg.spec()
	err = sc.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = cfg.action()
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			s.Policy.CatchupWindow = 6 * time.Hour
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return false, nil
}

// ScheduleState is what `schedule list` shows.
type ScheduleState struct {
	ID          string      `json:"id"`
	Cron        []string    `json:"cron"`
	TimeZone    string      `json:"time_zone"`
	Paused      bool        `json:"paused"`
	Note        string      `json:"note,omitempty"`
	NextRuns    []time.Time `json:"next_runs"`
	RecentRuns  []time.Time `json:"recent_runs"`
	Running     []string    `json:"running"`
	ActionCount int         `json:"actions"`
}

// DescribeSchedule reports the sweep schedule.
func DescribeSchedule(ctx context.Context, c client.Client) (ScheduleState, error) {
	d, err := c.ScheduleClient().GetHandle(ctx, ScheduleID).Describe(ctx)
	if err != nil {
		return ScheduleState{}, err
	}
	st := ScheduleState{ID: ScheduleID, NextRuns: d.Info.NextActionTimes, ActionCount: d.Info.NumActions}
	if d.Schedule.Spec != nil {
		st.Cron, st.TimeZone = d.Schedule.Spec.CronExpressions, d.Schedule.Spec.TimeZoneName
		if len(st.Cron) == 0 && len(d.Schedule.Spec.Calendars) > 0 {
			st.Cron = []string{fmt.Sprintf("%d calendar spec(s)", len(d.Schedule.Spec.Calendars))}
		}
	}
	if d.Schedule.State != nil {
		st.Paused, st.Note = d.Schedule.State.Paused, d.Schedule.State.Note
	}
	for _, a := range d.Info.RecentActions {
		st.RecentRuns = append(st.RecentRuns, a.ScheduleTime)
	}
	for _, r := range d.Info.RunningWorkflows {
		st.Running = append(st.Running, r.WorkflowID)
	}
	return st, nil
}

// PauseSchedule pauses the sweep with a note.
func PauseSchedule(ctx context.Context, c client.Client, note string) error {
	return c.ScheduleClient().GetHandle(ctx, ScheduleID).Pause(ctx, client.SchedulePauseOptions{Note: note})
}

// ResumeSchedule unpauses the sweep.
func ResumeSchedule(ctx context.Context, c client.Client, note string) error {
	return c.ScheduleClient().GetHandle(ctx, ScheduleID).Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
}

// TriggerSchedule runs the sweep now (skipped if one is still running).
func TriggerSchedule(ctx context.Context, c client.Client) error {
	return c.ScheduleClient().GetHandle(ctx, ScheduleID).Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
}
