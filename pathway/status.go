package pathway

import "time"

// Step outcomes.
const (
	StepPending    = "pending"
	StepRunning    = "running"
	StepCompleted  = "completed"
	StepDroppedOut = "dropped_out"
	StepFailed     = "failed"
	StepCancelled  = "cancelled"
)

// StepState is one step of the current plan.
type StepState struct {
	StepSpec
	Status     string    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	StartedAt  time.Time `json:"started_at,omitempty"`
	EndedAt    time.Time `json:"ended_at,omitempty"`
	PlannedEnd time.Time `json:"planned_end,omitempty"`
}

// Task is a human work item the pathway opened.
type Task struct {
	Key   string    `json:"key"`
	Kind  string    `json:"kind"`
	Title string    `json:"title"`
	Role  string    `json:"role"`
	Due   time.Time `json:"due,omitempty"`
}

// Deadlines the status reports.
type Deadlines struct {
	FirstContact time.Time `json:"first_contact,omitempty"`
	Mapping      time.Time `json:"mapping,omitempty"`
	TimeLimit    time.Time `json:"time_limit"`
	StepEnd      time.Time `json:"step_end,omitempty"`
}

// Status is the answer to QueryStatus.
type Status struct {
	CaseID         string      `json:"case_id"`
	CentreID       string      `json:"centre_id"`
	Programme      string      `json:"programme"`
	ProgrammeVer   int         `json:"programme_version"`
	Track          string      `json:"track"`
	ActivityDuty   bool        `json:"activity_duty"`
	Phase          string      `json:"phase"`
	CurrentStep    string      `json:"current_step,omitempty"`
	Deadlines      Deadlines   `json:"deadlines"`
	DaysLeft       int         `json:"days_left"`
	Paused         bool        `json:"paused"`
	PauseReason    string      `json:"pause_reason,omitempty"`
	MappingOverdue bool        `json:"mapping_overdue"`
	OpenTasks      []Task      `json:"open_tasks"`
	Steps          []StepState `json:"steps"`
	TargetSSYK     string      `json:"target_ssyk,omitempty"`
	NeedID         string      `json:"recruitment_need_id,omitempty"`
	Outcome        *Outcome    `json:"outcome,omitempty"`
	ClosureReason  string      `json:"closure_reason,omitempty"`
	EscalationLvl  int         `json:"escalation_level"`
}
