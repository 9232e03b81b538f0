package pathway

import "time"

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

// NeedGone says the recruitment need a plan is tied to can no longer take
// anyone: withdrawn or expired in the employer system.
type NeedGone struct {
	NeedID string `json:"need_id"`
	Status string `json:"status"` // withdrawn, expired
	Reason string `json:"reason,omitempty"`
}
