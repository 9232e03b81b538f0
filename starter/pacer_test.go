package starter

import (
	"context"
	"testing"
	"time"
)

// The window holds starts back until a place frees, and a wait cut short by
// cancellation still counts its place, so the release after it never takes
// the count below what is really held.
func TestPacerHoldsStartsToItsWindow(t *testing.T) {
	p := &pacer{window: 2, waiting: map[string]bool{}, changed: make(chan struct{})}
	ctx := context.Background()
	p.acquire(ctx)
	p.acquire(ctx)
	got := make(chan struct{})
	go func() { p.acquire(ctx); close(got) }()
	select {
	case <-got:
		t.Fatal("a third start went ahead of a full window")
	case <-time.After(100 * time.Millisecond):
	}
	p.release()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("a freed place did not let the waiting start go")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	p.acquire(cctx) // full window, cancelled: returns holding a place
	p.release()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != 2 {
		t.Errorf("held %d after a cancelled wait and its release, want 2", p.held)
	}
}
