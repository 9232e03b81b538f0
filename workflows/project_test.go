package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/pathways-se/pathways/pathway"
)

// PostgreSQL away for two minutes, longer than the local projection's 30 s
// (the suite gives an activity about five minutes of retries):
// the server-side activity takes over, and the pause answers only once its
// projection has landed (read-your-writes), and lands once.
func TestProjectionOutageHoldsTheAnswer(t *testing.T) {
	h := newHarness(t)
	var answered, healed time.Time
	h.at(1, func() {
		h.reg.failProjections("paused")
		h.env.UpdateWorkflow(pathway.UpdatePause, "pause", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { t.Errorf("pause refused: %v", err) },
			OnComplete: func(_ any, err error) {
				if err != nil {
					t.Errorf("pause failed: %v", err)
				}
				answered = h.env.Now()
			},
		}, pathway.Pause{Actor: staff, Reason: pathway.PauseSick})
	})
	h.env.RegisterDelayedCallback(func() {
		if !answered.IsZero() {
			t.Errorf("the pause answered at %s, before its projection landed", answered)
		}
		healed = h.env.Now()
		h.reg.failProjections("")
	}, day+2*time.Minute)
	h.at(2, func() {
		if answered.IsZero() || answered.Before(healed) {
			t.Errorf("pause answered at %v, PostgreSQL back at %v", answered, healed)
		}
		if n := countKind(h.reg.kinds(), "paused"); n != 1 {
			t.Errorf("%d paused projections, want 1", n)
		}
		h.update("close", pathway.UpdateClose, pathway.Close{Actor: staff, Reason: pathway.CloseMoved})
	})
	h.run(programme())
	h.ok("close")
}
