package worker

import (
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/config"
)

// Options are the worker's settings: slots and cache from config, and the
// grace period in-flight activities get on SIGTERM.
//
// The defaults come from BenchmarkProjectionLagWithCourses (scenarios/), on
// 2 shared cores: with 2,000 people in courses at once the worker ran at
// most 5 activities at a time (courses are polled by short calls), and 500
// activity slots, 200 workflow slots and a 10,000-workflow sticky cache kept
// the projection lag at p50 106 ms (81 ms idle). Before, every course held
// one activity slot for its whole length: with the SDK's 1,000 slots only
// 1,001 of the 2,000 got in and a projection waited over 2 minutes. Slots
// must cover the call rate times systems.timeout while an outside system
// hangs (2,000 courses polled hourly: under 10), so 500 is ample.
//
// Workflow task pollers (the SDK's default is 2) bound how fast a worker
// picks up new workflows, which an import starts by the thousand. On 2
// shared cores (noisy): 1,500 empty workflows drained in 64 s with 32
// pollers against 75 s with 8 under similar load (starter's import
// benchmarks, which use these options).
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
		MaxConcurrentWorkflowTaskPollers:       c.WorkflowPollers,
	}
}
