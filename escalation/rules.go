// Package escalation finds stalled cases and escalates them up a ladder of
// roles until someone acts. A Temporal Schedule runs the StallSweep workflow
// daily; the sweep evaluates the stall rules with indexed SQL on the read
// model, decides each stall's next level, signals the pathway (which records
// the escalation once per rule and level and opens a task for the role), and
// notifies the role by mail. Progress on a case calms its escalations in the
// pathway itself; the next sweep then starts the ladder afresh if the case
// stalls again.
package escalation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pathways-se/pathways/escalation/contract"
)

// Rule names.
const (
	RuleFirstContact = contract.RuleFirstContact
	RuleMapping      = contract.RuleMapping
	RuleStepOverrun  = contract.RuleStepOverrun
	RuleNoProgress   = contract.RuleNoProgress
	RuleFollowUp     = contract.RuleFollowUp
	RuleTimeLimit    = contract.RuleTimeLimit
	RuleManual       = contract.RuleManual
)

// Roles of the ladder.
const (
	RoleJobCoach    = contract.RoleJobCoach
	RoleTeamLead    = contract.RoleTeamLead
	RoleUnitManager = contract.RoleUnitManager
)

// Ladder is the escalation ladder: level n goes to Ladder[n-1].
var Ladder = contract.Ladder

// TopLevel is the highest level.
func TopLevel() int { return len(Ladder) }

// LevelOf is the ladder level of a role (1-based), or 0 if it is not on it.
func LevelOf(role string) int { return contract.LevelOf(role) }

// RoleAt is the role of a level, or "" outside the ladder.
func RoleAt(level int) string {
	if level < 1 || level > len(Ladder) {
		return ""
	}
	return Ladder[level-1]
}

// Rule is one stall rule (see contract.Rule).
type Rule = contract.Rule

const day = 24 * time.Hour

// DefaultRules are the rules a sweep uses unless configured otherwise.
func DefaultRules() []Rule { return contract.DefaultRules() }

// ParseRules applies overrides to the default rules. The spec is a comma
// separated list of name=threshold[:role] or name=off, for example
// "no_progress=21d,time_limit=60d:unit_manager,step_overrun=off".
// Thresholds take Go durations (36h) or days (21d).
func ParseRules(spec string) ([]Rule, error) {
	rules := DefaultRules()
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return rules, nil
	}
	for _, item := range strings.Split(spec, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, fmt.Errorf("escalation rule %q: want name=threshold[:role] or name=off", item)
		}
		i := -1
		for j, r := range rules {
			if r.Name == name {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("unknown stall rule %q (use one of %s)", name, strings.Join(contract.RuleNames(), ", "))
		}
		if val == "off" {
			rules[i].Disabled = true
			continue
		}
		th, role, _ := strings.Cut(val, ":")
		d, err := parseThreshold(th)
		if err != nil {
			return nil, fmt.Errorf("escalation rule %s: %w", name, err)
		}
		rules[i].Threshold = d
		if role != "" {
			rules[i].Role = role
		}
		if err := rules[i].Validate(); err != nil {
			return nil, err
		}
	}
	return rules, nil
}

func parseThreshold(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("threshold %q is not a number of days", s)
		}
		return time.Duration(v * float64(day)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("threshold %q is not a duration (36h) or days (21d)", s)
	}
	return d, nil
}

// Current is where a stall stands: the highest level escalated since the
// case last progressed, and that level's task.
type Current struct {
	Level      int
	TaskStatus string // open, done, cancelled, or "" (not projected yet)
	TaskDue    time.Time
}

// NextLevel decides a stall's escalation at now; 0 means leave it:
//   - not escalated since the last progress: the rule's first level;
//   - the current level's task is open past its deadline: one level up;
//   - the task is open and not yet due, or done, or not yet visible, or the
//     top is reached: wait.
//
// A level already reached is never returned again for the same stall.
func NextLevel(r Rule, cur Current, now time.Time) int {
	if cur.Level == 0 {
		return LevelOf(r.Role)
	}
	if cur.TaskStatus == "open" && !cur.TaskDue.IsZero() && !cur.TaskDue.After(now) && cur.Level < TopLevel() {
		return cur.Level + 1
	}
	return 0
}

// LadderLevel decides on a case's one ladder, driven by rule r, the most
// severe it breaks: as NextLevel, except that a rule whose first level is
// above the current one lifts the case there at once.
func LadderLevel(r Rule, cur Current, now time.Time) int {
	next := NextLevel(r, cur, now)
	if start := LevelOf(r.Role); start > cur.Level && start > next {
		return start
	}
	return next
}

// ManualLevel decides a manual escalation: one level above the current one
// (at least the level of minRole), whether or not the task is due; 0 at the top.
func ManualLevel(minRole string, cur Current) int {
	next := max(cur.Level+1, LevelOf(minRole), 1)
	if next > TopLevel() {
		return 0
	}
	return next
}

// TaskKey is the key of the task a pathway opens for an escalation; it
// mirrors workflows' taskKey(case, "escalation", rule, level).
func TaskKey(caseID, rule string, level int) string {
	return caseID + ":escalation:" + rule + ":" + strconv.Itoa(level)
}

// Reason describes a stall for the task and the mail. It names dates and
// the rule only, never the participant.
func Reason(rule string, since *time.Time, loc *time.Location) string {
	d := "unknown date"
	if since != nil {
		if loc == nil {
			loc = time.UTC
		}
		d = since.In(loc).Format("2006-01-02")
	}
	switch rule {
	case RuleFirstContact:
		return "no first contact; it was due " + d
	case RuleMapping:
		return "mapping overdue since " + d
	case RuleStepOverrun:
		return "the running step passed its planned end on " + d + " with no result"
	case RuleNoProgress:
		return "no progress since " + d
	case RuleFollowUp:
		return "follow-up answer missing; it was due " + d
	case RuleTimeLimit:
		return "the time limit is " + d + " and there is no outcome yet"
	}
	return "stalled (" + rule + ")"
}

// personalNumber catches personal identity and co-ordination numbers in
// free text, with or without century and separator.
var personalNumber = regexp.MustCompile(`\d{6}(\d{2})?[-+ ]?\d{4}`)

// CheckReason refuses a manual reason that is empty, long, or carries a
// personal identity number: reasons go into mail and task titles.
func CheckReason(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return fmt.Errorf("reason is required")
	case len(s) > 300:
		return fmt.Errorf("reason is longer than 300 characters")
	case personalNumber.MatchString(s):
		return fmt.Errorf("reason must not contain a personal identity number: name the case ID only")
	case strings.ContainsAny(s, "\r\n"):
		return fmt.Errorf("reason must be one line")
	}
	return nil
}
