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
// The sticky cache (worker.sticky_cache_size, default 3,000) comes from
// BenchmarkWorkerRSS10k (scenarios/): the real worker holding 10,000 open
// pathways used 847 MB with 10,000 cached (the SDK's default), 449 MB with
// 4,000 and 352 MB with 3,000 (goal <= 500 MB, with margin); a cached
// pathway costs about 100 KB. The trade-off: a pathway not in the cache
// replays its history on its next task (a staff action, a timer): the
// server sends the whole history and the worker reruns it, so that one task
// costs more CPU and latency, growing with the history, which
// continue-as-new keeps bounded. Several workers each cache their own.
//
// Workflow pollers (worker.workflow_pollers, default 32): the SDK keeps half
// of them on the worker's sticky queue, so its default of 2 left one poll
// for new pathways. While 10,000 pathways started on a loaded machine, that
// one dispatched 1.4 first tasks a second against 40 started; 8 dispatched
// 7.4 and 32 dispatched 15 (the dev server's CPU bounds the rest). An
// import drained 1,500 empty workflows in 64 s with 32 pollers against 75 s
// with 8 (starter's import benchmark, which uses these options).
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
