package workflows_test

import (
	"reflect"
	"testing"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// The workflow speaks to its steps and activities through pathway's
// contract. These hold the contract to what the other side declares, so a
// field or name changed on one side only fails here, not in production.
func TestContractMatchesStepsAndActivities(t *testing.T) {
	sameFields(t, reflect.TypeOf(pathway.StepInput{}), reflect.TypeOf(steps.Input{}))
	sameFields(t, reflect.TypeOf(pathway.StepResult{}), reflect.TypeOf(steps.Result{}))
	if a, b := pathway.StepWorkflowName("komvux"), steps.WorkflowName("komvux"); a != b {
		t.Errorf("step workflow name %q, steps register %q", a, b)
	}
	for _, d := range []float64{0.5, 1, 548} {
		for _, spd := range []float64{0, 0.05, 2} {
			if a, b := pathway.Days(d, spd), steps.Days(d, spd); a != b {
				t.Errorf("Days(%v, %v) = %v, steps say %v", d, spd, a, b)
			}
		}
	}
	for _, c := range []struct {
		recv any
		name string
	}{
		{&activities.Registry{}, pathway.ActivityProject},
		{&activities.Registry{}, pathway.ActivityCheckCentre},
		{&activities.Outside{}, pathway.ActivityNotifySocialServices},
		{&activities.Outside{}, pathway.ActivityReportOutcome},
	} {
		if _, ok := reflect.TypeOf(c.recv).MethodByName(c.name); !ok {
			t.Errorf("%T has no activity %s: the worker registers methods by name", c.recv, c.name)
		}
	}
}

func sameFields(t *testing.T, a, b reflect.Type) {
	t.Helper()
	if a.NumField() != b.NumField() {
		t.Errorf("%v has %d fields, %v has %d", a, a.NumField(), b, b.NumField())
		return
	}
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Tag.Get("json") != fb.Tag.Get("json") || fa.Type != fb.Type {
			t.Errorf("%v.%s %v `%s` differs from %v.%s %v `%s`", a, fa.Name, fa.Type, fa.Tag.Get("json"), b, fb.Name, fb.Type, fb.Tag.Get("json"))
		}
	}
}
