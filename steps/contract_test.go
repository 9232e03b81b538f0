package steps

import (
	"testing"
	"time"
)

func TestCompressBackoff(t *testing.T) {
	real := CallOptions(0)
	if real.RetryPolicy.MaximumInterval != 5*time.Minute {
		t.Errorf("real clock: max interval %s, want the policy's 5m", real.RetryPolicy.MaximumInterval)
	}
	demo := CallOptions(30) // a programme day lasts 30 s
	if demo.RetryPolicy.MaximumInterval != 30*time.Second {
		t.Errorf("30 s/day: max interval %s, want 30s", demo.RetryPolicy.MaximumInterval)
	}
	fast := CallOptions(0.05)
	if fast.RetryPolicy.MaximumInterval != time.Second {
		t.Errorf("0.05 s/day: max interval %s, want the 1s initial interval", fast.RetryPolicy.MaximumInterval)
	}
	if SideEffectOptions.RetryPolicy.MaximumInterval != 5*time.Minute {
		t.Errorf("the shared policy was changed: %s", SideEffectOptions.RetryPolicy.MaximumInterval)
	}
	if len(fast.RetryPolicy.NonRetryableErrorTypes) == 0 || fast.ScheduleToCloseTimeout != SideEffectOptions.ScheduleToCloseTimeout {
		t.Errorf("compression dropped other options: %+v", fast)
	}
}
