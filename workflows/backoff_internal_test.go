package workflows

import (
	"reflect"
	"testing"

	"github.com/pathways-se/pathways/steps"
)

// compressBackoff is the same rule steps.CompressBackoff applies.
func TestCompressBackoffMatchesSteps(t *testing.T) {
	for _, spd := range []float64{0, 0.05, 2, 600} {
		got, want := compressBackoff(outsideOptions, spd), steps.CompressBackoff(outsideOptions, spd)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("seconds per day %v: %+v, steps give %+v", spd, got.RetryPolicy, want.RetryPolicy)
		}
	}
}
