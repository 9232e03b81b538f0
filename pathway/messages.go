package pathway

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actor is the staff member behind an action, by staff ID (never a name).
type Actor struct {
	StaffID string `json:"staff_id"`
}

// FirstContact records that staff reached the participant.
type FirstContact struct {
	Actor
	Channel string `json:"channel"` // meeting, phone, video
}

// Mapping is the team's map of the participant's abilities.
type Mapping struct {
	Actor
	Abilities      []string `json:"abilities"`
	EducationLevel string   `json:"education_level"` // SUN 2020 level code
	Language       string   `json:"language"`        // e.g. "sv:B1"
	WorkHistory    string   `json:"work_history"`
	Goals          string   `json:"goals"`
	Obstacles      []string `json:"obstacles"`
}

// Plan is the action plan (handlingsplan). Approving a plan while steps are
// running is a revision: completed steps stay, the remaining ones are replaced.
type Plan struct {
	Actor
	TargetSSYK        string     `json:"target_ssyk"`
	RecruitmentNeedID string     `json:"recruitment_need_id,omitempty"`
	Steps             []StepSpec `json:"steps"`
}

// Outcome kinds.
const (
	OutcomeWork           = "work"
	OutcomeSubsidisedWork = "subsidised_work"
	OutcomeStudies        = "studies"
)

// What the national indicator (Kolada, "result at the end of the municipal
// labour-market measures") needs to know of an outcome.
const (
	// Employer kinds: only the regular labour market counts as work.
	EmployerRegular          = "regular"
	EmployerMunicipalMeasure = "municipal_measure" // the municipality's own labour-market job

	// Employment forms.
	EmploymentUnsubsidised = "unsubsidised"
	EmploymentSubsidised   = "subsidised"

	// Study forms.
	StudyKomvux       = "komvux"
	StudyFolkhogskola = "folkhogskola"
	StudyUniversity   = "university"
	StudyOther        = "other"
)

// Outcome is where the participant went.
type Outcome struct {
	Actor
	Kind      string    `json:"kind"`
	StartDate time.Time `json:"start_date"`
	Employer  string    `json:"employer"` // employer or school (an organisation, not a person)
	SSYK      string    `json:"ssyk,omitempty"`
	// Work: the employer's kind, the employment form and, when subsidised,
	// the subsidy's name. Studies: the form and whether it qualifies for
	// student finance (CSN); nil means not given.
	EmployerKind   string     `json:"employer_kind,omitempty"`
	EmploymentForm string     `json:"employment_form,omitempty"`
	Subsidy        string     `json:"subsidy,omitempty"`
	StudyForm      string     `json:"study_form,omitempty"`
	StudentFinance *bool      `json:"student_finance,omitempty"`
	FollowUps      []FollowUp `json:"follow_ups,omitempty"`
	Sustained      *bool      `json:"sustained,omitempty"`
	RecordedAt     time.Time  `json:"recorded_at"`
}

// FollowUp is one answer: is the person still in work or studies?
type FollowUp struct {
	Actor
	Day        int       `json:"day"`
	StillThere bool      `json:"still_there"`
	Note       string    `json:"note,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitempty"`
}

// Pause reasons.
const (
	PauseSick     = "sick"
	PauseParental = "parental_leave"
	PauseOther    = "other"
)

// Pause stops work with the participant for a while.
type Pause struct {
	Actor
	Reason string `json:"reason"`
}

// Transfer moves the pathway to another centre.
type Transfer struct {
	Actor
	ToCentre string `json:"to_centre"`
	Reason   string `json:"reason"`
}

// Closure reason codes.
const (
	CloseWork           = "work"
	CloseSubsidisedWork = "subsidised_work"
	CloseStudies        = "studies"
	CloseMoved          = "moved"
	CloseSick           = "sick"
	CloseParental       = "parental_leave"
	CloseDeclined       = "declined"
	CloseTimeLimit      = "time_limit"
	CloseOther          = "other"
)

