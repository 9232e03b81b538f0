package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
)

// startClock watches the programme's time limit. Pauses that stop the clock
// and recorded outcomes re-arm it through clockGen, the pattern of a timer a
// signal can move. At the limit it requests closure; the main loop winds
// the running step down.
func (w *pathwayWorkflow) startClock(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for w.st.Close == nil {
			gen := w.clockGen
			stopped := w.st.Outcome != nil || (w.st.Paused && w.in.Programme.PauseStopsClock)
			if stopped {
				// An outcome hands the case to follow-up; a stopping pause freezes time.
				if workflow.Await(ctx, func() bool { return w.clockGen != gen || w.st.Close != nil }) != nil {
					return
				}
				continue
			}
			left := w.st.LimitAt.Sub(workflow.Now(ctx))
			if left <= 0 {
				w.st.Close = &pathway.Close{Actor: pathway.Actor{StaffID: "system"}, Reason: pathway.CloseTimeLimit,
					Note: "the programme's time limit was reached"}
				return
			}
			if _, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return w.clockGen != gen || w.st.Close != nil }); err != nil {
				return
			}
		}
	})
}

// extendLimit adds a stopping pause's length to the limit.
func (w *pathwayWorkflow) extendLimit(now time.Time) {
	if w.in.Programme.PauseStopsClock && !w.st.PausedAt.IsZero() {
		w.st.LimitAt = w.st.LimitAt.Add(now.Sub(w.st.PausedAt))
	}
}
