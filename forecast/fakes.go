package forecast

import (
	"context"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// The outside systems, in memory. They answer every call at once and
// remember nothing the model needs: what the systems would say back (a
// course result, an assessment) is the model's to decide.

// NeedID is the recruitment need every plan tied to a need names.
const NeedID = "NEED-FORECAST"

const needEmployer = "EMP-FORECAST"

// outside implements integrations.Education, Employers, Employment,
// SocialServices and steps.PersonResolver.
type outside struct{}

func deps() steps.Deps {
	o := outside{}
	return steps.Deps{Education: o, Employers: o, Employment: o, SocialServices: o, People: o}
}

// enrolmentID is the fake education system's ID for an enrolment key, so
// the model can address the callback without asking the fake.
func enrolmentID(key string) string { return "E:" + key }

func (outside) SearchCourses(context.Context, integrations.CourseQuery) ([]integrations.Course, error) {
	return nil, nil
}
func (outside) Enrol(_ context.Context, key string, req integrations.EnrolRequest) (integrations.Enrolment, error) {
	return integrations.Enrolment{ID: enrolmentID(key), CourseCode: req.CourseCode, Status: integrations.EnrolmentActive}, nil
}

// Status says the course runs: its result comes by the callback the model
// sends, and the step stops polling after the test environment's retries.
func (outside) Status(_ context.Context, id string) (integrations.Enrolment, error) {
	return integrations.Enrolment{ID: id, Status: integrations.EnrolmentActive}, nil
}
func (outside) Withdraw(context.Context, string, string, string) error { return nil }

func (outside) RecruitmentNeeds(context.Context, integrations.NeedQuery) ([]integrations.RecruitmentNeed, error) {
	return []integrations.RecruitmentNeed{{ID: NeedID, EmployerID: needEmployer, EmployerName: "Rekryterande arbetsgivare AB", SSYK: "5321", Positions: 1000}}, nil
}
func (outside) CreateAgreement(_ context.Context, key string, _ integrations.AgreementRequest) (integrations.Agreement, error) {
	return integrations.Agreement{ID: "A:" + key, Status: "active"}, nil
}
func (outside) EndAgreement(context.Context, string, string, string) error { return nil }

func (outside) Registration(context.Context, integrations.Person) (integrations.Registration, error) {
	return integrations.Registration{Registered: true, Consent: []string{"plan", "outcome"}}, nil
}
func (outside) ReportPlan(context.Context, string, integrations.PlanReport) error       { return nil }
func (outside) ReportOutcome(context.Context, string, integrations.OutcomeReport) error { return nil }
func (outside) SearchVacancies(context.Context, integrations.VacancyQuery) (integrations.VacancyPage, error) {
	return integrations.VacancyPage{}, nil
}
func (outside) Notify(context.Context, string, integrations.SocialNotice) error { return nil }

// Person is a synthetic participant: the cohort has no real people.
func (outside) Person(context.Context, string) (integrations.Person, error) {
	return integrations.Person{PersonalNumber: "19900101-0017", GivenName: "Syntetisk", FamilyName: "Deltagare"}, nil
}

// readModel stands in for the PostgreSQL projection: it hands every
// projection to the model, which is how staff learn what to do next (their
// task list). Its methods are the pathway's own activities by name.
type readModel struct {
	seen func(pathway.Projection)
}

func (r *readModel) Project(_ context.Context, p pathway.Projection) error {
	r.seen(p)
	return nil
}

func (r *readModel) CheckCentre(context.Context, string) error { return nil }
