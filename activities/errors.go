package activities

import (
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/integrations"
)

// nonRetryable is a failure that retrying cannot fix; the workflow turns it
// into a task for staff.
func nonRetryable(kind, format string, a ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, a...), kind, nil)
}

// Classify maps an adapter error onto Temporal's retry semantics: refusals
// (validation, 4xx) stop retrying; everything else retries with backoff.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if integrations.IsRejected(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "rejected", err)
	}
	return err
}
