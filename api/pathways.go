package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

func init() { routes = append(routes, mountPathwayAPI) }

func mountPathwayAPI(s *Server, r chi.Router) {
	r.Get("/me", s.apiMe)
	r.Get("/centres", s.apiCentres)
	r.Get("/staff", s.apiStaff)
	r.Get("/pathways", s.apiListPathways)
	r.Post("/pathways", s.apiStartPathway)
	r.Get("/pathways/{case}", s.apiGetPathway)
	r.Get("/pathways/{case}/timeline", s.apiTimeline)
	r.Get("/pathways/{case}/participant", s.apiParticipant)
	r.Get("/pathways/{case}/tasks", s.apiCaseTasks)
	r.Post("/pathways/{case}/{action}", s.apiAction)
	r.Get("/tasks", s.apiTasks)
	r.Get("/employers", s.apiEmployers)
	r.Get("/recruitment-needs", s.apiNeeds)
	r.Post("/recruitment-needs", s.apiCreateNeed)
	r.Get("/recruitment-needs/{need}", s.apiNeed)
	r.Post("/recruitment-needs/{need}/status", s.apiNeedStatus)
	r.Get("/audit", s.apiAudit)
	r.Get("/outcomes", s.apiOutcomes)
}

func principal(r *http.Request) *auth.Principal { return auth.From(r.Context()) }

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.Log.Error(what, zap.Error(err))
	writeProblem(w, http.StatusInternalServerError, Problem{Code: "internal", Message: what + " failed"})
}

func badRequest(w http.ResponseWriter, field, msg string) {
	writeProblem(w, http.StatusBadRequest, Problem{Code: "bad_request", Message: msg, Field: field})
}

