// Package pathway is the contract of the Pathway workflow: its ID, the names
// of its Updates, Signals and Query, and the messages they carry. The API,
// the starter CLI, the worker and the activities all speak through it.
// Nothing here holds personal data: pathways carry case IDs only.
package pathway

import (
	"encoding/json"
	"strings"
	"time"
)

// WorkflowName is the registered name of the pathway workflow.
const WorkflowName = "Pathway"

// WorkflowID is the workflow ID of a case: "pathway-<case id>".
func WorkflowID(caseID string) string { return "pathway-" + caseID }

// CaseIDFromWorkflowID reverses WorkflowID.
func CaseIDFromWorkflowID(id string) (string, bool) {
	return strings.CutPrefix(id, "pathway-")
}

// StepWorkflowID is the stable ID of a step's child workflow.
func StepWorkflowID(caseID, stepID string) string { return WorkflowID(caseID) + "-step-" + stepID }

// Update names: staff actions, each with a validator.
const (
	UpdateFirstContact = "record-first-contact"
	UpdateMapping      = "record-mapping"
	UpdateApprovePlan  = "approve-plan"
	UpdateOutcome      = "record-outcome"
	UpdateFollowUp     = "answer-follow-up"
	UpdatePause        = "pause"
	UpdateResume       = "resume"
	UpdateTransfer     = "transfer"
	UpdateClose        = "close"
	UpdateCompleteTask = "complete-task"
)

// Signal names: events from outside systems and schedules.
const (
	SignalMoveMappingDeadline = "move-mapping-deadline"
	SignalEscalate            = "escalate"
	// SignalNeedGone comes from the worker's need watcher: the recruitment
	// need the plan is tied to was withdrawn or expired (NeedGone).
	SignalNeedGone = "need-gone"
)

// QueryStatus returns a Status.
const QueryStatus = "status"

// Phases of a pathway, in order.
const (
	PhaseReferral = "referral"
	PhaseMapping  = "mapping"
	PhasePlanning = "planning"
	PhaseSteps    = "steps"
	PhaseOutcome  = "awaiting_outcome"
	PhaseFollowUp = "follow_up"
	PhaseClosed   = "closed"
)

// Tracks decided by age.
const (
	TrackYouth = "youth" // 16–24
	TrackAdult = "adult" // 25+
)

// Referral sources.
const (
	SourceSocialServices = "social_services"
	SourceEmployment     = "employment_service"
)

// Start describes a new pathway. It is the workflow's input.
type Start struct {
	CaseID           string    `json:"case_id"`
	CentreID         string    `json:"centre_id"`
	MunicipalityCode string    `json:"municipality_code"`
	Track            string    `json:"track"`
	ActivityDuty     bool      `json:"activity_duty"` // under 20: education first
	ReferralSource   string    `json:"referral_source"`
	ReferredAt       time.Time `json:"referred_at"`
	Programme        Programme `json:"programme"`
	// Clock compresses time for demos: 0 is real time; otherwise this many
	// real seconds stand for one programme day. Fixed at start, so replay is
	// deterministic.
	SecondsPerDay float64 `json:"seconds_per_day,omitempty"`
	// HistoryLimit continues the workflow as new past this many events
	// (0: the default). Tests set it low to exercise continue-as-new.
	HistoryLimit int `json:"history_limit,omitempty"`
	// Carry is the state handed over by continue-as-new; empty on a new pathway.
	Carry json.RawMessage `json:"carry,omitempty"`
	// ChangeLevel is the level of workflow changes the pathway has from its
	// first event (ChangeLevel when started): it records no version marker
	// for them. Zero on pathways started before levels, which ask
	// workflow.GetVersion. Fixed at start, so replay is deterministic.
	ChangeLevel int `json:"change_level,omitempty"`
}

// ChangeLevel is the level of pathway workflow changes a new pathway starts
// with (workflows.changes lists them). A worker that does not know a
// pathway's level refuses its workflow tasks until one that does runs it.
const ChangeLevel = 1

// Programme is the definition a pathway started with; the pathway keeps this
// copy, so a changed definition file never alters a running pathway.
type Programme struct {
	Name              string     `json:"name" yaml:"name"`
	Version           int        `json:"version" yaml:"version"`
	Title             string     `json:"title" yaml:"title"`
	MinAge            int        `json:"min_age" yaml:"min_age"`
	MaxAge            int        `json:"max_age" yaml:"max_age"`
	TimeLimitDays     int        `json:"time_limit_days" yaml:"time_limit_days"`
	PauseStopsClock   bool       `json:"pause_stops_clock" yaml:"pause_stops_clock"`
	EducationFirst    bool       `json:"education_first" yaml:"education_first"`
	FirstContactHours int        `json:"first_contact_hours" yaml:"first_contact_hours"`
	MappingDays       int        `json:"mapping_days" yaml:"mapping_days"`
	MappingReminder   int        `json:"mapping_reminder_days" yaml:"mapping_reminder_days"`
	FollowUpDays      []int      `json:"follow_up_days" yaml:"follow_up_days"`
	Steps             []StepSpec `json:"steps" yaml:"steps"`
	// AllowedSteps are the step types staff may choose in a plan besides
	// the default steps' own (plans.Allowed).
	AllowedSteps []string `json:"allowed_steps,omitempty" yaml:"allowed_steps"`
}

// StepSpec is one planned measure.
type StepSpec struct {
	ID           string            `json:"id" yaml:"id"`
	Type         string            `json:"type" yaml:"type"`
	Title        string            `json:"title" yaml:"title"`
	DurationDays int               `json:"duration_days" yaml:"duration_days"`
	Params       map[string]string `json:"params,omitempty" yaml:"params"`
}
