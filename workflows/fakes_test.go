package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
)

// fakeRegistry stands in for the PostgreSQL projection and records it.
type fakeRegistry struct {
	mu          sync.Mutex
	projections []pathway.Projection
	centres     map[string]bool
	centresDown bool   // CheckCentre fails retryably, as when PostgreSQL is away
	failKind    string // projections of this event kind fail retryably
}

func (f *fakeRegistry) Project(ctx context.Context, p pathway.Projection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failKind != "" && p.Event != nil && p.Event.Kind == f.failKind {
		return errors.New("connection refused")
	}
	f.projections = append(f.projections, p)
	return nil
}

func (f *fakeRegistry) CheckCentre(ctx context.Context, id string) error {
	f.mu.Lock()
	down := f.centresDown
	f.mu.Unlock()
	if down {
		return errors.New("connection refused")
	}
	if !f.centres[id] {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("no centre with ID %q", id), "unknown_centre", nil)
	}
	return nil
}

func (f *fakeRegistry) setCentresDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.centresDown = down
}

func (f *fakeRegistry) failProjections(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failKind = kind
}

func (f *fakeRegistry) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	ps := append([]pathway.Projection{}, f.projections...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq }) // the timeline's order
	for _, p := range ps {
		if p.Event != nil {
			out = append(out, p.Event.Kind)
		}
	}
	return out
}

func (f *fakeRegistry) last() pathway.Projection {
	f.mu.Lock()
	defer f.mu.Unlock()
	last := f.projections[0]
	for _, p := range f.projections {
		if p.Seq > last.Seq { // activities may finish out of order; seq is the truth
			last = p
		}
	}
	return last
}

// fakeOutside records notices to social services and the employment service.
type fakeOutside struct {
	mu      sync.Mutex
	notices []pathway.Notice
	reports []pathway.Notice
	plans   []pathway.Notice // plan reports, kept apart from the outcome's notices
	down    bool             // both systems answer 503
}

func (f *fakeOutside) ReportPlan(ctx context.Context, n pathway.Notice) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return false, errors.New("503 Service Unavailable")
	}
	f.plans = append(f.plans, n)
	return true, nil
}

func (f *fakeOutside) NotifySocialServices(ctx context.Context, n pathway.Notice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("503 Service Unavailable")
	}
	f.notices = append(f.notices, n)
	return nil
}

func (f *fakeOutside) ReportOutcome(ctx context.Context, n pathway.Notice) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return false, errors.New("503 Service Unavailable")
	}
	f.reports = append(f.reports, n)
	return true, nil
}

func (f *fakeOutside) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// keys are the idempotency keys of the delivered notices and reports.
func (f *fakeOutside) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range append(append([]pathway.Notice{}, f.notices...), f.reports...) {
		out = append(out, n.Key)
	}
	return out
}

func (f *fakeOutside) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.notices {
		out = append(out, n.Event+":"+n.Reason)
	}
	return out
}

// fakeEducation is an in-memory Komvux system keyed by idempotency key.
type fakeEducation struct {
	mu        sync.Mutex
	byKey     map[string]integrations.Enrolment
	status    map[string]string
	withdrawn []string
}

func newFakeEducation() *fakeEducation {
	return &fakeEducation{byKey: map[string]integrations.Enrolment{}, status: map[string]string{}}
}

func (f *fakeEducation) SearchCourses(context.Context, integrations.CourseQuery) ([]integrations.Course, error) {
	return nil, nil
}

func (f *fakeEducation) Enrol(ctx context.Context, key string, req integrations.EnrolRequest) (integrations.Enrolment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.byKey[key]; ok {
		return e, nil
	}
	e := integrations.Enrolment{ID: fmt.Sprintf("E%d", len(f.byKey)+1), CourseCode: req.CourseCode, Status: integrations.EnrolmentActive}
	f.byKey[key] = e
	f.status[e.ID] = e.Status
	return e, nil
}

func (f *fakeEducation) Status(ctx context.Context, id string) (integrations.Enrolment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return integrations.Enrolment{ID: id, Status: f.status[id]}, nil
}

func (f *fakeEducation) Withdraw(ctx context.Context, key, id, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.withdrawn = append(f.withdrawn, id)
	f.status[id] = integrations.EnrolmentWithdrawn
	return nil
}

func (f *fakeEducation) withdrawals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.withdrawn)
}

// fakePeople resolves every case to a fixed test person.
type fakePeople struct{}

func (fakePeople) Person(ctx context.Context, caseID string) (integrations.Person, error) {
	_ = activity.GetInfo(ctx)
	return integrations.Person{PersonalNumber: "19811218-9876"}, nil
}
