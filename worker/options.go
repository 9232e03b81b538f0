package worker

import (
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/config"
)

// Options are the worker's settings: slots and cache from config (defaults
// measured by BenchmarkProjectionLagWithCourses in scenarios/), and the
// grace period in-flight activities get on SIGTERM.
//
// The sticky cache is process-wide in the SDK, so Options sets it too; call
// it before the first worker of the process is created.
func Options(c config.WorkerConfig) sdkworker.Options {
	if c.StickyCacheSize > 0 {
		sdkworker.SetStickyWorkflowCacheSize(c.StickyCacheSize)
	}
	return sdkworker.Options{
		WorkerStopTimeout:                      30 * time.Second,
		MaxConcurrentActivityExecutionSize:     c.ActivitySlots,
		MaxConcurrentWorkflowTaskExecutionSize: c.WorkflowSlots,
	}
}
