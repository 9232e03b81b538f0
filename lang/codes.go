package lang

import (
	"regexp"
	"strings"
)

// Code names a stable code of kind (phase, track, status, closure, role,
// source, channel, pause, outcome, step_type, step_status) in the
// language, from the key "code.<kind>.<code>"; a code no catalogue names
// comes back as itself.
func (l *Localizer) Code(kind, code string) string {
	if code == "" {
		return ""
	}
	key := "code." + kind + "." + code
	if Has(l.tag, key) {
		return l.T(key)
	}
	return code
}

// event is one English line the workflow writes to the timeline or a task
// title (kept in workflow history, so never changed there), and the key
// that says it in the page's language. Named groups become the message's
// arguments; a group named after a code kind (Channel, Kind, Role, …) is
// shown by its name.
type event struct {
	re  *regexp.Regexp
	key string
}

var events = func() []event {
	var out []event
	for _, e := range [][2]string{
		// timeline lines
		{`^Referred by (?P<Source>\S+); programme (?P<Programme>\S+) v(?P<Version>\d+), (?P<Track>\S+) track$`, "event.referral"},
		{`^First contact made by (?P<Channel>\S+)$`, "event.first_contact"},
		{`^Mapping recorded$`, "event.mapping"},
		{`^Plan revision (?P<Revision>\d+) approved: (?P<Steps>\d+) step\(s\) towards SSYK (?P<SSYK>\S*)$`, "event.plan"},
		{`^Outcome: (?P<Outcome>\S+) from (?P<Date>\S+) at (?P<Text>.*)$`, "event.outcome"},
		{`^Follow-up day (?P<Day>\d+): still in (?P<Outcome>\S+)$`, "event.follow_up_still"},
		{`^Follow-up day (?P<Day>\d+): no longer in (?P<Outcome>\S+)$`, "event.follow_up_gone"},
		{`^Paused \((?P<Pause>[^)]*)\); (?P<Text>.*)$`, "event.paused"},
		{`^Resumed after (?P<Days>\d+) day\(s\)$`, "event.resumed"},
		{`^Transferred from (?P<From>\S+) to (?P<To>\S+): (?P<Text>.*)$`, "event.transfer"},
		{`^Task done: (?P<Text>.*)$`, "event.task_done"},
		{`^Mapping deadline moved to (?P<Date>\S+): (?P<Text>.*)$`, "event.mapping_moved"},
		{`^Escalated to (?P<Role>\S+) \(level (?P<Level>\d+)\): (?P<Text>.*)$`, "event.escalated"},
		{`^No first contact within the target$`, "event.first_contact_missed"},
		{`^Reminder: mapping due soon$`, "event.mapping_reminder"},
		{`^Mapping is overdue$`, "event.mapping_overdue"},
		{`^Follow-up at day (?P<Day>\d+) is due$`, "event.follow_up_due"},
		{`^Closed: (?P<Closure>\S+)$`, "event.closed"},
		{`^All planned steps are done$`, "event.steps_done"},
		{`^Step (?P<Step>\S+) started: (?P<Text>.*)$`, "event.step_started"},
		{`^Step (?P<Step>\S+) (?P<StepStatus>\S+): (?P<Text>.*)$`, "event.step_ended_reason"},
		{`^Step (?P<Step>\S+) (?P<StepStatus>\S+)$`, "event.step_ended"},
		{`^The plan needs a revision$`, "event.replan_needed"},
		{`^(?P<What>.+) failed: (?P<Text>.*)$`, "event.integration_failed"},
		// task titles
		{`^Make first contact with the participant$`, "task.first_contact"},
		{`^Map abilities, education, language, work history, goals and obstacles$`, "task.mapping"},
		{`^Draft and approve the action plan$`, "task.plan"},
		{`^The outcome lapsed: revise the plan$`, "task.outcome_lapsed"},
		{`^Stalled \((?P<Rule>[^)]*)\): (?P<Text>.*)$`, "task.stalled"},
		{`^First contact target missed: contact the participant today$`, "task.first_contact_missed"},
		{`^Mapping is due in (?P<Days>\d+) days$`, "task.mapping_due"},
		{`^Follow up day (?P<Day>\d+): is the participant still in (?P<Outcome>\S+)\?$`, "task.follow_up"},
		{`^Handle manually: (?P<Text>.*)$`, "task.handle_manually"},
		{`^All steps done: record the outcome or revise the plan$`, "task.steps_done"},
		{`^Step (?P<Step>\S+) (?P<StepStatus>\S+): (?P<Text>.*)\. Revise the plan$`, "task.replan_reason"},
		{`^Step (?P<Step>\S+) (?P<StepStatus>\S+): revise the plan$`, "task.replan"},
	} {
		out = append(out, event{regexp.MustCompile(e[0]), e[1]})
	}
	// The task titles are more specific than the timeline's catch-alls: try them first.
	var tasks, lines []event
	for _, e := range out {
		if strings.HasPrefix(e.key, "task.") {
			tasks = append(tasks, e)
		} else {
			lines = append(lines, e)
		}
	}
	return append(tasks, lines...)
}()

// codeGroups shows a named group by the name of its code.
var codeGroups = map[string]string{
	"Source": "source", "Track": "track", "Channel": "channel", "Outcome": "outcome", "Pause": "pause",
	"Role": "role", "Closure": "closure", "StepStatus": "step_status", "Phase": "phase", "Field": "field",
	"Action": "action", "Kind": "task_kind",
}

// Event shows a line the workflow wrote in English (a timeline summary or a
// task title) in l's language. English lines are shown as written; a line
// no pattern knows is shown as written too.
func (l *Localizer) Event(line string) string {
	if l.tag == English {
		return line
	}
	return l.match(events, line)
}

// match says line by the first pattern that fits it and whose key the
// language has; line itself when none does.
func (l *Localizer) match(list []event, line string) string {
	for _, e := range list {
		m := e.re.FindStringSubmatch(line)
		if m == nil || !Has(l.tag, e.key) {
			continue
		}
		var args []any
		for i, name := range e.re.SubexpNames() {
			if name == "" {
				continue
			}
			v := m[i]
			if kind, ok := codeGroups[name]; ok {
				if c := l.Code(kind, strings.ReplaceAll(v, " ", "_")); c != strings.ReplaceAll(v, " ", "_") {
					v = c
				}
			}
			args = append(args, name, v)
		}
		return l.T(e.key, args...)
	}
	return line
}

// EventKeys lists the keys Event may use, for the catalogue test.
func EventKeys() []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.key)
	}
	return out
}
