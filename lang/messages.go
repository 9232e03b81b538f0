package lang

import "regexp"

// Refusals and validation messages the services write in English (the API
// keeps them as they are); pages show them in their language through
// Message. Listed most specific first.
var messages = compile([][2]string{
	{`^cannot (?P<Action>.+?) while the pathway is in phase "(?P<Phase>[^"]*)"$`, "msg.wrong_phase"},
	{`^cannot (?P<Action>.+?): the pathway is closed$`, "msg.closed_action"},
	{`^the pathway is closed$`, "msg.closed"},
	// nothing was sent, or nothing was applied (actions, stepactions, updates)
	{`^no pathway worker is running, so the action was not sent and nothing changed; try again shortly$`, "msg.no_worker"},
	{`^the workflow service does not answer, so the action was not sent and nothing changed; try again shortly$`, "msg.temporal_unavailable"},
	{`^the pathway could not take the action just now, so nothing changed; try again shortly$`, "msg.not_applied"},
	{`^the pathway is already closed$`, "msg.already_closed"},
	{`^the pathway is already paused$`, "msg.already_paused"},
	{`^the pathway is not paused$`, "msg.not_paused"},
	{`^staff_id is required$`, "msg.staff_required"},
	{`^channel "(?P<Value>[^"]*)" is not one of meeting, phone, video$`, "msg.channel"},
	{`^abilities: list at least one$`, "msg.abilities"},
	{`^abilities and obstacles take at most 50 entries each$`, "msg.abilities_many"},
	{`^target_ssyk "(?P<Value>[^"]*)" is not a four-digit SSYK 2012 code$`, "msg.target_ssyk"},
	{`^ssyk "(?P<Value>[^"]*)" is not a four-digit SSYK 2012 code$`, "msg.ssyk"},
	{`^a plan needs at least one step$`, "msg.plan_steps"},
	// the plan checker's (plans.Service) field messages
	{`^"(?P<Value>[^"]*)" is not a four-digit SSYK 2012 code$`, "msg.plan_ssyk"},
	{`^"(?P<Value>[^"]*)" must be 2–40 lower-case letters.*$`, "msg.plan_step_id"},
	{`^"(?P<Value>[^"]*)" is also the id of steps\[(?P<N>\d+)\].*$`, "msg.plan_step_dup"},
	{`^must be from 1 to 730 days$`, "msg.plan_days"},
	{`^"(?P<Value>[^"]*)" is not a step type programme (?P<Programme>.+) allows \((?P<Allowed>.*)\)$`, "msg.plan_type"},
	{`^the steps take (?P<Days>\d+) days, more than the (?P<Left>\d+) days left before the time limit$`, "msg.plan_too_long"},
	{`^steps\[(?P<N>\d+)\] takes its employer from the recruitment need: choose an open need$`, "msg.plan_need_required"},
	{`^course (?P<Code>\S+) is given in municipality (?P<Municipality>\d+), not in the participant's municipality (?P<Own>\d+)$`, "msg.plan_course_elsewhere"},
	{`^course (?P<Code>\S+) starts after the time limit \((?P<Left>\d+) days left\)$`, "msg.plan_course_late"},
	{`^the education system gives no course (?P<Code>\S+) in municipality (?P<Municipality>\d+)$`, "msg.plan_no_course"},
	{`^the employer system has no recruitment need "(?P<Value>[^"]*)"$`, "msg.plan_no_need"},
	{`^recruitment need (?P<Need>\S+) has no open positions$`, "msg.plan_need_full"},
	{`^recruitment need (?P<Need>\S+) is in municipality (?P<Municipality>\d+), not in the participant's municipality (?P<Own>\d+)$`, "msg.plan_need_elsewhere"},
	{`^recruitment need (?P<Need>\S+) is (?P<Status>\S+)$`, "msg.plan_need_status"},
	{`^choose at least one step$`, "msg.plan_steps"},
	{`^the participant is under 20 \(activity duty\): the plan must start with an education step, not "(?P<Value>[^"]*)"$`, "msg.activity_duty"},
	{`^kind "(?P<Value>[^"]*)" is not one of work, subsidised_work, studies$`, "msg.outcome_kind"},
	{`^start_date is required$`, "msg.start_date"},
	{`^start_date must be a date, YYYY-MM-DD$`, "msg.start_date_format"},
	{`^no follow-up is due yet$`, "msg.no_follow_up"},
	{`^the follow-up due is day (?P<Due>\d+), not day (?P<Day>\d+)$`, "msg.follow_up_day"},
	{`^day must be a number$`, "msg.day_number"},
	{`^reason "(?P<Value>[^"]*)" is not one of sick, parental_leave, other$`, "msg.pause_reason"},
	{`^to_centre must name another centre$`, "msg.to_centre"},
	{`^reason time_limit is set by the system when the programme's time limit is reached$`, "msg.time_limit"},
	{`^closing as (?P<Outcome>\S+) needs a recorded \S+ outcome first$`, "msg.close_needs_outcome"},
	{`^reason "(?P<Value>[^"]*)" is not a closure code.*$`, "msg.closure_code"},
	{`^task "(?P<Value>[^"]*)" closes by doing what it asks \((?P<Kind>[^)]*)\), not by hand$`, "msg.task_by_doing"},
	{`^no open task "(?P<Value>[^"]*)"$`, "msg.no_task"},
	{`^(?P<Field>\S+) is required$`, "msg.field_required"},
	{`^(?P<Field>\S+) is longer than (?P<Max>\d+) characters$`, "msg.field_long"},
	// the referral's field errors (the field is named beside the input)
	{`^is required$`, "msg.required"},
	{`^is longer than (?P<Max>\d+) characters$`, "msg.too_long"},
	{`^is not an e-mail address$`, "msg.email"},
	{`^is not UTF-8 text$`, "msg.utf8"},
	{`^contains a control character.*$`, "msg.control"},
	{`^must be social_services or employment_service$`, "msg.source"},
	{`^the participant's registered consent is required$`, "msg.consent"},
	{`^no programme "(?P<Value>[^"]*)"$`, "msg.no_programme"},
	{`^the participant's age \((?P<Age>\d+)\) is outside the programme's range (?P<Min>\d+)–(?P<Max>\d+)$`, "msg.programme_age"},
	{`^no programme takes participants aged (?P<Age>\d+)$`, "msg.no_programme_age"},
	{`^no centre "(?P<Value>[^"]*)"$`, "msg.no_centre"},
	{`^the centre registry could not be read$`, "msg.centres_unavailable"},
	{`^(?P<Centre>.+) takes ages (?P<Min>\d+)–(?P<Max>\d+)$`, "msg.centre_age"},
	{`^personal identity number must be .*$`, "msg.pnr_format"},
	{`^personal identity number has a date that does not exist$`, "msg.pnr_date"},
	{`^personal identity number has birth number 000.*$`, "msg.pnr_serial"},
	{`^personal identity number has a wrong check digit$`, "msg.pnr_check"},
	{`^personal identity number has a date of birth in the future$`, "msg.pnr_future"},
	{`^.*an active pathway.*$`, "msg.duplicate"},
	{`^the form has expired.*$`, "msg.form_expired"},
})

func compile(pairs [][2]string) []event {
	out := make([]event, 0, len(pairs))
	for _, p := range pairs {
		out = append(out, event{regexp.MustCompile(p[0]), p[1]})
	}
	return out
}

// Message shows a refusal or validation message a service wrote in English
// in l's language; one no pattern knows is shown as written.
func (l *Localizer) Message(msg string) string {
	if l.tag == English {
		return msg
	}
	return l.match(messages, msg)
}

// MessageKeys lists the keys Message may use, for the catalogue test.
func MessageKeys() []string {
	out := make([]string, 0, len(messages))
	for _, e := range messages {
		out = append(out, e.key)
	}
	return out
}
