// Package conformance is the shared test suite every registered step type
// must pass (conformance_test.go), and the in-memory fakes of the outside
// systems it runs against. The suite iterates over catalog.Types, so a new
// type is tested as soon as it is registered.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/steps"
)

// Fault is what the fakes do to the first create call (an enrolment or an
// agreement, whichever comes first).
type Fault int

const (
	NoFault Fault = iota
	// Reject refuses the call, as a 4xx would: no side effect.
	Reject
	// Unavailable fails the call before any effect, as a 503 would.
	Unavailable
	// LostResponse makes the side effect, then fails as if the response
	// was lost on the way back.
	LostResponse
)

// TestPerson is the participant the fakes resolve every case to. Its
// personal number must never appear in a key, an ID or a reason.
var TestPerson = integrations.Person{PersonalNumber: "19900101-0017", GivenName: "Testa", FamilyName: "Testsson"}

// Need is the recruitment need the fakes know.
var Need = integrations.RecruitmentNeed{ID: "N1", EmployerID: "EMP-0042", EmployerName: "Vårdbolaget AB", SSYK: "5321", Municipality: "1488", Positions: 3}

// Fakes implement integrations.Education, integrations.Employers and
// steps.PersonResolver in memory, recording every call.
type Fakes struct {
	Fault Fault

	mu       sync.Mutex
	attempts int               // create calls, including failed ones
	keys     []string          // idempotency keys of create calls
	created  map[string]string // idempotency key -> created ID
	order    []string          // created IDs in order
	ended    map[string]int    // ID -> withdraw/end calls
	endKeys  []string          // idempotency keys of withdraw/end calls
	texts    []string          // every key, ID and reason seen, for the personal-data check
}

// NewFakes returns empty fakes with the given fault.
func NewFakes(f Fault) *Fakes {
	return &Fakes{Fault: f, created: map[string]string{}, ended: map[string]int{}}
}

// Deps wires the fakes as step dependencies.
func (f *Fakes) Deps() steps.Deps {
	return steps.Deps{Education: f, Employers: f, People: f}
}

// create records one side effect per idempotency key.
func (f *Fakes) create(key, prefix string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	f.keys = append(f.keys, key)
	f.texts = append(f.texts, key)
	first := f.attempts == 1
	if first && f.Fault == Reject {
		return "", &integrations.Rejected{System: "fake", Status: 422, Reason: "no place available"}
	}
	if first && f.Fault == Unavailable {
		return "", errors.New("fake: 503 service unavailable")
	}
	id, ok := f.created[key]
	if !ok {
		id = fmt.Sprintf("%s%d", prefix, len(f.order)+1)
		f.created[key] = id
		f.order = append(f.order, id)
	}
	if first && f.Fault == LostResponse {
		return "", errors.New("fake: connection reset after the request was handled")
	}
	return id, nil
}

func (f *Fakes) end(key, id, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.texts = append(f.texts, key, id, reason)
	f.endKeys = append(f.endKeys, key)
	f.ended[id]++
	return nil
}

// Attempts is the number of create calls.
func (f *Fakes) Attempts() int { f.mu.Lock(); defer f.mu.Unlock(); return f.attempts }

// Keys are the idempotency keys of the create calls, in order.
func (f *Fakes) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

// EndKeys are the idempotency keys of the withdraw and end calls, in order.
func (f *Fakes) EndKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.endKeys...)
}

// Created are the IDs of the side effects made, in order.
func (f *Fakes) Created() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

// Ended is how often each ID was withdrawn or ended.
func (f *Fakes) Ended(id string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.ended[id] }

// Texts are every key, ID and reason the fakes were given.
func (f *Fakes) Texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.texts...)
}

// LastCreated is the most recent created ID.
func (f *Fakes) LastCreated() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.order) == 0 {
		return ""
	}
	return f.order[len(f.order)-1]
}

// Person implements steps.PersonResolver.
func (f *Fakes) Person(ctx context.Context, caseID string) (integrations.Person, error) {
	return TestPerson, nil
}

// SearchCourses implements integrations.Education.
func (f *Fakes) SearchCourses(ctx context.Context, q integrations.CourseQuery) ([]integrations.Course, error) {
	return nil, nil
}

// Enrol implements integrations.Education.
func (f *Fakes) Enrol(ctx context.Context, key string, req integrations.EnrolRequest) (integrations.Enrolment, error) {
	if req.Person.PersonalNumber == "" {
		return integrations.Enrolment{}, &integrations.Rejected{System: "fake", Status: 400, Reason: "no person"}
	}
	id, err := f.create(key, "E")
	if err != nil {
		return integrations.Enrolment{}, err
	}
	return integrations.Enrolment{ID: id, CourseCode: req.CourseCode, Status: integrations.EnrolmentActive}, nil
}

// Status implements integrations.Education: an enrolment stays active until
// the education system's callback (the step's Drive) says otherwise.
func (f *Fakes) Status(ctx context.Context, enrolmentID string) (integrations.Enrolment, error) {
	status := integrations.EnrolmentActive
	if f.Ended(enrolmentID) > 0 {
		status = integrations.EnrolmentWithdrawn
	}
	return integrations.Enrolment{ID: enrolmentID, Status: status}, nil
}

// Withdraw implements integrations.Education.
func (f *Fakes) Withdraw(ctx context.Context, key, enrolmentID, reason string) error {
	return f.end(key, enrolmentID, reason)
}

// RecruitmentNeeds implements integrations.Employers.
func (f *Fakes) RecruitmentNeeds(ctx context.Context, q integrations.NeedQuery) ([]integrations.RecruitmentNeed, error) {
	return []integrations.RecruitmentNeed{Need}, nil
}

// CreateAgreement implements integrations.Employers.
func (f *Fakes) CreateAgreement(ctx context.Context, key string, req integrations.AgreementRequest) (integrations.Agreement, error) {
	if req.EmployerID == "" || req.Kind == "" || !req.EndDate.After(req.StartDate) {
		return integrations.Agreement{}, &integrations.Rejected{System: "fake", Status: 400, Reason: "incomplete agreement"}
	}
	id, err := f.create(key, "A")
	if err != nil {
		return integrations.Agreement{}, err
	}
	return integrations.Agreement{ID: id, Status: "active"}, nil
}

// EndAgreement implements integrations.Employers.
func (f *Fakes) EndAgreement(ctx context.Context, key, agreementID, reason string) error {
	return f.end(key, agreementID, reason)
}
