package simulators

import (
	"fmt"
	"net/http"
	"time"
)

type simAgreement struct {
	ID         string `json:"id"`
	Status     string `json:"status"` // active, ended
	CaseID     string `json:"case_id"`
	EmployerID string `json:"employer_id"`
	NeedID     string `json:"need_id,omitempty"`
	// TookPosition: the agreement took one of the need's positions (none
	// is left to take once the need is filled).
	TookPosition bool      `json:"took_position,omitempty"`
	Kind         string    `json:"kind"`
	StartDate    time.Time `json:"start_date"`
	EndDate      time.Time `json:"end_date"`
	EndReason    string    `json:"end_reason,omitempty"`
}

type employersState struct {
	seq        int
	agreements map[string]*simAgreement
	order      []string
	needSeq    int
	needs      map[string]*simNeed // registered by brokers, or changed since generated
	needOrder  []string            // registered ones, in order
}

func (e *employersState) init() {
	e.agreements = map[string]*simAgreement{}
	e.needs = map[string]*simNeed{}
}

var agreementKinds = map[string]bool{"internship": true, "work_training": true, "language_internship": true, "subsidised_employment": true}

func (s *Sim) employer(id string) *simEmployer {
	for i := range s.data.employers {
		if s.data.employers[i].ID == id {
			return &s.data.employers[i]
		}
	}
	return nil
}

func (s *Sim) createAgreement(w http.ResponseWriter, r *http.Request) {
	s.sideEffect(w, r, "employers", func(body []byte) effect {
		var in simAgreement
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		if in.CaseID == "" || in.EmployerID == "" {
			return fail(http.StatusBadRequest, "case_id and employer_id are required")
		}
		if s.employer(in.EmployerID) == nil {
			return fail(http.StatusUnprocessableEntity, "unknown employer "+in.EmployerID)
		}
		if !agreementKinds[in.Kind] {
			return fail(http.StatusUnprocessableEntity, "kind must be internship, work_training, language_internship or subsidised_employment")
		}
		if in.StartDate.IsZero() || (!in.EndDate.IsZero() && in.EndDate.Before(in.StartDate)) {
			return fail(http.StatusUnprocessableEntity, "start_date is required and end_date may not precede it")
		}
		took := false
		if in.NeedID != "" {
			var refused *effect
			if took, refused = s.takePositionLocked(in.NeedID, in.EmployerID); refused != nil {
				return *refused
			}
		}
		dup := false
		for _, a := range s.ers.agreements {
			if a.Status == "active" && a.CaseID == in.CaseID && a.EmployerID == in.EmployerID && a.Kind == in.Kind {
				dup = true
			}
		}
		s.ers.seq++
		a := &simAgreement{ID: fmt.Sprintf("agr-%05d", s.ers.seq), Status: "active", CaseID: in.CaseID,
			EmployerID: in.EmployerID, NeedID: in.NeedID, TookPosition: took, Kind: in.Kind, StartDate: in.StartDate, EndDate: in.EndDate}
		s.ers.agreements[a.ID] = a
		s.ers.order = append(s.ers.order, a.ID)
		s.touch(kindAgreement, a.ID, s.ers.seq, *a)
		cp := *a
		return effect{status: http.StatusCreated, body: cp, created: "agreement/" + a.ID, duplicate: dup}
	})
}

func (s *Sim) getAgreement(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a, ok := s.ers.agreements[r.PathValue("id")]
	var cp simAgreement
	if ok {
		cp = *a
	}
	s.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, "no such agreement")
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

func (s *Sim) endAgreement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.sideEffect(w, r, "employers", func(body []byte) effect {
		var in struct {
			Reason string `json:"reason"`
		}
		_ = decode(body, &in)
		a, ok := s.ers.agreements[id]
		if !ok {
			return fail(http.StatusNotFound, "no such agreement")
		}
		if a.Status == "ended" {
			return effect{status: http.StatusOK, body: *a}
		}
		a.Status, a.EndReason = "ended", in.Reason
		if a.TookPosition && !a.EndDate.IsZero() && time.Now().Before(a.EndDate) {
			s.releasePositionLocked(a.NeedID) // ended early: the position is free again
		}
		s.touch(kindAgreement, a.ID, 0, *a)
		return effect{status: http.StatusOK, body: *a, created: "agreement/" + a.ID + "/ended"}
	})
}

// Agreements lists the agreements.
func (s *Sim) Agreements() []simAgreement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]simAgreement, 0, len(s.ers.order))
	for _, id := range s.ers.order {
		out = append(out, *s.ers.agreements[id])
	}
	return out
}

func (s *Sim) listAgreements(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"agreements": s.Agreements()})
}
