package conformance

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
)

// The demo clock of the suite: half a real second per programme day. Timers
// are skipped; only a polling activity makes the suite wait in real time.
const (
	secondsPerDay = 0.5
	durationDays  = 20
	driveDay      = 1 // Drive is called on this day
	cancelDay     = 2 // the cancel test cancels on this day
)

func day(d float64) time.Duration { return steps.Days(d, secondsPerDay) }

// forEachType runs fn as a subtest for every registered step type.
func forEachType(t *testing.T, fn func(t *testing.T, typ steps.Type, c steps.Conformable)) {
	if len(catalog.Types) == 0 {
		t.Fatal("no step types registered")
	}
	for _, typ := range catalog.Types {
		t.Run(typ.Name(), func(t *testing.T) {
			c, ok := typ.(steps.Conformable)
			if !ok {
				t.Fatalf("step type %q does not implement steps.Conformable (Example, Invalid, Drive): see docs/adding-a-step-type.md", typ.Name())
			}
			fn(t, typ, c)
		})
	}
}

type run struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	fakes *Fakes
	typ   steps.Type
}

func newRun(t *testing.T, typ steps.Type, fault Fault) *run {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	f := NewFakes(fault)
	// The same names as worker.RegisterSteps.
	env.RegisterWorkflowWithOptions(typ.Workflow(), workflow.RegisterOptions{Name: steps.WorkflowName(typ.Name())})
	if a := typ.Activities(f.Deps()); a != nil {
		env.RegisterActivityWithOptions(a, activity.RegisterOptions{Name: steps.ActivityName(typ.Name(), "")})
	}
	return &run{t: t, env: env, fakes: f, typ: typ}
}

// hasSideEffects reports whether the type talks to outside systems.
func hasSideEffects(typ steps.Type) bool { return typ.Activities(steps.Deps{}) != nil }

func (r *run) execute(c steps.Conformable) {
	r.env.ExecuteWorkflow(steps.WorkflowName(r.typ.Name()), steps.Input{
		CaseID: "2026-CONF0001", StepID: "r1-s1", Type: r.typ.Name(), Params: c.Example(),
		DurationDays: durationDays, MunicipalityCode: "1488", NeedID: Need.ID, TargetSSYK: Need.SSYK,
		SecondsPerDay: secondsPerDay,
	})
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("the step did not finish")
	}
}

// driveAt calls Drive on day d, or, if a retried call has not yet made
// the step's first side effect, a day later.
func (r *run) driveAt(c steps.Conformable, d float64) {
	r.env.RegisterDelayedCallback(func() {
		if hasSideEffects(r.typ) && len(r.fakes.Created()) == 0 {
			r.driveAt(c, 1)
			return
		}
		c.Drive(driver{r})
	}, day(d))
}

func (r *run) result() steps.Result {
	r.t.Helper()
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("the step ended with an error: %v", err)
	}
	var res steps.Result
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res
}

// noPersonalData checks keys, IDs and reasons for the participant's data.
func (r *run) noPersonalData(extra ...string) {
	r.t.Helper()
	for _, s := range append(r.fakes.Texts(), extra...) {
		for _, p := range []string{TestPerson.PersonalNumber, strings.ReplaceAll(TestPerson.PersonalNumber, "-", ""), TestPerson.GivenName, TestPerson.FamilyName} {
			if strings.Contains(s, p) {
				r.t.Errorf("personal data %q in %q", p, s)
			}
		}
	}
}

type driver struct{ r *run }

func (d driver) Update(name string, arg any) {
	d.r.env.UpdateWorkflow(name, "conformance-"+name, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { d.r.t.Errorf("update %s rejected: %v", name, err) },
		OnComplete: func(_ any, err error) {
			if err != nil {
				d.r.t.Errorf("update %s failed: %v", name, err)
			}
		},
	}, arg)
}

func (d driver) Signal(name string, arg any) { d.r.env.SignalWorkflow(name, arg) }
func (d driver) LastCreated() string         { return d.r.fakes.LastCreated() }

// Definition validation: the documented example is accepted, every
// documented bad set is refused, and so are a missing or negative duration.
func TestDefinitionValidation(t *testing.T) {
	reg := catalog.Registry()
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if err := typ.Validate(c.Example()); err != nil {
			t.Fatalf("the documented example %v is refused: %v", c.Example(), err)
		}
		if len(c.Invalid()) == 0 {
			t.Error("Invalid documents no bad parameters")
		}
		for name, p := range c.Invalid() {
			if err := typ.Validate(p); err == nil {
				t.Errorf("%s: %v accepted", name, p)
			} else if !strings.Contains(err.Error(), "params.") {
				t.Errorf("%s: the error %q does not name the parameter (params.<name>)", name, err)
			}
		}
		for _, d := range []int{0, -5} {
			if err := reg.ValidateSpec(pathway.StepSpec{ID: "s", Type: typ.Name(), DurationDays: d, Params: c.Example()}); err == nil {
				t.Errorf("duration %d accepted", d)
			}
		}
		if strings.ContainsAny(typ.Name(), " .A-Z") || typ.Title() == "" {
			t.Errorf("name %q must be lower-case without dots, and the title set", typ.Name())
		}
	})
}

