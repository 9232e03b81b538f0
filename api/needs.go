package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/store"
)

// Recruitment needs live in the employer system (integrations.NeedRegistry);
// pathways lists, registers and changes them there, and adds who is tied
// to each need and how far they have come, from its own read model.

// NeedView is a need with the pathways tied to it that the viewer may see.
type NeedView struct {
	integrations.RecruitmentNeed
	Tied []store.TiedCase `json:"tied"`
}

// needViews joins needs with their tied pathways.
func (s *Server) needViews(r *http.Request, ns []integrations.RecruitmentNeed) ([]NeedView, error) {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	tied, err := store.TiedToNeeds(r.Context(), s.Pool, principal(r).Viewer(), ids)
	if err != nil {
		return nil, err
	}
	by := map[string][]store.TiedCase{}
	for _, t := range tied {
		by[t.NeedID] = append(by[t.NeedID], t)
	}
	out := make([]NeedView, len(ns))
	for i, n := range ns {
		out[i] = NeedView{RecruitmentNeed: n, Tied: by[n.ID]}
		if out[i].Tied == nil {
			out[i].Tied = []store.TiedCase{}
		}
	}
	return out, nil
}

func (s *Server) apiNeeds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, prob := queryInt(q, "limit", 100, 500)
	if prob != nil {
		writeProblem(w, http.StatusBadRequest, *prob)
		return
	}
	off, prob := queryInt(q, "offset", 0, 100000)
	if prob != nil {
		writeProblem(w, http.StatusBadRequest, *prob)
		return
	}
	if st := q.Get("status"); st != "" && st != "all" && st != integrations.NeedOpen && st != integrations.NeedFilled &&
		st != integrations.NeedWithdrawn && st != integrations.NeedExpired {
		badRequest(w, "status", "status must be open, filled, withdrawn, expired or all")
		return
	}
	ns, err := s.needs().RecruitmentNeeds(r.Context(), integrations.NeedQuery{SSYK: q.Get("ssyk"), Municipality: q.Get("municipality"),
		EmployerID: q.Get("employer"), Status: q.Get("status")})
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable", Message: "the employer system did not answer: " + err.Error()})
		return
	}
	if c := q.Get("centre"); c != "" {
		kept := ns[:0]
		for _, n := range ns {
			if n.CentreID == "" || n.CentreID == c {
				kept = append(kept, n)
			}
		}
		ns = kept
	}
	total := len(ns)
	ns = ns[min(off, total):min(off+limit, total)]
	views, err := s.needViews(r, ns)
	if err != nil {
		s.internal(w, r, "list tied pathways", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": off, "limit": limit, "items": views})
}

func (s *Server) apiNeed(w http.ResponseWriter, r *http.Request) {
	n, err := s.needs().Need(r.Context(), chi.URLParam(r, "need"))
	if errors.Is(err, integrations.ErrNoNeed) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such recruitment need"})
		return
	}
	if err != nil {
		writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable", Message: "the employer system did not answer: " + err.Error()})
		return
	}
	views, err := s.needViews(r, []integrations.RecruitmentNeed{n})
	if err != nil {
		s.internal(w, r, "list tied pathways", err)
		return
	}
	writeJSON(w, http.StatusOK, views[0])
}

// NeedRequest registers a recruitment need in the employer system.
type NeedRequest struct {
	EmployerID       string `json:"employer_id"`
	CentreID         string `json:"centre_id,omitempty"`
	SSYK             string `json:"ssyk"`
	Title            string `json:"title"`
	Positions        int    `json:"positions"`
	StartDate        string `json:"start_date"`           // YYYY-MM-DD
	ExpiresAt        string `json:"expires_at,omitempty"` // YYYY-MM-DD or RFC 3339
	RequiredTraining string `json:"required_training"`
	ContactRole      string `json:"contact_role"`
}

