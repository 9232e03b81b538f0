package programmes

import (
	"strings"
	"testing"

	"github.com/pathways-se/pathways/steps/catalog"
)

// FuzzProgrammeDefinition: no definition file panics the loader; every
// problem names the file; an accepted definition also passes Validate.
// The seed corpus is testdata/fuzz/FuzzProgrammeDefinition.
func FuzzProgrammeDefinition(f *testing.F) {
	reg := catalog.Registry()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, errs := Parse("fuzz.yaml", data, reg)
		for _, e := range errs {
			if e.File != "fuzz.yaml" || e.Line < 0 || !strings.HasPrefix(e.Error(), "fuzz.yaml") {
				t.Fatalf("problem %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		if err := Validate(p, reg); err != nil {
			t.Fatalf("Parse accepted a definition Validate refuses: %v", err)
		}
	})
}
