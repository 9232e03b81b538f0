package pathway

import "time"

// The contract between the pathway and its steps' child workflows. The
// steps package declares the same messages for the step types; the
// workflows tests check that the two agree field by field.

// StepWorkflowName is the registered name of a step type's child workflow.
func StepWorkflowName(typeName string) string { return "step." + typeName }

// StepInput is what the pathway passes to a step's child workflow.
type StepInput struct {
	CaseID           string            `json:"case_id"`
	StepID           string            `json:"step_id"`
	Type             string            `json:"type"`
	Params           map[string]string `json:"params,omitempty"`
	DurationDays     int               `json:"duration_days"`
	MunicipalityCode string            `json:"municipality_code"`
	NeedID           string            `json:"recruitment_need_id,omitempty"`
	TargetSSYK       string            `json:"target_ssyk,omitempty"`
	SecondsPerDay    float64           `json:"seconds_per_day,omitempty"`
}

// StepResult is how a step ended. Outcome is one of StepCompleted,
// StepDroppedOut or StepFailed. A step that leads straight into work sets
// Leads.
type StepResult struct {
	Outcome string            `json:"outcome"`
	Reason  string            `json:"reason,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Leads   *Outcome          `json:"leads,omitempty"`
}

// Days converts programme days to workflow time under the demo clock:
// secondsPerDay real seconds a day, or real days when it is 0.
func Days(days float64, secondsPerDay float64) time.Duration {
	if secondsPerDay > 0 {
		return time.Duration(days * secondsPerDay * float64(time.Second))
	}
	return time.Duration(days * 24 * float64(time.Hour))
}
