package workflows

import (
	"time"

	"github.com/pathways-se/pathways/pathway"
)

// state is everything a pathway remembers. It is carried across
// continue-as-new as JSON, so every field is exported and ordered data lives
// in slices, never maps.
type state struct {
	Seq             int64               `json:"seq"`
	Phase           string              `json:"phase"`
	CentreID        string              `json:"centre_id"`
	StartedAt       time.Time           `json:"started_at"`
	LimitAt         time.Time           `json:"limit_at"`
	Paused          bool                `json:"paused"`
	PauseReason     string              `json:"pause_reason,omitempty"`
	PausedAt        time.Time           `json:"paused_at,omitempty"`
	FirstContactDue time.Time           `json:"first_contact_due"`
	FirstContactAt  time.Time           `json:"first_contact_at,omitempty"`
	ContactMissed   bool                `json:"contact_missed,omitempty"`
	MappingDue      time.Time           `json:"mapping_due,omitempty"`
	MappingAt       time.Time           `json:"mapping_at,omitempty"`
	MappingReminded bool                `json:"mapping_reminded,omitempty"`
	MappingOverdue  bool                `json:"mapping_overdue,omitempty"`
	PlanRevision    int                 `json:"plan_revision"`
	TargetSSYK      string              `json:"target_ssyk,omitempty"`
	NeedID          string              `json:"need_id,omitempty"`
	Steps           []pathway.StepState `json:"steps,omitempty"`
	Outcome         *pathway.Outcome    `json:"outcome,omitempty"`
	OutcomeNotified bool                `json:"outcome_notified,omitempty"`
	Outcomes        int                 `json:"outcomes,omitempty"` // outcomes recorded; numbers their notices
	Notices         []notice            `json:"notices,omitempty"`  // not yet answered: the next run sends them
	FollowUpsDone   int                 `json:"follow_ups_done"`
	FollowUpOpen    bool                `json:"follow_up_open,omitempty"`
	Close           *pathway.Close      `json:"close,omitempty"`
	Tasks           []pathway.Task      `json:"tasks,omitempty"`
	Escalations     []escalation        `json:"escalations,omitempty"`
	Runs            int                 `json:"runs"`
}

// escalation remembers which stall reached which level, so a repeated sweep
// never escalates the same stall twice at the same level.
type escalation struct {
	Rule  string    `json:"rule"`
	Level int       `json:"level"`
	At    time.Time `json:"at"`
}

// currentStep returns the index of the running step, or -1.
func (s *state) currentStep() int {
	for i, st := range s.Steps {
		if st.Status == pathway.StepRunning {
			return i
		}
	}
	return -1
}

// nextPending returns the index of the first pending step, or -1.
func (s *state) nextPending() int {
	for i, st := range s.Steps {
		if st.Status == pathway.StepPending {
			return i
		}
	}
	return -1
}

func (s *state) hasTask(key string) bool {
	for _, t := range s.Tasks {
		if t.Key == key {
			return true
		}
	}
	return false
}

func (s *state) removeTask(key string) bool {
	for i, t := range s.Tasks {
		if t.Key == key {
			s.Tasks = append(s.Tasks[:i], s.Tasks[i+1:]...)
			return true
		}
	}
	return false
}

func (s *state) completedCount() int {
	n := 0
	for _, st := range s.Steps {
		if st.Status == pathway.StepCompleted {
			n++
		}
	}
	return n
}
