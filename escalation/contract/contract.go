// Package contract is what the escalation workflows (in workflows/) share
// with their activities (in escalation/): names, rules and messages. It does
// no I/O and imports nothing that does, so the workflows' build stays free
// of database, HTTP and SMTP code.
package contract

import (
	"fmt"
	"strings"
	"time"
)

// Registered names. They are persisted in schedules and histories: never rename.
const (
	SweepWorkflowName  = "StallSweep"
	SweepContinuedName = "StallSweepContinued"
	ManualWorkflowName = "ManualEscalation"

	ActivityBegin      = "EscalationBeginSweep"
	ActivityFind       = "EscalationFindStalled"
	ActivityEscalate   = "EscalationEscalateBatch"
	ActivityFinish     = "EscalationFinishSweep"
	ActivityFindManual = "EscalationFindForManual"
	// ActivityPrefix is the prefix the activities are registered under.
	ActivityPrefix = "Escalation"

	// QueryManualProgress answers a ManualProgress.
	QueryManualProgress = "progress"
	// ManualWorkflowIDPrefix starts every manual escalation's workflow ID.
	ManualWorkflowIDPrefix = "escalation-manual-"
)

// Rule names; they equal the store's stall rules (a test in escalation checks).
const (
	RuleFirstContact = "first_contact"
	RuleMapping      = "mapping_overdue"
	RuleStepOverrun  = "step_overrun"
	RuleNoProgress   = "no_progress"
	RuleFollowUp     = "follow_up_missing"
	RuleTimeLimit    = "time_limit"
	RuleManual       = "manual"
)

// RuleNames are the rules a sweep can evaluate.
func RuleNames() []string {
	return []string{RuleFirstContact, RuleMapping, RuleStepOverrun, RuleNoProgress, RuleFollowUp, RuleTimeLimit}
}

// MostSevere picks, of the rules a case breaks at once, the one that drives
// its single ladder: the rule whose first level is highest, then the earlier
// in Severity. The second result is false when none is given.
func MostSevere(rules []Rule) (Rule, bool) {
	var best Rule
	found := false
	for _, r := range rules {
		if !found || LevelOf(r.Role) > LevelOf(best.Role) ||
			(LevelOf(r.Role) == LevelOf(best.Role) && severityRank(r.Name) < severityRank(best.Name)) {
			best, found = r, true
		}
	}
	return best, found
}

// Severity orders the rules, most severe first: a case near its time limit
// with no outcome outweighs a missed follow-up, a step overrun, a late
// mapping, a missed first contact, and plain silence.
var Severity = []string{RuleTimeLimit, RuleFollowUp, RuleStepOverrun, RuleMapping, RuleFirstContact, RuleNoProgress}

func severityRank(rule string) int {
	for i, r := range Severity {
		if r == rule {
			return i
		}
	}
	return len(Severity)
}

// Roles of the ladder.
const (
	RoleJobCoach    = "job_coach"
	RoleTeamLead    = "team_lead"
	RoleUnitManager = "unit_manager"
)

// Ladder is the escalation ladder: level n goes to Ladder[n-1].
var Ladder = []string{RoleJobCoach, RoleTeamLead, RoleUnitManager}

