package scenarios

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/komvux"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// BenchmarkProjectionLagWithCourses prints how long a staff action takes to
// reach the read model (first contact: Update sent → row in PostgreSQL),
// first on an idle worker, then while PATHWAYS_BENCH_COURSES (default 2,000)
// people are in Komvux courses at once on the same worker. The worker runs
// with the configured slots (worker.* keys, PATHWAYS_WORKER_* to try others).
// Courses outlast the benchmark (an hour; a programme day is 30 s) and are
// polled once a programme day from an in-process education system that
// answers in 5 ms.
func BenchmarkProjectionLagWithCourses(b *testing.B) {
	courses := 2000
	if v, err := strconv.Atoi(os.Getenv("PATHWAYS_BENCH_COURSES")); err == nil {
		courses = v
	}
	const probes = 20
	for i := 0; i < b.N; i++ {
		ts := testsystem.New(b, testsystem.Options{NoWorker: true})
		deps := ts.Deps
		deps.Education = &courseLoad{ends: map[string]time.Time{}, length: time.Hour}
		deps.People = loadPeople{next: deps.People}
		opts := worker.Options(ts.Config.Worker)
		peak := &peakActivities{}
		opts.Interceptors = append(opts.Interceptors, peak)
		w := sdkworker.New(ts.Temporal, ts.TaskQueue, opts)
		worker.RegisterPathway(w, ts.Steps, ts.Pool, ts.Keys, deps)
		worker.RegisterSteps(w, ts.Steps, deps)
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		s := &system{simURL: ts.SimURL, clients: ts.Clients, pool: ts.Pool, tc: ts.Temporal, sim: ts.Sim,
			cases: ts.Cases(0), tq: ts.TaskQueue}

		idle := projectionLags(b, s, probes)
		b.Logf("idle probes done; starting %d courses", courses)
		started := time.Now()
		runs := startCourses(b, s, courses)
		load := deps.Education.(*courseLoad)
		// Probe once all are in their courses, or with as many as got in
		// when none has for a minute (a starved worker enrols no more).
		last, lastChange := 0, time.Now()
		for load.enrolled() < courses && time.Since(started) < 15*time.Minute && time.Since(lastChange) < time.Minute {
			if n := load.enrolled(); n != last {
				last, lastChange = n, time.Now()
			}
			time.Sleep(200 * time.Millisecond)
		}
		enrolTime, inCourses := time.Since(started), load.enrolled()
		b.Logf("%d of %d in courses after %s; probing", inCourses, courses, enrolTime.Round(time.Second))
		busy := projectionLags(b, s, probes)
		polls := load.polls.Load()
		for _, r := range runs {
			_ = ts.Temporal.TerminateWorkflow(context.Background(), r.GetID(), r.GetRunID(), "benchmark over")
		}
		w.Stop()

		cfg := ts.Config.Worker
		b.ReportMetric(float64(peak.max.Load()), "peak-activities")
		b.ReportMetric(float64(median(idle).Milliseconds()), "idle-lag-p50-ms")
		b.ReportMetric(float64(median(busy).Milliseconds()), "busy-lag-p50-ms")
		b.ReportMetric(float64(busy[len(busy)-1].Milliseconds()), "busy-lag-max-ms")
		b.ReportMetric(float64(inCourses), "in-courses")
		b.Logf("worker: %d activity slots, %d workflow slots, sticky cache %d", cfg.ActivitySlots, cfg.WorkflowSlots, cfg.StickyCacheSize)
		b.Logf("projection lag, idle worker:            p50 %s, max %s (%d probes)", median(idle), idle[len(idle)-1], probes)
		b.Logf("projection lag, %d people in courses: p50 %s, max %s (%d probes); enrolled in %s, %d status polls so far",
			inCourses, median(busy), busy[len(busy)-1], len(busy), enrolTime.Round(time.Second), polls)
		b.Logf("peak activities running at once on the worker: %d", peak.max.Load())
	}
}

