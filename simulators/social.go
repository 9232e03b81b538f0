package simulators

import (
	"fmt"
	"net/http"
	"time"
)

type simNotice struct {
	ID      string    `json:"id"`
	CaseID  string    `json:"case_id"`
	Event   string    `json:"event"`
	Reason  string    `json:"reason,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	At      time.Time `json:"at"`
	Got     time.Time `json:"received_at"`
}

type socialState struct {
	seq     int
	notices []*simNotice
}

func (e *socialState) init() {}

func (s *Sim) notice(w http.ResponseWriter, r *http.Request) {
	s.sideEffect(w, r, "social", func(body []byte) effect {
		var in struct {
			CaseID         string    `json:"case_id"`
			PersonalNumber string    `json:"personal_number"`
			Event          string    `json:"event"`
			Reason         string    `json:"reason"`
			Outcome        string    `json:"outcome"`
			At             time.Time `json:"at"`
		}
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		if in.CaseID == "" || !pnrRe.MatchString(in.PersonalNumber) {
			return fail(http.StatusBadRequest, "case_id and personal_number are required")
		}
		if in.Event != "outcome" && in.Event != "closure" {
			return fail(http.StatusUnprocessableEntity, "event must be outcome or closure")
		}
		dup := false
		for _, n := range s.soc.notices {
			if n.CaseID == in.CaseID && n.Event == in.Event {
				dup = true
			}
		}
		s.soc.seq++
		n := &simNotice{ID: fmt.Sprintf("soc-%05d", s.soc.seq), CaseID: in.CaseID, Event: in.Event,
			Reason: in.Reason, Outcome: in.Outcome, At: in.At, Got: time.Now().UTC()}
		s.soc.notices = append(s.soc.notices, n)
		s.touch(kindNotice, n.ID, s.soc.seq, *n)
		return effect{status: http.StatusAccepted, body: map[string]string{"id": n.ID, "status": "received"}, created: n.ID, duplicate: dup}
	})
}

// Notices lists received notices (no personal data).
func (s *Sim) Notices() []simNotice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simNotice, 0, len(s.soc.notices))
	for _, n := range s.soc.notices {
		out = append(out, *n)
	}
	return out
}

func (s *Sim) listNotices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"notices": s.Notices()})
}