// LevelOf is the ladder level of a role (1-based), or 0 if it is not on it.
func LevelOf(role string) int {
	for i, r := range Ladder {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// Rule is one stall rule: a case is stalled when the rule's condition holds
// past Threshold; the first escalation goes to Role, and each ignored task
// climbs one level from there.
//
// Threshold means, per rule:
//   - first_contact, mapping_overdue, step_overrun, follow_up_missing: grace
//     after the deadline (first contact is due 48 h after the referral by the
//     programme's first_contact_hours);
//   - no_progress: the time without a progress event;
//   - time_limit: the time left before the time limit, with no outcome.
type Rule struct {
	Name      string        `json:"name"`
	Threshold time.Duration `json:"threshold"`
	Role      string        `json:"role"`
	Disabled  bool          `json:"disabled,omitempty"`
}

const day = 24 * time.Hour

// DefaultRules are the rules a sweep uses unless configured otherwise.
func DefaultRules() []Rule {
	return []Rule{
		{Name: RuleFirstContact, Threshold: 0, Role: RoleJobCoach},
		{Name: RuleMapping, Threshold: 0, Role: RoleJobCoach},
		{Name: RuleStepOverrun, Threshold: 0, Role: RoleJobCoach},
		{Name: RuleNoProgress, Threshold: 30 * day, Role: RoleJobCoach},
		{Name: RuleFollowUp, Threshold: 0, Role: RoleJobCoach},
		{Name: RuleTimeLimit, Threshold: 90 * day, Role: RoleTeamLead},
	}
}

// Cutoff is the time the rule's column is compared with: before it, the
// case is stalled.
func (r Rule) Cutoff(now time.Time) time.Time {
	if r.Name == RuleTimeLimit {
		return now.Add(r.Threshold)
	}
	return now.Add(-r.Threshold)
}

// Validate checks a rule.
func (r Rule) Validate() error {
	known := false
	for _, n := range RuleNames() {
		known = known || n == r.Name
	}
	if !known {
		return fmt.Errorf("unknown stall rule %q (use one of %s)", r.Name, strings.Join(RuleNames(), ", "))
	}
	if r.Threshold < 0 {
		return fmt.Errorf("rule %s: threshold must not be negative", r.Name)
	}
	if LevelOf(r.Role) == 0 {
		return fmt.Errorf("rule %s: role %q is not on the ladder %v", r.Name, r.Role, Ladder)
	}
	return nil
}

// SweepCounts are a sweep's totals (the store's SweepCounts, field for field).
type SweepCounts struct {
	Stalled      int `json:"stalled"`
	Escalated    int `json:"escalated"`
	Waiting      int `json:"waiting"`
	Skipped      int `json:"skipped"`
	NotifyFailed int `json:"notify_failed"`
}

// SweepInput configures one sweep. Zero values take the defaults.
type SweepInput struct {
	Rules     []Rule `json:"rules,omitempty"`
	BatchSize int    `json:"batch_size,omitempty"`
	// SweepID names the sweep record; default: the workflow ID and run.
	SweepID string `json:"sweep_id,omitempty"`
	// CentreIDs, when set, sweep only these centres (a team lead's sweep
	// from the console or `pathways schedule trigger --centre`).
	CentreIDs []string `json:"centre_ids,omitempty"`
	// Actor is the staff member who ran it; empty for the schedule.
	Actor string `json:"actor,omitempty"`
}

// Sweep kinds as recorded.
const (
	KindScheduled = "scheduled"
	KindManual    = "manual"
	KindCentre    = "centre"
)

// SweepResult is what a sweep did.
type SweepResult struct {
	SweepID string `json:"sweep_id"`
	SweepCounts
	Stalls int `json:"stalls"`
}

// SweepCarry is the state a sweep hands over through continue-as-new.
type SweepCarry struct {
	SweepInput
	Now       time.Time   `json:"now"`
	Counts    SweepCounts `json:"counts"`
	Stalls    int         `json:"stalls"`
	AfterCase string      `json:"after_case"`
	AfterRule string      `json:"after_rule"`
}

// BeginInput starts a sweep record.
type BeginInput struct {
	SweepID string    `json:"sweep_id"`
	Kind    string    `json:"kind"`
	Now     time.Time `json:"now"`
}

// FindInput asks for the stalls at Now.
type FindInput struct {
	SweepID string    `json:"sweep_id"`
	Now     time.Time `json:"now"`
	Rules   []Rule    `json:"rules"`
	// OneLadder (version one-escalation-ladder of the sweep) keeps one
	// ladder per case, driven by the most severe rule it breaks; before it
	// every rule climbed a ladder of its own.
	OneLadder bool     `json:"one_ladder,omitempty"`
	CentreIDs []string `json:"centre_ids,omitempty"`
}

// FindResult counts what a sweep found.
type FindResult struct {
	Stalled    int `json:"stalled"`     // distinct stalled cases
	Stalls     int `json:"stalls"`      // (case, rule) pairs
	ToEscalate int `json:"to_escalate"` // stalls with a level to signal
	Waiting    int `json:"waiting"`     // stalls left as they are
}

// BatchInput asks for the next batch after a cursor.
type BatchInput struct {
	SweepID   string    `json:"sweep_id"`
	Now       time.Time `json:"now"`
	AfterCase string    `json:"after_case"`
	AfterRule string    `json:"after_rule"`
	Limit     int       `json:"limit"`
	// Actor records who escalated: a staff ID for a manual escalation,
	// "system" when empty (the scheduled sweep).
	Actor string `json:"actor,omitempty"`
}

// BatchResult is what a batch did and where the next one starts.
type BatchResult struct {
	Processed    int    `json:"processed"`
	Escalated    int    `json:"escalated"`
	Skipped      int    `json:"skipped"`
	NotifyFailed int    `json:"notify_failed"`
	LastCase     string `json:"last_case"`
	LastRule     string `json:"last_rule"`
	Done         bool   `json:"done"`
}

// FinishInput closes a sweep record.
type FinishInput struct {
	SweepID string      `json:"sweep_id"`
	Now     time.Time   `json:"now"`
	Counts  SweepCounts `json:"counts"`
}

// ManualFilter picks the cases of a manual escalation (the store's
// ManualFilter, field for field).
type ManualFilter struct {
	CaseIDs   []string `json:"case_ids,omitempty"`
	CentreIDs []string `json:"centre_ids,omitempty"`
	Phase     string   `json:"phase,omitempty"`
	Track     string   `json:"track,omitempty"`
	Assignee  string   `json:"assignee,omitempty"`
	Limit     int      `json:"limit,omitempty"` // 0: no limit
	// Viewer, when set, leaves out the cases that staff member may not see
	// (another centre's, a protected identity not assigned to them).
	Viewer *Viewer `json:"viewer,omitempty"`
}

// Viewer is who asked, as the store's visibility rule needs it: IDs only.
type Viewer struct {
	StaffID    string `json:"staff_id"`
	CentreID   string `json:"centre_id"`
	AllCentres bool   `json:"all_centres"`
}

// ManualRequest escalates one case or many by filter. The reason is staff
// text about cases: it is checked to carry no identity number, and it goes
// into tasks and mail by case ID only.
type ManualRequest struct {
	Filter  ManualFilter `json:"filter"`
	Reason  string       `json:"reason"`
	MinRole string       `json:"min_role,omitempty"` // escalate to at least this role
	StaffID string       `json:"staff_id"`
}

// ManualFindInput asks for a manual escalation's cases at Now and stores
// them as the stall list of SweepID.
type ManualFindInput struct {
	SweepID string        `json:"sweep_id"`
	Now     time.Time     `json:"now"`
	Request ManualRequest `json:"request"`
}

// ManualFound is what the find step matched.
type ManualFound struct {
	Matched    int      `json:"matched"`
	ToEscalate int      `json:"to_escalate"`
	AtTop      []string `json:"at_top,omitempty"` // already at the top of the ladder
}

// ManualProgress is a manual escalation as the API reports it, during the
// run (Query) and after it (the workflow's result).
type ManualProgress struct {
	SweepID      string   `json:"sweep_id"`
	State        string   `json:"state"` // finding, escalating, done
	Matched      int      `json:"matched"`
	ToEscalate   int      `json:"to_escalate"`
	Processed    int      `json:"processed"`
	Escalated    int      `json:"escalated"`
	Skipped      int      `json:"skipped"` // no longer running
	NotifyFailed int      `json:"notify_failed"`
	AtTop        []string `json:"at_top,omitempty"`
}

// Manual escalation states.
const (
	ManualFinding    = "finding"
	ManualEscalating = "escalating"
	ManualDone       = "done"
)
