package worker

import (
	"reflect"
	"testing"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
)

// recorder keeps what is registered; other Registry methods are not used.
type recorder struct {
	sdkworker.Registry
	activities map[string]reflect.Type // name -> function type
	workflows  map[string]reflect.Type
}

func (r *recorder) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}
func (r *recorder) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	r.workflows[o.Name] = reflect.TypeOf(w)
}
func (r *recorder) RegisterActivity(a any) {
	r.RegisterActivityWithOptions(a, activity.RegisterOptions{})
}
func (r *recorder) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	t := reflect.TypeOf(a)
	if t.Kind() == reflect.Func {
		r.activities[o.Name] = t
		return
	}
	// A struct registers every exported method, named prefix + method.
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		r.activities[o.Name+m.Name] = m.Func.Type()
	}
}

// serializable tells whether a parameter or result can travel through
// Temporal's data converter (no functions, channels or unsafe pointers).
func serializable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return false
	}
	return true
}

// Every activity and workflow the worker registers takes and returns only
// data: a method with a function parameter (once, escalation's Manual) is
// not an activity that Temporal can call.
func TestNoRegisteredActivityTakesAFunction(t *testing.T) {
	r := &recorder{activities: map[string]reflect.Type{}, workflows: map[string]reflect.Type{}}
	reg := catalog.Registry()
	RegisterPathway(r, reg, nil, nil, steps.Deps{})
	RegisterSteps(r, reg, steps.Deps{})
	escalation.Register(r, &escalation.Activities{})
	RegisterRetention(r, &activities.Retention{})
	if len(r.activities) == 0 || len(r.workflows) == 0 {
		t.Fatal("nothing registered")
	}
	check := func(kind, name string, ft reflect.Type) {
		for i := 0; i < ft.NumIn(); i++ {
			if !serializable(ft.In(i)) {
				t.Errorf("%s %s takes a %s (parameter %d)", kind, name, ft.In(i), i)
			}
		}
		for i := 0; i < ft.NumOut(); i++ {
			if !serializable(ft.Out(i)) {
				t.Errorf("%s %s returns a %s", kind, name, ft.Out(i))
			}
		}
	}
	for name, ft := range r.activities {
		check("activity", name, ft)
	}
	for name, ft := range r.workflows {
		check("workflow", name, ft)
	}
	for _, name := range []string{escalation.WorkflowName, "StallSweepContinued", "ManualEscalation"} {
		if r.workflows[name] == nil {
			t.Errorf("workflow %s is not registered", name)
		}
	}
	for _, name := range []string{escalation.ActivityBegin, escalation.ActivityFind, escalation.ActivityEscalate, escalation.ActivityFinish, "EscalationFindForManual"} {
		if r.activities[name] == nil {
			t.Errorf("activity %s is not registered", name)
		}
	}
}