// ClosureReasons lists every code, in display order.
var ClosureReasons = []string{CloseWork, CloseSubsidisedWork, CloseStudies, CloseMoved, CloseSick, CloseParental, CloseDeclined, CloseTimeLimit, CloseOther}

// Close ends the pathway with a coded reason.
type Close struct {
	Actor
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// CompleteTask marks a human task done.
type CompleteTask struct {
	Actor
	TaskKey string `json:"task_key"`
}

// MoveDeadline moves the mapping deadline.
type MoveDeadline struct {
	Due    time.Time `json:"due"`
	Reason string    `json:"reason"`
}

// Escalation is a stalled case climbing the ladder.
type Escalation struct {
	Rule    string `json:"rule"`
	Level   int    `json:"level"`
	Role    string `json:"role"`
	Reason  string `json:"reason"`
	SweepID string `json:"sweep_id"`
}

// CheckOutcomeDetails checks what the national indicator needs of an
// outcome, naming the field: for work the employer's kind, the employment
// form and, when subsidised, the subsidy; for studies the form and whether
// they qualify for student finance. The workflow's validator and the API
// both use it, so staff get the same words either way.
func CheckOutcomeDetails(o Outcome) error {
	switch o.Kind {
	case OutcomeWork, OutcomeSubsidisedWork:
		switch o.EmployerKind {
		case EmployerRegular, EmployerMunicipalMeasure:
		case "":
			return errors.New("employer_kind is required for work: regular (the regular labour market) or municipal_measure (the municipality's own labour-market job)")
		default:
			return fmt.Errorf("employer_kind %q is not one of regular, municipal_measure", o.EmployerKind)
		}
		form := o.EmploymentForm
		switch {
		case form == "" && o.Kind == OutcomeSubsidisedWork:
			form = EmploymentSubsidised
		case form == "":
			return errors.New("employment_form is required for work: unsubsidised or subsidised")
		case form != EmploymentUnsubsidised && form != EmploymentSubsidised:
			return fmt.Errorf("employment_form %q is not one of unsubsidised, subsidised", form)
		case form == EmploymentUnsubsidised && o.Kind == OutcomeSubsidisedWork:
			return errors.New("employment_form unsubsidised contradicts kind subsidised_work")
		}
		if form == EmploymentSubsidised && strings.TrimSpace(o.Subsidy) == "" {
			return errors.New("subsidy is required when the employment is subsidised: name it (e.g. nystartsjobb, lönebidrag)")
		}
		if form == EmploymentUnsubsidised && o.Subsidy != "" {
			return errors.New("subsidy is given but employment_form is unsubsidised")
		}
		if len(o.Subsidy) > 100 {
			return errors.New("subsidy is longer than 100 characters")
		}
		if o.StudyForm != "" || o.StudentFinance != nil {
			return errors.New("study_form and student_finance are for studies, not work")
		}
	case OutcomeStudies:
		switch o.StudyForm {
		case StudyKomvux, StudyFolkhogskola, StudyUniversity, StudyOther:
		case "":
			return errors.New("study_form is required for studies: komvux, folkhogskola, university or other")
		default:
			return fmt.Errorf("study_form %q is not one of komvux, folkhogskola, university, other", o.StudyForm)
		}
		if o.StudentFinance == nil {
			return errors.New("student_finance is required for studies: do they qualify for student finance (CSN), true or false")
		}
		if o.EmployerKind != "" || o.EmploymentForm != "" || o.Subsidy != "" {
			return errors.New("employer_kind, employment_form and subsidy are for work, not studies")
		}
	}
	return nil
}

// NeedGone says the recruitment need a plan is tied to can no longer take
// anyone: withdrawn or expired in the employer system.
type NeedGone struct {
	NeedID string `json:"need_id"`
	Status string `json:"status"` // withdrawn, expired
	Reason string `json:"reason,omitempty"`
}