// Completion: driven as the type documents, the step completes.
func TestCompletion(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		r := newRun(t, typ, NoFault)
		r.driveAt(c, driveDay)
		r.execute(c)
		res := r.result()
		if res.Outcome != pathway.StepCompleted {
			t.Fatalf("outcome %q (%s), want completed", res.Outcome, res.Reason)
		}
		if res.Leads != nil {
			switch res.Leads.Kind {
			case pathway.OutcomeWork, pathway.OutcomeSubsidisedWork, pathway.OutcomeStudies:
			default:
				t.Errorf("leads to unknown outcome kind %q", res.Leads.Kind)
			}
			if res.Leads.Employer == "" {
				t.Error("leads to an outcome without an employer or school")
			}
		}
		var texts []string
		for k, v := range res.Details {
			texts = append(texts, k, v)
		}
		r.noPersonalData(append(texts, res.Reason)...)
	})
}

// Failure classification, refusal: a Rejected from the adapter ends the
// step failed with a reason after one call, never retried.
func TestRejectedIsFinal(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if !hasSideEffects(typ) {
			t.Skip("no outside calls")
		}
		r := newRun(t, typ, Reject)
		r.execute(c)
		res := r.result()
		if res.Outcome != pathway.StepFailed || res.Reason == "" {
			t.Fatalf("outcome %q reason %q, want failed with a reason", res.Outcome, res.Reason)
		}
		if n := r.fakes.Attempts(); n != 1 {
			t.Errorf("%d create calls after a refusal, want 1 (no retry)", n)
		}
		if n := len(r.fakes.Created()); n != 0 {
			t.Errorf("%d side effects after a refusal", n)
		}
		r.noPersonalData(res.Reason)
	})
}

// Failure classification, outage: a plain error (a 5xx) is retried, and the
// step goes on to complete.
func TestUnavailableIsRetried(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if !hasSideEffects(typ) {
			t.Skip("no outside calls")
		}
		r := newRun(t, typ, Unavailable)
		r.driveAt(c, driveDay)
		r.execute(c)
		if res := r.result(); res.Outcome != pathway.StepCompleted {
			t.Fatalf("outcome %q (%s) after a retried outage, want completed", res.Outcome, res.Reason)
		}
		if n := r.fakes.Attempts(); n < 2 {
			t.Errorf("%d create calls, want a retry", n)
		}
		seen := map[string]bool{}
		for _, k := range r.fakes.Keys() {
			seen[k] = true
		}
		if n := len(r.fakes.Created()); n != len(seen) {
			t.Errorf("%d side effects for %d distinct keys", n, len(seen))
		}
	})
}

// Idempotent re-execution: the first attempt makes the side effect but its
// response is lost; the retry carries the same key and the outside system
// records one side effect.
func TestIdempotentRetry(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if !hasSideEffects(typ) {
			t.Skip("no outside calls")
		}
		r := newRun(t, typ, LostResponse)
		r.driveAt(c, driveDay)
		r.execute(c)
		if res := r.result(); res.Outcome != pathway.StepCompleted {
			t.Fatalf("outcome %q (%s), want completed", res.Outcome, res.Reason)
		}
		keys := r.fakes.Keys()
		if len(keys) < 2 || keys[0] != keys[1] || keys[0] == "" {
			t.Fatalf("create keys %q: want the same non-empty key on the retry", keys)
		}
		created := r.fakes.Created()
		// The retried call made nothing new; a later phase (a job track's
		// internship) may make its own, under another key.
		seen := map[string]bool{}
		for _, k := range keys {
			seen[k] = true
		}
		if len(created) != len(seen) {
			t.Errorf("%d side effects for %d distinct keys", len(created), len(seen))
		}
		r.noPersonalData()
	})
}

// Cancel with wind-down: cancelled mid-way, the step ends cancelled and
// withdraws or ends everything it created, exactly once each.
func TestCancelWindsDown(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		r := newRun(t, typ, NoFault)
		r.env.RegisterDelayedCallback(func() { r.env.CancelWorkflow() }, day(cancelDay))
		r.execute(c)
		err := r.env.GetWorkflowError()
		if err == nil || !temporal.IsCanceledError(err) {
			t.Fatalf("error %v, want cancelled", err)
		}
		created := r.fakes.Created()
		if hasSideEffects(typ) && len(created) == 0 {
			t.Fatal("nothing was created before the cancel: the test cancels too early")
		}
		for _, id := range created {
			if n := r.fakes.Ended(id); n != 1 {
				t.Errorf("%s ended %d times on cancel, want exactly 1", id, n)
			}
		}
		r.noPersonalData()
	})
}

// Business keys: every create, withdraw and end call carries a key that
// names the case, the step and the event ("<case>:<step>:<event>"), the same
// on a retry, and a withdraw or end never reuses a create's key.
func TestStepKeysAreBusinessKeys(t *testing.T) {
	forEachType(t, func(t *testing.T, typ steps.Type, c steps.Conformable) {
		if !hasSideEffects(typ) {
			t.Skip("no outside calls")
		}
		r := newRun(t, typ, LostResponse)
		r.env.RegisterDelayedCallback(func() { r.env.CancelWorkflow() }, day(cancelDay))
		r.execute(c)
		prefix := "2026-CONF0001:r1-s1:"
		creates, ends := r.fakes.Keys(), r.fakes.EndKeys()
		if len(creates) < 2 || len(ends) == 0 {
			t.Fatalf("create keys %q, end keys %q: want a retried create and a wind-down", creates, ends)
		}
		for _, k := range append(append([]string(nil), creates...), ends...) {
			if !strings.HasPrefix(k, prefix) || strings.Count(k, ":") != 2 || strings.HasSuffix(k, ":") {
				t.Errorf("key %q is not %s<event>", k, prefix)
			}
		}
		for _, e := range ends {
			for _, k := range creates {
				if e == k {
					t.Errorf("the wind-down reuses the create key %q", k)
				}
			}
		}
	})
}
