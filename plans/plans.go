// Package plans checks an action plan (handlingsplan) as a whole before it
// is sent to the pathway, the one path the API, console and CLI take: the
// steps are types the programme allows, in order, each with its days; an
// education step names a course the education system gives in the
// participant's municipality, starting before the time limit (a generic
// code such as "SFIC" is resolved there to one occasion); a recruitment
// need is open, in the participant's municipality, and present where a
// step takes its employer from it. Every problem is named on its field.
package plans

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
)

// Service validates and completes plans.
type Service struct {
	Education integrations.Education
	Needs     integrations.NeedRegistry
	Steps     *steps.Registry
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Case is what validation needs to know of the pathway.
type Case struct {
	CaseID       string
	Municipality string // SCB code of the centre's municipality
	Programme    pathway.Programme
	ActivityDuty bool
	DaysLeft     int    // programme days to the time limit; 0: unknown
	CurrentNeed  string // the need the current plan is tied to
	Completed    int    // steps already completed (a revision)
}

// FieldError is one problem on one field of the plan, e.g.
// steps[1].course or recruitment_need_id.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Invalid is a refused plan: every problem found.
type Invalid struct{ Fields []FieldError }

func (e *Invalid) Error() string {
	s := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		s[i] = f.Field + ": " + f.Message
	}
	return "invalid plan: " + strings.Join(s, "; ")
}

// Unavailable says an outside system could not be asked: the plan is
// neither accepted nor refused.
type Unavailable struct {
	What string
	Err  error
}

func (e *Unavailable) Error() string { return e.What + " could not be checked: " + e.Err.Error() }
func (e *Unavailable) Unwrap() error { return e.Err }

// NoNeed is the recruitment_need_id that unlinks the current need; an
// empty one keeps it.
const NoNeed = "none"

var (
	ssykPattern = regexp.MustCompile(`^[0-9]{4}$`)
	idPattern   = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)
	occasion    = regexp.MustCompile(`^([0-9]{4})-([A-Z0-9]{2,20})-([0-9]{2})$`)
)

// Allowed is the step types a programme lets staff choose: allowed_steps,
// plus the types of its default steps.
func Allowed(p pathway.Programme) []string {
	out := append([]string{}, p.AllowedSteps...)
	for _, s := range p.Steps {
		if !slices.Contains(out, s.Type) {
			out = append(out, s.Type)
		}
	}
	return out
}

