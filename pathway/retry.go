package pathway

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// CompressBackoff caps the retry back-off of opts at one programme day
// (never below the initial interval). Under a compressed demo clock a
// 5-minute wait would span months of the programme; on the real clock
// (secondsPerDay 0) a day is far above every cap and opts are unchanged.
// The pathway and every step type use this one rule.
func CompressBackoff(opts workflow.ActivityOptions, secondsPerDay float64) workflow.ActivityOptions {
	if secondsPerDay <= 0 || opts.RetryPolicy == nil {
		return opts
	}
	rp := *opts.RetryPolicy // the caller's policy is shared; change a copy
	day := Days(1, secondsPerDay)
	if day < rp.InitialInterval {
		day = rp.InitialInterval
	}
	if rp.MaximumInterval == 0 || rp.MaximumInterval > day {
		rp.MaximumInterval = day
	}
	opts.RetryPolicy = &rp
	return opts
}

// ErrorMessage is the message of an activity error without the SDK's wrapping.
func ErrorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
