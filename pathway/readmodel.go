package pathway

import (
	"encoding/json"
	"time"
)

// Names of the pathway's own activities, as the worker registers them (the
// method names of activities.Registry and activities.Outside). The workflow
// calls them by name, so its build holds no database or HTTP code.
const (
	ActivityProject              = "Project"
	ActivityCheckCentre          = "CheckCentre"
	ActivityNotifySocialServices = "NotifySocialServices"
	ActivityReportOutcome        = "ReportOutcome"
	ActivityReportPlan           = "ReportPlan"
)

// Projection is one change of a pathway, sent by the workflow to the read
// model. Seq grows with every change, so a retried or late activity never
// rolls the row back.
type Projection struct {
	CaseID     string            `json:"case_id"`
	Seq        int64             `json:"seq"`
	At         time.Time         `json:"at"`
	Status     Status            `json:"status"`
	Progress   bool              `json:"progress"` // counts as progress for stall rules
	Event      *TimelineEvent    `json:"event,omitempty"`
	OpenTasks  []Task            `json:"open_tasks,omitempty"`
	CloseTasks []string          `json:"close_tasks,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// TimelineEvent is one line of a pathway's timeline.
type TimelineEvent struct {
	Kind    string          `json:"kind"`
	Summary string          `json:"summary"`
	Actor   string          `json:"actor,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Notice is what the workflow tells an outside system of an outcome or a
// closure. The person is resolved inside the activity, from the case.
type Notice struct {
	CaseID string `json:"case_id"`
	// Key is the business idempotency key, e.g. "<case>:notice:social:outcome:1":
	// the same on every retry, in every run, and different for every other notice.
	Key     string    `json:"key,omitempty"`
	Event   string    `json:"event"` // outcome, closure
	Reason  string    `json:"reason"`
	Outcome string    `json:"outcome,omitempty"`
	SSYK    string    `json:"ssyk,omitempty"`
	Steps   []string  `json:"steps,omitempty"` // a plan report: its steps' types and days, no free text
	Start   time.Time `json:"start,omitempty"`
	At      time.Time `json:"at"`
}