// Prepare checks plan for the case and completes it: the programme's
// default steps when it names none, the linked need kept unless changed
// (NoNeed unlinks it), generic course codes resolved to an occasion in the
// participant's municipality. It returns *Invalid with every problem, or
// *Unavailable when an outside system could not be asked.
func (s *Service) Prepare(ctx context.Context, c Case, plan *pathway.Plan) error {
	var errs []FieldError
	bad := func(field, code, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	plan.TargetSSYK = strings.TrimSpace(plan.TargetSSYK)
	if !ssykPattern.MatchString(plan.TargetSSYK) {
		bad("target_ssyk", "invalid", "%q is not a four-digit SSYK 2012 code", plan.TargetSSYK)
	}
	switch plan.RecruitmentNeedID = strings.TrimSpace(plan.RecruitmentNeedID); plan.RecruitmentNeedID {
	case "":
		plan.RecruitmentNeedID = c.CurrentNeed // revising keeps the need
	case NoNeed:
		plan.RecruitmentNeedID = ""
	}
	if len(plan.Steps) == 0 {
		plan.Steps = append([]pathway.StepSpec{}, c.Programme.Steps...)
	}
	if len(plan.Steps) == 0 {
		bad("steps", "required", "a plan needs at least one step")
	}
	allowed := Allowed(c.Programme)
	seen := map[string]int{}
	needsNeed := -1
	days := 0
	for i := range plan.Steps {
		st := &plan.Steps[i]
		at := fmt.Sprintf("steps[%d]", i)
		if st.ID == "" {
			st.ID = fmt.Sprintf("s%d", i+1)
		}
		if !idPattern.MatchString(st.ID) {
			bad(at+".id", "invalid", "%q must be 2–40 lower-case letters, digits, - or _, starting with a letter", st.ID)
		} else if j, dup := seen[st.ID]; dup {
			bad(at+".id", "duplicate", "%q is also the id of steps[%d]; give each step its own id", st.ID, j)
		}
		seen[st.ID] = i
		if st.DurationDays <= 0 || st.DurationDays > 730 {
			bad(at+".duration_days", "invalid", "must be from 1 to 730 days")
		}
		days += st.DurationDays
		t, known := s.Steps.Get(st.Type)
		if !known || !slices.Contains(allowed, st.Type) {
			bad(at+".type", "not_allowed", "%q is not a step type programme %s allows (%s)", st.Type, c.Programme.Name, strings.Join(allowed, ", "))
			continue
		}
		if st.Title == "" {
			st.Title = t.Title()
		}
		if st.Params["employer"] == "need" {
			if needsNeed < 0 {
				needsNeed = i
			}
		}
		if steps.IsEducation(s.Steps, st.Type) && st.Params["course_code"] != "" {
			if fe, err := s.course(ctx, c, st, at); err != nil {
				return err
			} else if fe != nil {
				errs = append(errs, *fe)
				continue
			}
		}
		if err := t.Validate(st.Params); err != nil {
			field := at + ".params"
			if strings.Contains(err.Error(), "course_code") {
				field = at + ".course"
			} else if strings.Contains(err.Error(), "employer") {
				field = at + ".employer"
			}
			bad(field, "invalid", "%s", err)
		}
	}
	if c.DaysLeft > 0 && days > c.DaysLeft {
		bad("steps", "too_long", "the steps take %d days, more than the %d days left before the time limit", days, c.DaysLeft)
	}
	if c.ActivityDuty && c.Completed == 0 && len(plan.Steps) > 0 && !steps.IsEducation(s.Steps, plan.Steps[0].Type) {
		bad("steps[0].type", "activity_duty", "the participant is under 20 (activity duty): the plan must start with an education step, not %q", plan.Steps[0].Type)
	}
	if plan.RecruitmentNeedID != "" {
		fe, err := s.need(ctx, c, plan.RecruitmentNeedID)
		if err != nil {
			return err
		}
		if fe != nil {
			errs = append(errs, *fe)
		}
	} else if needsNeed >= 0 {
		bad("recruitment_need_id", "required", "steps[%d] takes its employer from the recruitment need: choose an open need", needsNeed)
	}
	if len(errs) > 0 {
		return &Invalid{Fields: errs}
	}
	return nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// course checks an education step's course and resolves a generic code to
// an occasion in the participant's municipality.
func (s *Service) course(ctx context.Context, c Case, st *pathway.StepSpec, at string) (*FieldError, error) {
	code := strings.ToUpper(strings.TrimSpace(st.Params["course_code"]))
	field := at + ".course"
	q := integrations.CourseQuery{Municipality: c.Municipality}
	if m := occasion.FindStringSubmatch(code); m != nil {
		if m[1] != c.Municipality {
			return &FieldError{Field: field, Code: "other_municipality", Message: fmt.Sprintf(
				"course %s is given in municipality %s, not in the participant's municipality %s", code, m[1], c.Municipality)}, nil
		}
		q.Text = code
	} else {
		q.Text = code // a generic code: its occasions here
		if f := st.Params["form"]; f != "" {
			q.Form = f
		}
	}
	courses, err := s.Education.SearchCourses(ctx, q)
	if err != nil {
		if integrations.IsRejected(err) {
			return &FieldError{Field: field, Code: "refused", Message: err.Error()}, nil
		}
		return nil, &Unavailable{What: "the course", Err: err}
	}
	now := s.now()
	var found *integrations.Course
	late := false
	for i := range courses {
		cs := &courses[i]
		if cs.Municipality != c.Municipality || (cs.Code != code && abbrev(cs.Code) != code) {
			continue
		}
		if c.DaysLeft > 0 && int(cs.StartDate.Sub(now).Hours()/24) >= c.DaysLeft {
			late = true
			continue
		}
		if found == nil || cs.StartDate.Before(found.StartDate) {
			found = cs
		}
	}
	switch {
	case found == nil && late:
		return &FieldError{Field: field, Code: "after_time_limit", Message: fmt.Sprintf("course %s starts after the time limit (%d days left)", code, c.DaysLeft)}, nil
	case found == nil:
		return &FieldError{Field: field, Code: "not_found", Message: fmt.Sprintf("the education system gives no course %s in municipality %s", code, c.Municipality)}, nil
	}
	params := map[string]string{}
	for k, v := range st.Params {
		params[k] = v
	}
	params["course_code"], params["form"] = found.Code, found.Form // the occasion decides its form
	st.Params = params
	return nil, nil
}

// abbrev is the course code of an occasion code: "SFIC" of "1488-SFIC-01".
func abbrev(code string) string {
	if m := occasion.FindStringSubmatch(code); m != nil {
		return m[2]
	}
	return code
}

// need checks that the need exists in the employer system, is open and is
// in the participant's municipality.
func (s *Service) need(ctx context.Context, c Case, id string) (*FieldError, error) {
	const field = "recruitment_need_id"
	n, err := s.Needs.Need(ctx, id)
	switch {
	case errors.Is(err, integrations.ErrNoNeed):
		return &FieldError{Field: field, Code: "not_found", Message: fmt.Sprintf("the employer system has no recruitment need %q", id)}, nil
	case err != nil:
		return nil, &Unavailable{What: "the recruitment need", Err: err}
	case n.Status != "" && n.Status != integrations.NeedOpen:
		return &FieldError{Field: field, Code: "not_open", Message: fmt.Sprintf("recruitment need %s is %s", id, n.Status)}, nil
	case n.Positions < 1:
		return &FieldError{Field: field, Code: "not_open", Message: fmt.Sprintf("recruitment need %s has no open positions", id)}, nil
	case c.Municipality != "" && n.Municipality != c.Municipality:
		return &FieldError{Field: field, Code: "other_municipality", Message: fmt.Sprintf(
			"recruitment need %s is in municipality %s, not in the participant's municipality %s", id, n.Municipality, c.Municipality)}, nil
	}
	return nil, nil
}

// SearchCourses lists the course occasions in a municipality whose title,
// provider or code contains q ("1488-USK-01", "USK", "undersköterska").
func (s *Service) SearchCourses(ctx context.Context, municipality, q string) ([]integrations.Course, error) {
	cs, err := s.Education.SearchCourses(ctx, integrations.CourseQuery{Municipality: municipality, Text: strings.TrimSpace(q)})
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Municipality == municipality { // never another municipality's, whatever the system answers
			out = append(out, c)
		}
	}
	return out, nil
}
