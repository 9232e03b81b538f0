// Package retention is the contract of culling (gallring): the policy per
// record class, the daily workflow's name and input, and the plan and
// counts its activities pass. It holds no I/O, so the workflow in
// workflows/ may import it; the SQL is in store, the activities in
// activities/.
package retention

import "time"

// Names registered on the worker.
const (
	WorkflowName = "retention.Run"
	ActPlan      = "retention.Plan"
	ActApply     = "retention.Apply"
	ActRecord    = "retention.Record"
	ScheduleID   = "retention-daily"
	// WorkflowID is the prefix of scheduled runs (Temporal appends the time).
	WorkflowID = "retention"
)

// Policy is how long each class of record is kept, in days.
type Policy struct {
	// ClosedCaseDays: a closed case (registry row, timeline, tasks,
	// escalations, notifications) is deleted this long after closure; the
	// person's row and consents go with their last case.
	ClosedCaseDays int `json:"closed_case_days"`
	// AuditAfterCaseDays: audit rows about a case are kept this long after
	// the case itself was culled.
	AuditAfterCaseDays int `json:"audit_after_case_days"`
	// AuditDays: audit rows about no case (sign-ins, imports) are kept this long.
	AuditDays int `json:"audit_days"`
	// MailDays: staff mail is kept this long after it was sent or given up.
	MailDays int `json:"mail_days"`
}

// DefaultPolicy is the documented default (README "Retention").
func DefaultPolicy() Policy {
	return Policy{ClosedCaseDays: 5 * 365, AuditAfterCaseDays: 2 * 365, AuditDays: 7 * 365, MailDays: 30}
}

// Input is the scheduled run's input.
type Input struct {
	Policy    Policy `json:"policy"`
	BatchSize int    `json:"batch_size"`
}

// PlanRequest asks for the next batch due at AsOf.
type PlanRequest struct {
	Policy Policy    `json:"policy"`
	AsOf   time.Time `json:"as_of"`
	Limit  int       `json:"limit"` // per class; 0 means all
}

// Plan names what is due, by pseudonymous keys only: case IDs, participant
// UUIDs, audit row IDs and mail keys, never content.
type Plan struct {
	Cases        []string `json:"cases,omitempty"`
	Participants []string `json:"participants,omitempty"`
	AuditIDs     []int64  `json:"audit_ids,omitempty"`
	MailKeys     []string `json:"mail_keys,omitempty"`
}

// Empty reports whether nothing is due.
func (p Plan) Empty() bool {
	return len(p.Cases)+len(p.Participants)+len(p.AuditIDs)+len(p.MailKeys) == 0
}

// ApplyRequest removes one planned batch, rechecking each row is still due.
type ApplyRequest struct {
	Plan   Plan      `json:"plan"`
	Policy Policy    `json:"policy"`
	AsOf   time.Time `json:"as_of"`
}

// Counts is what a run removed.
type Counts struct {
	Cases        int64 `json:"cases"`
	Participants int64 `json:"participants"`
	Audit        int64 `json:"audit"`
	Mail         int64 `json:"mail"`
}

// Add sums counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Cases + o.Cases, c.Participants + o.Participants, c.Audit + o.Audit, c.Mail + o.Mail}
}

// Record is the audit row a run leaves: counts, never content.
type Record struct {
	RunID  string    `json:"run_id"`
	AsOf   time.Time `json:"as_of"`
	Counts Counts    `json:"counts"`
}
