package api

import (
	"context"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Check is one dependency's readiness.
type Check struct {
	Status string `json:"status"` // ok or down
	Error  string `json:"error,omitempty"`
}

// readyz reports Temporal, PostgreSQL and the worker; 503 until all are up.
// The worker counts as ready when it polls the pathway task queue.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]Check{
		"postgres": check(s.Pool.Ping(ctx)),
		"temporal": check(s.temporalHealth(ctx)),
		"worker":   check(s.workerPolling(ctx)),
	}
	status := http.StatusOK
	for _, c := range checks {
		if c.Status != "ok" {
			status = http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, checks)
}

func (s *Server) temporalHealth(ctx context.Context) error {
	_, err := s.Temporal.CheckHealth(ctx, nil)
	return err
}

// pollerMemory is how long a worker seen polling counts as still there for
// a staff action: asking Temporal on every action cost a server round trip.
// A worker gone within it makes the action wait and answer 202, never a
// false failure. Past half of it an action asks again in the background, so
// under steady use no action waits for the question.
const pollerMemory = 10 * time.Second

// workerReady is workerPolling, remembered for pollerMemory once a worker
// was seen.
func (s *Server) workerReady(ctx context.Context) error {
	if seen := s.pollersSeen.Load(); seen != 0 {
		age := time.Since(time.Unix(0, seen))
		if age < pollerMemory {
			if age > pollerMemory/2 && s.pollersAsking.CompareAndSwap(false, true) {
				// Counted in flight and ended by the shutdown, so Run's
				// callers may close the client once it returns.
				stopping := s.stoppingContext()
				s.inflight.Add(1)
				go func() {
					defer s.inflight.Done()
					defer s.pollersAsking.Store(false)
					ctx, cancel := context.WithTimeout(stopping, pollerMemory/2)
					defer cancel()
					if s.workerPolling(ctx) == nil {
						s.pollersSeen.Store(time.Now().UnixNano())
					}
				}()
			}
			return nil
		}
	}
	err := s.workerPolling(ctx)
	if err == nil {
		s.pollersSeen.Store(time.Now().UnixNano())
	}
	return err
}

// workerPolling asks Temporal whether a worker polled the task queue lately.
func (s *Server) workerPolling(ctx context.Context) error {
	resp, err := s.Temporal.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace:     s.Config.Temporal.Namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: s.Config.Temporal.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
	})
	if err != nil {
		return err
	}
	if len(resp.GetPollers()) == 0 {
		return errNoPollers
	}
	return nil
}

func check(err error) Check {
	if err != nil {
		return Check{Status: "down", Error: err.Error()}
	}
	return Check{Status: "ok"}
}
