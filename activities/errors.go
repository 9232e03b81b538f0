package activities

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// nonRetryable is a failure that retrying cannot fix; the workflow turns it
// into a task for staff.
func nonRetryable(kind, format string, a ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, a...), kind, nil)
}
