package worker

import (
	"context"
	"time"

	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/escalation"
)

func init() { extensions = append(extensions, registerEscalation) }

// registerEscalation registers the stall sweep and creates or updates its
// daily schedule. A schedule that cannot be written is logged, not fatal:
// the worker still serves pathways, and the next start tries again.
func registerEscalation(w sdkworker.Worker, env Env) {
	escalation.Register(w, escalation.ForDeployment(env.Config, env.Pool, env.Client))

	rules, err := escalation.ParseRules(env.Config.Escalate.Rules)
	if err != nil {
		env.Log.Error("escalation rules: using the defaults", zap.Error(err))
		rules = escalation.DefaultRules()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := escalation.EnsureSchedule(ctx, env.Client, escalation.ScheduleConfig{
		Cron: env.Config.Escalate.Cron, TimeZone: env.Config.Escalate.Timezone,
		TaskQueue: env.Config.Temporal.TaskQueue, Input: escalation.SweepInput{Rules: rules},
	})
	if err != nil {
		env.Log.Error("escalation schedule not written", zap.String("schedule_id", escalation.ScheduleID), zap.Error(err))
		return
	}
	env.Log.Info("escalation schedule ready", zap.String("schedule_id", escalation.ScheduleID), zap.Bool("created", created),
		zap.String("cron", env.Config.Escalate.Cron), zap.String("timezone", env.Config.Escalate.Timezone))
}
