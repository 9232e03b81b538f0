// Package integrations holds the adapters to the systems around a centre:
// adult education, the employment service, employers, social services and
// staff notifications. Each is an interface here plus an HTTP client in its
// own file; the simulators under simulators/ speak the same protocols.
//
// Every side-effecting call takes an idempotency key, derived by the caller
// from the workflow and activity IDs, so a retried call has no second effect.
package integrations

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Person identifies a participant towards an outside system. It is resolved
// inside an activity from the case registry and never enters workflow history
// or logs.
type Person struct {
	PersonalNumber string
	GivenName      string
	FamilyName     string
	Email          string
}

// Education is the municipality's adult-education (Komvux) system.
type Education interface {
	SearchCourses(ctx context.Context, q CourseQuery) ([]Course, error)
	Enrol(ctx context.Context, key string, req EnrolRequest) (Enrolment, error)
	Status(ctx context.Context, enrolmentID string) (Enrolment, error)
	Withdraw(ctx context.Context, key, enrolmentID, reason string) error
}

// CourseQuery mirrors the national catalogue (Susa-navet style).
type CourseQuery struct {
	Municipality string // municipality code, e.g. "1480"
	Form         string // komvux, yrkesvux, sfi
	SUN          string // SUN 2020 code prefix
	Text         string
}

// Course is one course occasion.
type Course struct {
	Code         string    `json:"code"`
	Title        string    `json:"title"`
	Provider     string    `json:"provider"`
	Municipality string    `json:"municipality"`
	Form         string    `json:"form"`
	SUN          string    `json:"sun"`
	StartDate    time.Time `json:"start_date"`
	PacePercent  int       `json:"pace_percent"`
	Weeks        int       `json:"weeks"`
}

// EnrolRequest asks for a place on a course.
type EnrolRequest struct {
	CaseID     string
	CourseCode string
	Person     Person
	// CallbackURL, when set, receives POST {enrolment_id, status, grade}
	// once the enrolment ends (completed, failed, dropped_out).
	CallbackURL string
}

// Enrolment states.
const (
	EnrolmentActive    = "active"
	EnrolmentCompleted = "completed"
	EnrolmentFailed    = "failed"
	EnrolmentDropped   = "dropped_out"
	EnrolmentWithdrawn = "withdrawn"
)

// Enrolment is a place on a course and how it is going.
type Enrolment struct {
	ID         string `json:"id"`
	CourseCode string `json:"course_code"`
	Status     string `json:"status"`
	Grade      string `json:"grade,omitempty"`
}

// Employment is the state employment service: the secure gateway for one
// jobseeker's data, and the open JobSearch API.
type Employment interface {
	Registration(ctx context.Context, person Person) (Registration, error)
	ReportPlan(ctx context.Context, key string, r PlanReport) error
	ReportOutcome(ctx context.Context, key string, r OutcomeReport) error
	SearchVacancies(ctx context.Context, q VacancyQuery) (VacancyPage, error)
}

// Registration is the jobseeker's status at the employment service.
type Registration struct {
	Registered bool     `json:"registered"`
	Programme  string   `json:"programme,omitempty"`
	Consent    []string `json:"consent"` // what the person agreed may be shared: plan, outcome
}

// PlanReport tells the employment service about the action plan.
type PlanReport struct {
	CaseID     string
	Person     Person
	TargetSSYK string
	Steps      []string
}

// OutcomeReport tells the employment service where the person went.
type OutcomeReport struct {
	CaseID    string
	Person    Person
	Kind      string
	StartDate time.Time
	SSYK      string
}

// VacancyQuery is JobSearch's GET /search.
type VacancyQuery struct {
	Q               string
	OccupationGroup string // SSYK 2012 code or occupation-group concept ID
	Municipality    string // SCB municipality code or concept ID
	Offset, Limit   int
}

// VacancyPage is a page of JobSearch hits.
type VacancyPage struct {
	Total int       `json:"total"`
	Hits  []Vacancy `json:"hits"`
}

// Vacancy is one JobSearch hit.
type Vacancy struct {
	ID                  string    `json:"id"`
	Headline            string    `json:"headline"`
	Employer            string    `json:"employer"`
	OccupationConceptID string    `json:"occupation_concept_id"`
	OccupationGroupID   string    `json:"occupation_group_concept_id"`
	SSYK                string    `json:"ssyk"`
	MunicipalityCode    string    `json:"municipality_code"`
	ApplicationDeadline time.Time `json:"application_deadline"`
}

// Employers is the employer-facing system: recruitment needs and internship
// agreements.
type Employers interface {
	RecruitmentNeeds(ctx context.Context, q NeedQuery) ([]RecruitmentNeed, error)
	CreateAgreement(ctx context.Context, key string, req AgreementRequest) (Agreement, error)
	EndAgreement(ctx context.Context, key, agreementID, reason string) error
}

// NeedQuery filters recruitment needs. Status defaults to open; "all"
// lists every status.
type NeedQuery struct {
	SSYK         string
	Municipality string
	EmployerID   string
	Status       string
}

// RecruitmentNeed is an employer's concrete need in a shortage occupation.
type RecruitmentNeed struct {
	ID               string    `json:"id"`
	EmployerID       string    `json:"employer_id"`
	EmployerName     string    `json:"employer_name"`
	SSYK             string    `json:"ssyk"`
	Municipality     string    `json:"municipality"`
	Positions        int       `json:"positions"`
	StartDate        time.Time `json:"start_date"`
	RequiredTraining string    `json:"required_training"`
	ContactRole      string    `json:"contact_role"` // a function, e.g. "rekryteringsansvarig"
	// The lifecycle, kept by the employer system: Positions are the open
	// ones, Filled those taken by agreements naming the need.
	Title        string    `json:"title,omitempty"`
	CentreID     string    `json:"centre_id,omitempty"`
	Status       string    `json:"status,omitempty"` // open, filled, withdrawn, expired
	StatusReason string    `json:"status_reason,omitempty"`
	Filled       int       `json:"filled"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
}

// AgreementRequest sets up an internship or work-training agreement.
type AgreementRequest struct {
	CaseID     string
	EmployerID string
	NeedID     string // the recruitment need the agreement fills a position of, if any
	Kind       string // internship, work_training, language_internship, subsidised_employment
	StartDate  time.Time
	EndDate    time.Time
}

// Agreement is an agreement with an employer.
type Agreement struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// SocialServices receives outcomes and closures, which change income support.
type SocialServices interface {
	Notify(ctx context.Context, key string, n SocialNotice) error
}

// SocialNotice is an outcome or a closure of a participant's pathway.
type SocialNotice struct {
	CaseID  string
	Person  Person
	Event   string // outcome, closure
	Reason  string
	Outcome string
	At      time.Time
}

// Notifier reaches staff by e-mail.
type Notifier interface {
	Mail(ctx context.Context, key string, m Mail) error
}

// Mail to a staff member. It names the case, never the participant.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// Rejected is a refusal from an outside system (validation, 4xx): retrying
// will not help, so it must become a task for staff.
type Rejected struct {
	System string
	Status int
	Reason string
}

func (e *Rejected) Error() string {
	return fmt.Sprintf("%s refused the request (%d): %s", e.System, e.Status, e.Reason)
}

// IsRejected reports whether err is a non-retryable refusal.
func IsRejected(err error) bool {
	var r *Rejected
	return errors.As(err, &r)
}
