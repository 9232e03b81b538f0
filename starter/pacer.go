package starter

import (
	"context"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/store"
)

// The import paces its starts against the worker: it keeps only as many
// started pathways waiting for their first projection (the first-contact
// task staff see) as the worker lands in landingTarget, so staff see every
// imported person's first task seconds after the import ends. Unpaced, 64
// starts saturate the server and the worker runs the first workflow tasks
// long after the import ends (8,000 rows: 222 s; 3,000: 92 s). Measured on
// 2 shared cores, 3,000 rows each, lag after the import: a fixed window of
// 64 → 4.9 s at 0.39 of the floor, 256 → 3.8 s at 0.76; sized from the
// landing rate (32 pollers), a target of 2 s → 1.2 s and 6 s → 2.7 s, at
// 0.74 and 0.89 of the floor measured before them. Too small a window
// starves the worker (each start waits out a whole start's latency), so it
// never shrinks below minWindow.
var (
	// landingTarget is how long the pathways waiting for their first
	// projection would take the worker at the rate it lands them now.
	landingTarget = 6 * time.Second
	// minWindow and maxWindow bound the pathways waiting: the bottom keeps
	// the worker fed while starts themselves are slow; the top bounds the
	// work a stall leaves behind.
	minWindow, maxWindow = 128, 2048
)

const (
	landingPoll = 100 * time.Millisecond
	// landingPatience: when no first projection lands for this long the
	// worker is stuck or gone, and the import stops pacing (a stuck worker
	// must not stop it; its pathways run when the worker does).
	landingPatience = 30 * time.Second
)

// pacer is the window of started pathways whose first projection has not
// landed. A nil pacer does not pace.
type pacer struct {
	svc     *cases.Service
	mu      sync.Mutex
	waiting map[string]bool // watched case IDs
	held    int             // places taken: launching or waiting
	window  int
	rate    float64       // landings per second, smoothed
	changed chan struct{} // closed and replaced when a place frees or the window grows
	off     bool          // stopped pacing: the worker is stuck
	quit    chan struct{}
	done    chan struct{}
}

// pacer paces only when a worker polls the task queue: with none there is
// nothing to wait for (the pathways run when one comes).
func (ir *importRun) pacer(ctx context.Context) *pacer {
	if !workerPolls(ctx, ir.svc) {
		return nil
	}
	p := &pacer{svc: ir.svc, waiting: map[string]bool{}, window: minWindow, changed: make(chan struct{}),
		quit: make(chan struct{}), done: make(chan struct{})}
	go p.run(ctx)
	return p
}

// workerPolls asks Temporal whether any worker polls the import's task queue.
func workerPolls(ctx context.Context, svc *cases.Service) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := svc.Temporal.DescribeTaskQueue(ctx, svc.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	return err == nil && len(d.GetPollers()) > 0
}

// acquire waits for a place in the window. A cancelled wait takes its place
// all the same, so the caller's release or watch keeps the count true.
func (p *pacer) acquire(ctx context.Context) {
	if p == nil {
		return
	}
	for {
		p.mu.Lock()
		if p.off || p.held < p.window || ctx.Err() != nil {
			p.held++
			p.mu.Unlock()
			return
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
}

// wake tells waiting acquirers to look again; p.mu is held.
func (p *pacer) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// release frees a place whose start did not happen (or is the reconciler's).
func (p *pacer) release() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.held--
	p.wake()
	p.mu.Unlock()
}

// watch holds the place until the case's first projection lands.
func (p *pacer) watch(caseID string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.waiting[caseID] = true
	p.mu.Unlock()
}

func (p *pacer) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	<-p.done
}

// run frees places as first projections land and sizes the window from the
// rate they land at.
func (p *pacer) run(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(landingPoll)
	defer tick.Stop()
	last, lastLanded := time.Now(), time.Now()
	for {
		select {
		case <-p.quit:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.mu.Lock()
		ids := make([]string, 0, len(p.waiting))
		for id := range p.waiting {
			ids = append(ids, id)
		}
		p.mu.Unlock()
		var landed []string
		if len(ids) > 0 {
			var err error
			if landed, err = store.Projected(ctx, p.svc.Pool, ids); err != nil {
				landed = nil // the patience below covers an unreadable registry
			}
		}
		now := time.Now()
		if len(landed) > 0 || len(ids) == 0 {
			lastLanded = now
		}
		p.mu.Lock()
		for _, id := range landed {
			if p.waiting[id] {
				delete(p.waiting, id)
				p.held--
			}
		}
		// Smoothed over about two seconds.
		if dt := now.Sub(last).Seconds(); dt > 0 {
			p.rate += (float64(len(landed))/dt - p.rate) * min(1, dt/2)
		}
		last = now
		p.window = min(maxWindow, max(minWindow, int(p.rate*landingTarget.Seconds())))
		if now.Sub(lastLanded) > landingPatience {
			p.off = true
		}
		p.wake()
		p.mu.Unlock()
		if p.off {
			return
		}
	}
}
