package simulators

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The employer system's recruitment needs are the one list of them: the
// generated ones, those the development seed names, and those brokers
// register through the adapter. Positions count down as agreements naming
// a need are made and up when one ends early; a need is open, filled,
// withdrawn or expired (open past its expires_at).

const kindNeed = "need"

// needLocked finds a need: a registered or changed one first, then the
// generated catalogue. The caller holds s.mu; the result may be changed
// only after ownNeedLocked.
func (s *Sim) needLocked(id string) *simNeed {
	if n, ok := s.ers.needs[id]; ok {
		return n
	}
	for i := range s.data.needs {
		if s.data.needs[i].ID == id {
			return &s.data.needs[i]
		}
	}
	return nil
}

// ownNeedLocked copies a generated need into the changed ones (persisted),
// so the generated catalogue stays as generated.
func (s *Sim) ownNeedLocked(id string) *simNeed {
	if n, ok := s.ers.needs[id]; ok {
		return n
	}
	n := s.needLocked(id)
	if n == nil {
		return nil
	}
	cp := *n
	s.ers.needs[id] = &cp
	return &cp
}

// status is the need's state now: an open need past its expiry is expired.
func (n simNeed) status(now time.Time) string {
	st := n.Status
	if st == "" {
		st = "open"
	}
	if st == "open" && !n.ExpiresAt.IsZero() && now.After(n.ExpiresAt) {
		return "expired"
	}
	return st
}

func (n simNeed) view(now time.Time) simNeed {
	n.Status = n.status(now)
	return n
}

// allNeedsLocked lists every need in catalogue order, registered ones last.
func (s *Sim) allNeedsLocked() []simNeed {
	now := time.Now()
	out := make([]simNeed, 0, len(s.data.needs)+len(s.ers.needOrder))
	seen := map[string]bool{}
	for _, n := range s.data.needs {
		out = append(out, s.needLocked(n.ID).view(now))
		seen[n.ID] = true
	}
	for _, id := range s.ers.needOrder {
		if !seen[id] {
			out = append(out, s.ers.needs[id].view(now))
		}
	}
	return out
}

func (s *Sim) needs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ssyk, muni, employer, status := q.Get("ssyk"), q.Get("municipality"), q.Get("employer"), q.Get("status")
	if status == "" {
		status = "open"
	}
	s.mu.Lock()
	all := s.allNeedsLocked()
	s.mu.Unlock()
	out := []simNeed{}
	for _, n := range all {
		if (ssyk == "" || n.SSYK == ssyk) && (muni == "" || n.Municipality == muni) &&
			(employer == "" || n.EmployerID == employer) && (status == "all" || n.Status == status) {
			out = append(out, n)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "needs": out})
}

func (s *Sim) getNeed(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := s.needLocked(r.PathValue("id"))
	var cp simNeed
	if n != nil {
		cp = n.view(time.Now())
	}
	s.mu.Unlock()
	if n == nil {
		writeErr(w, http.StatusNotFound, "no such recruitment need")
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

var ssykRe = regexp.MustCompile(`^[0-9]{4}$`)

func (s *Sim) registerNeed(w http.ResponseWriter, r *http.Request) {
	s.sideEffect(w, r, "employers", func(body []byte) effect {
		var in simNeed
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		e := s.employer(in.EmployerID)
		switch {
		case e == nil:
			return fail(http.StatusUnprocessableEntity, "unknown employer "+in.EmployerID)
		case !ssykRe.MatchString(in.SSYK):
			return fail(http.StatusUnprocessableEntity, "ssyk must be a four-digit SSYK 2012 code")
		case in.Positions < 1:
			return fail(http.StatusUnprocessableEntity, "positions must be 1 or more")
		case in.StartDate.IsZero():
			return fail(http.StatusUnprocessableEntity, "start_date is required")
		}
		s.ers.needSeq++
		n := &simNeed{ID: fmt.Sprintf("need-r%04d", s.ers.needSeq), EmployerID: e.ID, EmployerName: e.Name, SSYK: in.SSYK,
			Municipality: e.Municipality, Positions: in.Positions, StartDate: in.StartDate, RequiredTraining: in.RequiredTraining,
			ContactRole: in.ContactRole, Title: strings.TrimSpace(in.Title), CentreID: in.CentreID, Status: "open", ExpiresAt: in.ExpiresAt}
		s.ers.needs[n.ID] = n
		s.ers.needOrder = append(s.ers.needOrder, n.ID)
		s.touch(kindNeed, n.ID, s.ers.needSeq, *n)
		return effect{status: http.StatusCreated, body: *n, created: "need/" + n.ID}
	})
}

func (s *Sim) setNeedStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.sideEffect(w, r, "employers", func(body []byte) effect {
		var in struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		if err := decode(body, &in); err != nil {
			return fail(http.StatusBadRequest, "malformed JSON")
		}
		switch in.Status {
		case "open", "filled", "withdrawn":
		default:
			return fail(http.StatusUnprocessableEntity, "status must be open, filled or withdrawn")
		}
		n := s.ownNeedLocked(id)
		if n == nil {
			return fail(http.StatusNotFound, "no such recruitment need")
		}
		if n.status(time.Now()) == in.Status {
			return effect{status: http.StatusOK, body: n.view(time.Now())}
		}
		n.Status, n.StatusReason = in.Status, in.Reason
		s.touch(kindNeed, n.ID, 0, *n)
		return effect{status: http.StatusOK, body: n.view(time.Now()), created: "need/" + n.ID + "/" + in.Status}
	})
}

// takePositionLocked fills one position of the need an agreement names. A
// withdrawn or expired need refuses (the effect to answer with); a filled
// one still lets the employer make the agreement but has no position to
// give, so took is false.
func (s *Sim) takePositionLocked(needID, employerID string) (took bool, refused *effect) {
	n := s.needLocked(needID)
	if n == nil {
		e := fail(http.StatusUnprocessableEntity, "unknown recruitment need "+needID)
		return false, &e
	}
	if n.EmployerID != employerID {
		e := fail(http.StatusUnprocessableEntity, "recruitment need "+needID+" is not employer "+employerID+"'s")
		return false, &e
	}
	switch st := n.status(time.Now()); st {
	case "withdrawn", "expired":
		e := fail(http.StatusConflict, "recruitment need "+needID+" is "+st)
		return false, &e
	case "filled":
		return false, nil
	}
	n = s.ownNeedLocked(needID)
	n.Positions--
	n.Filled++
	if n.Positions <= 0 {
		n.Positions, n.Status, n.StatusReason = 0, "filled", "every position taken"
	}
	s.touch(kindNeed, n.ID, 0, *n)
	return true, nil
}

// releasePositionLocked gives a position back when an agreement ends
// before its end date.
func (s *Sim) releasePositionLocked(needID string) {
	n := s.ownNeedLocked(needID)
	if n == nil || n.Filled == 0 {
		return
	}
	n.Positions++
	n.Filled--
	if n.Status == "filled" {
		n.Status, n.StatusReason = "open", "a position came free"
	}
	s.touch(kindNeed, n.ID, 0, *n)
}

// Needs lists every recruitment need as the employer system sees it now.
func (s *Sim) Needs() []simNeed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allNeedsLocked()
}