// registerNeed is the one path for the API and the console.
func (s *Server) registerNeed(r *http.Request, req NeedRequest) (integrations.RecruitmentNeed, int, *Problem) {
	p := principal(r)
	if !p.Can(auth.ActManageNeeds) {
		return integrations.RecruitmentNeed{}, http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role does not manage recruitment needs"}
	}
	var fields []FieldProblem
	bad := func(f, c, m string) { fields = append(fields, FieldProblem{Field: f, Code: c, Message: m}) }
	if !ssykCode.MatchString(req.SSYK) {
		bad("ssyk", "invalid", "must be a four-digit SSYK 2012 code")
	}
	if strings.TrimSpace(req.Title) == "" || len(req.Title) > 200 {
		bad("title", "invalid", "is required, at most 200 characters")
	}
	if req.Positions < 1 || req.Positions > 10000 {
		bad("positions", "invalid", "must be from 1 to 10000")
	}
	start, err := time.Parse(time.DateOnly, req.StartDate)
	if err != nil {
		bad("start_date", "invalid", "must be a date, YYYY-MM-DD")
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		if expires, err = time.Parse(time.DateOnly, req.ExpiresAt); err != nil {
			if expires, err = time.Parse(time.RFC3339, req.ExpiresAt); err != nil {
				bad("expires_at", "invalid", "must be a date, YYYY-MM-DD, or an RFC 3339 time")
			}
		}
	}
	if req.EmployerID == "" {
		bad("employer_id", "required", "is required")
	}
	if len(fields) > 0 {
		return integrations.RecruitmentNeed{}, http.StatusUnprocessableEntity,
			&Problem{Code: "invalid", Field: fields[0].Field, Message: fields[0].Field + ": " + fields[0].Message, Fields: fields}
	}
	// Staff who do not see every centre register needs for their own.
	if req.CentreID == "" && !p.SeesAllCentres() {
		req.CentreID = p.CentreID
	}
	if req.CentreID != "" && !p.CanSeeCentre(req.CentreID) {
		return integrations.RecruitmentNeed{}, http.StatusForbidden, &Problem{Code: "forbidden", Field: "centre_id", Message: "you can register recruitment needs for your own centre only"}
	}
	key, prob := idempotencyKey(r)
	if prob != nil {
		return integrations.RecruitmentNeed{}, http.StatusBadRequest, prob
	}
	n, err := s.needs().RegisterNeed(r.Context(), "need:register:"+p.ID+":"+key, integrations.NewNeed{EmployerID: req.EmployerID,
		SSYK: req.SSYK, Title: strings.TrimSpace(req.Title), Positions: req.Positions, StartDate: start, ExpiresAt: expires,
		RequiredTraining: req.RequiredTraining, ContactRole: req.ContactRole, CentreID: req.CentreID})
	var rej *integrations.Rejected
	switch {
	case errors.As(err, &rej):
		return n, http.StatusUnprocessableEntity, &Problem{Code: "refused", Field: "employer_id", Message: "the employer system refused the need: " + rej.Reason}
	case err != nil:
		return n, http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the employer system did not answer; nothing is known to be registered; send the same request again (same Idempotency-Key)"}
	}
	s.audit(r, store.AuditEntry{Action: "recruitment_need", Detail: map[string]any{"need_id": n.ID, "event": "registered"}})
	return n, http.StatusCreated, nil
}

func (s *Server) apiCreateNeed(w http.ResponseWriter, r *http.Request) {
	var req NeedRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	n, status, prob := s.registerNeed(r, req)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	w.Header().Set("Location", "/api/v1/recruitment-needs/"+n.ID)
	writeJSON(w, http.StatusCreated, n)
}

// NeedStatusRequest marks a need filled or withdrawn, or opens it again.
type NeedStatusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) setNeedStatus(r *http.Request, id string, req NeedStatusRequest) (integrations.RecruitmentNeed, int, *Problem) {
	p := principal(r)
	if !p.Can(auth.ActManageNeeds) {
		return integrations.RecruitmentNeed{}, http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role does not manage recruitment needs"}
	}
	switch req.Status {
	case integrations.NeedOpen, integrations.NeedFilled, integrations.NeedWithdrawn:
	default:
		return integrations.RecruitmentNeed{}, http.StatusUnprocessableEntity, &Problem{Code: "invalid", Field: "status", Message: "status must be open, filled or withdrawn"}
	}
	if len(req.Reason) > 500 {
		return integrations.RecruitmentNeed{}, http.StatusUnprocessableEntity, &Problem{Code: "invalid", Field: "reason", Message: "reason takes at most 500 characters"}
	}
	old, err := s.needs().Need(r.Context(), id)
	if errors.Is(err, integrations.ErrNoNeed) {
		return old, http.StatusNotFound, &Problem{Code: "not_found", Message: "no such recruitment need"}
	}
	if err != nil {
		return old, http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the employer system did not answer; nothing was changed; try again"}
	}
	if !p.SeesAllCentres() && old.CentreID != p.CentreID {
		return old, http.StatusForbidden, &Problem{Code: "forbidden", Message: "this recruitment need belongs to another centre or to all centres; you cannot change it"}
	}
	key, prob := idempotencyKey(r)
	if prob != nil {
		return old, http.StatusBadRequest, prob
	}
	if r.Header.Get(IdempotencyHeader) == "" && r.PostFormValue("idempotency_key") == "" {
		key = uuid.NewString()
	}
	n, err := s.needs().SetNeedStatus(r.Context(), "need:"+id+":status:"+req.Status+":"+key, id, req.Status, req.Reason)
	var rej *integrations.Rejected
	switch {
	case errors.As(err, &rej):
		return n, http.StatusUnprocessableEntity, &Problem{Code: "refused", Field: "status", Message: "the employer system refused: " + rej.Reason}
	case err != nil:
		return n, http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the employer system did not answer; send the same request again (same Idempotency-Key)"}
	}
	s.audit(r, store.AuditEntry{Action: "recruitment_need", Detail: map[string]any{"need_id": id, "event": req.Status}})
	return n, http.StatusOK, nil
}

func (s *Server) apiNeedStatus(w http.ResponseWriter, r *http.Request) {
	var req NeedStatusRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	n, status, prob := s.setNeedStatus(r, chi.URLParam(r, "need"), req)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	writeJSON(w, http.StatusOK, n)
}