func forbidden(w http.ResponseWriter, msg string) {
	writeProblem(w, http.StatusForbidden, Problem{Code: "forbidden", Message: msg})
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var can []string
	for a := range auth.Permissions {
		if p.Can(a) {
			can = append(can, a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"staff": p.Staff, "all_centres": p.SeesAllCentres(), "can": can})
}

func (s *Server) apiCentres(w http.ResponseWriter, r *http.Request) {
	cs, err := store.ListCentres(r.Context(), s.Pool)
	if err != nil {
		s.internal(w, r, "list centres", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": cs})
}

func (s *Server) apiStaff(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	var centres []string
	if !p.SeesAllCentres() {
		centres = []string{p.CentreID}
	} else if c := r.URL.Query().Get("centre"); c != "" {
		centres = []string{c}
	}
	st, err := store.ListStaff(r.Context(), s.Pool, centres)
	if err != nil {
		s.internal(w, r, "list staff", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": st})
}

// caseloadFilter reads the list query parameters; a bad value is a field error.
func caseloadFilter(q map[string][]string) (store.PathwayFilter, *Problem) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := store.PathwayFilter{Status: get("status"), Phase: get("phase"), Track: get("track"), Assignee: get("assignee"), Sort: get("sort"), After: get("after")}
	if c := get("centre"); c != "" {
		f.CentreIDs = []string{c}
	}
	num := func(k string, def, max int) (int, *Problem) {
		v := get(k)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > max {
			return 0, &Problem{Code: "invalid", Field: k, Message: fmt.Sprintf("%s must be a whole number from 0 to %d", k, max)}
		}
		return n, nil
	}
	var p *Problem
	if f.Limit, p = num("limit", 50, 500); p != nil {
		return f, p
	}
	if f.Offset, p = num("offset", 0, 10_000_000); p != nil {
		return f, p
	}
	if f.StalledDays, p = num("stalled", 0, 3650); p != nil {
		return f, p
	}
	switch get("overdue") {
	case "", "false", "0":
	case "true", "1", "on":
		f.Overdue = true
	default:
		return f, &Problem{Code: "invalid", Field: "overdue", Message: "overdue must be true or false"}
	}
	if p := oneOf("phase", f.Phase, pathway.PhaseReferral, pathway.PhaseMapping, pathway.PhasePlanning, pathway.PhaseSteps,
		pathway.PhaseOutcome, pathway.PhaseFollowUp, pathway.PhaseClosed); p != nil {
		return f, p
	}
	if p := oneOf("track", f.Track, pathway.TrackYouth, pathway.TrackAdult); p != nil {
		return f, p
	}
	if f.Status != "" && f.Status != "active" && f.Status != "closed" {
		return f, &Problem{Code: "invalid", Field: "status", Message: "status must be active or closed"}
	}
	if f.Sort != "" {
		ok := false
		for _, s := range store.SortFields() {
			if strings.TrimPrefix(f.Sort, "-") == s {
				ok = true
			}
		}
		if !ok {
			return f, &Problem{Code: "invalid", Field: "sort", Message: "sort must be one of " + strings.Join(store.SortFields(), ", ") + " (prefix - for descending)"}
		}
	}
	return f, nil
}

func (s *Server) apiListPathways(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	f, prob := caseloadFilter(r.URL.Query())
	if prob != nil {
		writeProblem(w, http.StatusBadRequest, *prob)
		return
	}
	if len(f.CentreIDs) == 1 && !p.CanSeeCentre(f.CentreIDs[0]) {
		forbidden(w, "you can see your own centre's pathways only")
		return
	}
	kind, status, prob := s.applySearch(r, r.URL.Query().Get("q"), "api", &f)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	page, err := store.ListVisiblePathways(r.Context(), s.Pool, p.Viewer(), f)
	if errors.Is(err, store.ErrBadCursor) {
		badRequest(w, "after", err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, "list pathways", err)
		return
	}
	if kind == searchName && len(page.Items) > 0 {
		// Confirm the blind index's candidates on their decrypted names.
		names := s.shownNames(r, "search", "api", caseIDsOf(page.Items))
		if names == nil {
			writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable", Message: lang.For(r).T("search.err_unavailable")})
			return
		}
		page.Items = confirmNames(page.Items, names, r.URL.Query().Get("q"))
	} else if kind != "" {
		if err := s.auditResults(r, kind, page.Items); err != nil {
			s.internal(w, r, "audit search", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, page)
}

// access loads a pathway the principal may see: 404 when it does not exist
// or is a protected identity not assigned to them, 403 across centres.
func (s *Server) access(w http.ResponseWriter, r *http.Request, caseID string) (store.PathwayRow, bool) {
	p := principal(r)
	var row store.PathwayRow
	var protected bool
	var err error
	if cr := readCase(r.Context(), caseID); cr != nil {
		row, protected = cr.Row, cr.Protected
		if !cr.Found {
			err = store.ErrNotFound
		}
	} else {
		row, protected, err = store.GetPathwayAccess(r.Context(), s.Pool, caseID)
	}
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such pathway"})
		return row, false
	}
	if err != nil {
		s.internal(w, r, "read pathway", err)
		return row, false
	}
	if protected && row.Assignee != p.ID {
		s.audit(r, store.AuditEntry{Action: store.AuditDenied, CaseID: caseID, Detail: map[string]any{"reason": "protected_identity"}})
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such pathway"})
		return row, false
	}
	if !p.CanSeeCentre(row.CentreID) {
		s.audit(r, store.AuditEntry{Action: store.AuditDenied, CaseID: caseID, Detail: map[string]any{"reason": "other_centre"}})
		forbidden(w, "this pathway belongs to another centre")
		return row, false
	}
	return row, true
}

// liveStatus asks the workflow for its status, briefly; nil when unreachable.
func (s *Server) liveStatus(ctx context.Context, caseID string) *pathway.Status {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	v, err := s.Temporal.QueryWorkflow(ctx, pathway.WorkflowID(caseID), "", pathway.QueryStatus)
	if err != nil {
		return nil
	}
	var st pathway.Status
	if err := v.Get(&st); err != nil {
		return nil
	}
	return &st
}

// PathwayView is a pathway with its live status and links.
type PathwayView struct {
	Pathway    store.PathwayRow `json:"pathway"`
	Live       *pathway.Status  `json:"live"`
	TemporalUI string           `json:"temporal_ui"`
}

func (s *Server) temporalURL(caseID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", strings.TrimRight(s.Config.Temporal.UIURL, "/"), s.Config.Temporal.Namespace, pathway.WorkflowID(caseID))
}

func (s *Server) apiGetPathway(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	row, ok := s.access(w, r, caseID)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, PathwayView{Pathway: row, Live: s.liveStatus(r.Context(), caseID), TemporalUI: s.temporalURL(caseID)})
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	row, ok := s.access(w, r, caseID)
	if !ok {
		return
	}
	// The timeline holds mapping content and grades: a read of personal data.
	if err := s.auditTimeline(r, row, "api"); err != nil {
		s.internal(w, r, "audit timeline read", err)
		return
	}
	tl, err := store.Timeline(r.Context(), s.Pool, s.Keys, caseID)
	if err != nil {
		s.internal(w, r, "read timeline", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": tl})
}

// ParticipantView is the person behind a case: personal data, audited.
type ParticipantView struct {
	store.Participant
	Consents []store.Consent `json:"consents"`
}

// auditTimeline records a read of a case's timeline. No audit row, no data.
func (s *Server) auditTimeline(r *http.Request, row store.PathwayRow, via string) error {
	pid, err := uuid.Parse(row.ParticipantID)
	if err != nil {
		return err
	}
	return s.mustAudit(r, store.AuditEntry{Action: store.AuditReadPersonalData, CaseID: row.CaseID, ParticipantID: &pid,
		Detail: map[string]any{"via": via, "what": "timeline"}})
}

// readParticipant audits, then reads. No audit row, no data.
func (s *Server) readParticipant(r *http.Request, row store.PathwayRow, purpose string) (ParticipantView, error) {
	pid, err := uuid.Parse(row.ParticipantID)
	if err != nil {
		return ParticipantView{}, err
	}
	if err := s.mustAudit(r, store.AuditEntry{Action: store.AuditReadPersonalData, CaseID: row.CaseID, ParticipantID: &pid,
		Detail: map[string]any{"via": purpose}}); err != nil {
		return ParticipantView{}, err
	}
	pa, err := store.GetParticipantByCase(r.Context(), s.Pool, s.Keys, row.CaseID)
	if err != nil {
		return ParticipantView{}, err
	}
	cs, err := store.Consents(r.Context(), s.Pool, pid)
	return ParticipantView{Participant: pa, Consents: cs}, err
}

func (s *Server) apiParticipant(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	row, ok := s.access(w, r, caseID)
	if !ok {
		return
	}
	if !principal(r).Can(auth.ActReadPersonal) {
		forbidden(w, "your role does not read participants' personal data")
		return
	}
	v, err := s.readParticipant(r, row, "api")
	if err != nil {
		s.internal(w, r, "read participant", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiCaseTasks(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	if _, ok := s.access(w, r, caseID); !ok {
		return
	}
	page, err := store.ListTasks(r.Context(), s.Pool, store.TaskFilter{CaseID: caseID, Status: r.URL.Query().Get("status"), Limit: 500})
	if err != nil {
		s.internal(w, r, "list tasks", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// StartRequest is a referral plus the scope of the registered consent.
type StartRequest struct {
	cases.Referral
	ConsentScope []string `json:"consent_scope,omitempty"`
}

// DefaultConsentScope is what a referral's consent covers unless told otherwise.
var DefaultConsentScope = cases.DefaultConsentScope

// startPathway is shared by the API and the console. It applies the access
// rules before the case service validates and starts.
func (s *Server) startPathway(r *http.Request, req StartRequest, via string) (cases.Started, int, *Problem) {
	p := principal(r)
	if !p.Can(auth.ActStart) {
		return cases.Started{}, http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role does not start pathways"}
	}
	ref := req.Referral
	if status, prob := s.referralRules(r.Context(), p, &ref); prob != nil {
		return cases.Started{}, status, prob
	}
	// The case service records the consent and the audit row with the case.
	ref.ConsentScope, ref.StaffID, ref.Via, ref.RequestID = req.ConsentScope, p.ID, via, middleware.GetReqID(r.Context())
	started, err := s.Cases.Start(r.Context(), ref)
	var invalid *cases.InvalidError
	switch {
	case errors.As(err, &invalid):
		pr := Problem{Code: "invalid", Message: "the referral was refused; nothing was written"}
		for _, f := range invalid.Fields {
			pr.Fields = append(pr.Fields, FieldProblem{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		if len(pr.Fields) > 0 {
			pr.Field, pr.Message = pr.Fields[0].Field, pr.Fields[0].Field+": "+pr.Fields[0].Message
		}
		return started, http.StatusUnprocessableEntity, &pr
	case errors.Is(err, cases.ErrDuplicate):
		if status, prob, forwarded := s.forwardDuplicate(r, ref); forwarded {
			return started, status, prob
		}
		return started, http.StatusConflict, &Problem{Code: cases.ErrDuplicate.Code, Field: "personal_number", Message: cases.ErrDuplicate.Message,
			Fields: []FieldProblem{{Field: "personal_number", Code: cases.ErrDuplicate.Code, Message: cases.ErrDuplicate.Message}}}
	case errors.Is(err, cases.ErrUnconfirmed):
		s.Log.Error("start pathway", zap.Error(err))
		return started, http.StatusServiceUnavailable, &Problem{Code: "start_unconfirmed", Message: cases.ErrUnconfirmed.Error()}
	case err != nil && started.CaseID != "":
		// The case is registered; the worker's reconciler starts its workflow.
		s.Log.Warn("start pathway: workflow start left to the reconciler", zap.String("case_id", started.CaseID), zap.Error(err))
		started.Pending = true
	case err != nil:
		s.Log.Error("start pathway", zap.Error(err))
		return started, http.StatusServiceUnavailable, &Problem{Code: "start_failed", Message: "the pathway could not be started; nothing was written; try again"}
	}
	return started, http.StatusCreated, nil
}

// referralRules are the access rules of a start beyond the role, for the
// API, the console and the console's import: staff start pathways for their
// own centre only unless their role sees all, and a protected identity gets
// an existing assignee of its centre (the starter, when none is named).
func (s *Server) referralRules(ctx context.Context, p *auth.Principal, ref *cases.Referral) (int, *Problem) {
	centre := s.referralCentre(ctx, *ref)
	if !p.SeesAllCentres() && centre != "" && centre != p.CentreID {
		return http.StatusForbidden, &Problem{Code: "forbidden", Field: "centre_id",
			Message: fmt.Sprintf("this referral belongs to centre %s; only its staff can start it", centre)}
	}
	// A protected identity is visible to its assignee only: someone of the
	// centre must be, and must exist.
	if ref.ProtectedIdentity && ref.Assignee == "" && (centre == "" || centre == p.CentreID) {
		ref.Assignee = p.ID
	}
	if prob := s.checkAssignee(ctx, *ref, centre); prob != nil {
		if prob.Code == "invalid" {
			return http.StatusUnprocessableEntity, prob
		}
		return http.StatusServiceUnavailable, prob
	}
	return http.StatusOK, nil
}

func (s *Server) apiStartPathway(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	started, status, prob := s.startPathway(r, req, "api")
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	if status == http.StatusAccepted {
		writeJSON(w, status, referralReceived)
		return
	}
	w.Header().Set("Location", "/api/v1/pathways/"+started.CaseID)
	writeJSON(w, http.StatusCreated, started)
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := r.URL.Query()
	v := p.Viewer()
	f := store.TaskFilter{Role: q.Get("role"), Assignee: q.Get("assignee"), Status: q.Get("status"), Viewer: &v, After: q.Get("after")}
	switch q.Get("scope") {
	case "mine":
		f.Assignee = p.ID
	case "role":
		if len(p.Roles) > 0 && f.Role == "" {
			f.Role = p.Roles[0]
		}
	case "", "all":
	default:
		badRequest(w, "scope", "scope must be mine, role or all")
		return
	}
	if c := q.Get("centre"); c != "" {
		if !p.CanSeeCentre(c) {
			forbidden(w, "you can see your own centre's tasks only")
			return
		}
		f.CentreIDs = []string{c}
	} else if !p.SeesAllCentres() {
		f.CentreIDs = []string{p.CentreID}
	}
	var prob *Problem
	if f.Limit, prob = queryInt(q, "limit", 50, 500); prob == nil {
		f.Offset, prob = queryInt(q, "offset", 0, 10_000_000)
	}
	if prob != nil {
		writeProblem(w, http.StatusBadRequest, *prob)
		return
	}
	page, err := store.ListTasks(r.Context(), s.Pool, f)
	if errors.Is(err, store.ErrBadCursor) {
		badRequest(w, "after", err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, "list tasks", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiEmployers(w http.ResponseWriter, r *http.Request) {
	es, err := store.ListEmployers(r.Context(), s.Pool)
	if err != nil {
		s.internal(w, r, "list employers", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": es})
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !p.Can(auth.ActReadAudit) {
		forbidden(w, "your role does not review the audit log")
		return
	}
	q := r.URL.Query()
	v := p.Viewer()
	f := store.AuditFilter{StaffID: q.Get("staff"), CaseID: q.Get("case"), Viewer: &v}
	if f.CaseID != "" {
		if _, ok := s.access(w, r, f.CaseID); !ok {
			return
		}
	} else if !p.SeesAllCentres() && f.StaffID == "" {
		forbidden(w, "name a case or a staff member")
		return
	}
	if f.StaffID != "" && !p.SeesAllCentres() && !s.sameCentreStaff(r, f.StaffID) {
		forbidden(w, "you can review your own centre's staff only")
		return
	}
	var prob *Problem
	if f.Limit, prob = queryInt(q, "limit", 100, 1000); prob != nil {
		writeProblem(w, http.StatusBadRequest, *prob)
		return
	}
	es, err := store.ListAudit(r.Context(), s.Pool, f)
	if err != nil {
		s.internal(w, r, "read audit", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": es})
}
