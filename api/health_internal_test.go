package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pathways-se/pathways/internal/testsystem"
)

// Past half of pollerMemory an action asks Temporal about the worker in the
// background and goes on without waiting; past all of it, it asks first, so
// an action to a queue nobody polls is refused at once.
func TestWorkerReadyAsksAheadInTheBackground(t *testing.T) {
	ts := testsystem.New(t, testsystem.Options{})
	cfg := *ts.Config
	s := &Server{Config: &cfg, Temporal: ts.Temporal}
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); s.workerPolling(ctx) != nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the test's worker never showed as polling")
		}
	}
	waitAsked := func() {
		for deadline := time.Now().Add(10 * time.Second); s.pollersAsking.Load(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the background ask never finished")
			}
		}
	}

	stale := time.Now().Add(-pollerMemory * 3 / 4).UnixNano()
	s.pollersSeen.Store(stale)
	if err := s.workerReady(ctx); err != nil {
		t.Fatalf("within the memory: %v", err)
	}
	waitAsked()
	if s.pollersSeen.Load() <= stale {
		t.Error("the background ask did not renew the memory of the polling worker")
	}

	// Nobody polls this queue: the background ask renews nothing, and once
	// the memory is gone the action is refused before it is sent.
	cfg.Temporal.TaskQueue = "nobody-polls-" + ts.TaskQueue
	s.pollersSeen.Store(stale)
	if err := s.workerReady(ctx); err != nil {
		t.Fatalf("within the memory: %v", err)
	}
	waitAsked()
	if s.pollersSeen.Load() != stale {
		t.Error("an ask that found no worker renewed the memory")
	}
	s.pollersSeen.Store(time.Now().Add(-2 * pollerMemory).UnixNano())
	if err := s.workerReady(ctx); !errors.Is(err, errNoPollers) {
		t.Errorf("past the memory with no worker: %v, want errNoPollers", err)
	}
}