// projectionLags starts n pathways and times each first contact from the
// Update being sent to the read model showing it, sorted. A probe that takes
// over two minutes ends the probing (it counts as two minutes).
func projectionLags(b *testing.B, s *system, n int) []time.Duration {
	ctx := context.Background()
	var lags []time.Duration
	for i := 0; i < n; i++ {
		st, err := s.cases.Start(ctx, referral(personalNumber()))
		if err != nil {
			b.Fatal(err)
		}
		for begun := time.Now(); ; time.Sleep(5 * time.Millisecond) {
			if row, err := store.GetPathway(ctx, s.pool, st.CaseID); err == nil && row.Phase == pathway.PhaseReferral {
				break
			}
			if time.Since(begun) > 2*time.Minute {
				b.Logf("probe %d: the new pathway not in the read model after 2 minutes", i+1)
				lags = append(lags, time.Since(begun))
				sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
				return lags
			}
		}
		sent := time.Now()
		if _, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: st.WorkflowID, UpdateName: pathway.UpdateFirstContact,
			Args: []any{pathway.FirstContact{Actor: coach}}, WaitForStage: client.WorkflowUpdateStageAccepted}); err != nil {
			b.Fatal(err)
		}
		for {
			row, err := store.GetPathway(ctx, s.pool, st.CaseID)
			if err == nil && row.Phase != pathway.PhaseReferral {
				break
			}
			if time.Since(sent) > 2*time.Minute {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		lags = append(lags, time.Since(sent))
		b.Logf("probe %d: %s", i+1, lags[len(lags)-1].Round(time.Millisecond))
		if lags[len(lags)-1] > 2*time.Minute {
			break
		}
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	return lags
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

// startCourses starts n Komvux steps directly (as the pathway would), 50 at a time.
func startCourses(b *testing.B, s *system, n int) []client.WorkflowRun {
	runs := make([]client.WorkflowRun, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			in := steps.Input{CaseID: fmt.Sprintf("LOAD-%05d", i), StepID: "r1-s1", Type: komvux.Name,
				Params: map[string]string{"course_code": "USK", "form": "yrkesvux"}, DurationDays: 120, SecondsPerDay: 30}
			r, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
				ID: pathway.StepWorkflowID(in.CaseID, in.StepID), TaskQueue: s.tq}, steps.WorkflowName(komvux.Name), in)
			if err != nil {
				b.Error(err)
				return
			}
			runs[i] = r
		}(i)
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return runs
}

// peakActivities counts the activities running at once on the worker.
type peakActivities struct {
	interceptor.WorkerInterceptorBase
	cur, max atomic.Int64
}

func (p *peakActivities) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &peakActivity{p: p}
	a.Next = next
	return a
}

type peakActivity struct {
	interceptor.ActivityInboundInterceptorBase
	p *peakActivities
}

func (a *peakActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	n := a.p.cur.Add(1)
	defer a.p.cur.Add(-1)
	for m := a.p.max.Load(); n > m && !a.p.max.CompareAndSwap(m, n); m = a.p.max.Load() {
	}
	return a.Next.ExecuteActivity(ctx, in)
}

// loadPeople resolves the load's cases (not in the registry) to a made-up person.
type loadPeople struct{ next steps.PersonResolver }

func (p loadPeople) Person(ctx context.Context, caseID string) (integrations.Person, error) {
	if strings.HasPrefix(caseID, "LOAD-") {
		return integrations.Person{PersonalNumber: "19900101-0017", GivenName: "Load", FamilyName: "Test"}, nil
	}
	return p.next.Person(ctx, caseID)
}

// courseLoad is an education system for the load: every enrolment is
// accepted and runs for length, each call takes 5 ms.
type courseLoad struct {
	mu     sync.Mutex
	ends   map[string]time.Time
	length time.Duration
	polls  atomic.Int64
}

func (c *courseLoad) enrolled() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.ends) }

func (c *courseLoad) SearchCourses(context.Context, integrations.CourseQuery) ([]integrations.Course, error) {
	return nil, nil
}

func (c *courseLoad) Enrol(_ context.Context, key string, req integrations.EnrolRequest) (integrations.Enrolment, error) {
	time.Sleep(5 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	id := "enr-" + req.CaseID
	if _, ok := c.ends[id]; !ok {
		c.ends[id] = time.Now().Add(c.length)
	}
	return integrations.Enrolment{ID: id, CourseCode: req.CourseCode, Status: integrations.EnrolmentActive}, nil
}

func (c *courseLoad) Status(_ context.Context, id string) (integrations.Enrolment, error) {
	time.Sleep(5 * time.Millisecond)
	c.polls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().After(c.ends[id]) {
		return integrations.Enrolment{ID: id, Status: integrations.EnrolmentCompleted, Grade: "C"}, nil
	}
	return integrations.Enrolment{ID: id, Status: integrations.EnrolmentActive}, nil
}

func (c *courseLoad) Withdraw(context.Context, string, string, string) error { return nil }
