package worker

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/retention"
	"github.com/pathways-se/pathways/schedules"
	"github.com/pathways-se/pathways/workflows"
)

func init() { extensions = append(extensions, registerRetention) }

// RetentionInput is the scheduled run's input from configuration.
func RetentionInput(c *config.Config) retention.Input {
	r := c.Retain
	return retention.Input{BatchSize: r.BatchSize, Policy: retention.Policy{ClosedCaseDays: r.ClosedCaseDays,
		AuditAfterCaseDays: r.AuditAfterCaseDays, AuditDays: r.AuditDays, MailDays: r.MailDays}}
}

// RegisterRetention registers the retention workflow and its activities.
func RegisterRetention(w sdkworker.Registry, a *activities.Retention) {
	w.RegisterWorkflowWithOptions(workflows.Retention, workflow.RegisterOptions{Name: retention.WorkflowName})
	a.Register(w)
}

// registerRetention also keeps the daily schedule in step with the
// configuration; a schedule that cannot be written is logged, not fatal.
func registerRetention(w sdkworker.Worker, env Env) {
	RegisterRetention(w, &activities.Retention{Pool: env.Pool})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := schedules.Ensure(ctx, env.Client, client.ScheduleOptions{
		ID:   retention.ScheduleID,
		Spec: client.ScheduleSpec{CronExpressions: []string{env.Config.Retain.Cron}, TimeZoneName: env.Config.Retain.Timezone},
		Action: &client.ScheduleWorkflowAction{ID: retention.WorkflowID, Workflow: retention.WorkflowName,
			Args: []any{RetentionInput(env.Config)}, TaskQueue: env.Config.Temporal.TaskQueue, WorkflowExecutionTimeout: 6 * time.Hour},
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 6 * time.Hour,
		Note:          "Daily retention (gallring): see README, Retention",
	})
	if err != nil {
		env.Log.Error("retention schedule not written", zap.String("schedule_id", retention.ScheduleID), zap.Error(err))
		return
	}
	env.Log.Info("retention schedule ready", zap.String("schedule_id", retention.ScheduleID), zap.Bool("created", created),
		zap.String("cron", env.Config.Retain.Cron))
}
