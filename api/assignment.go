package api

import (
	"embed"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/assignment"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// Assignment: team leads hand the cases of their centre to its staff
// (package assignment decides and audits; this file only speaks HTTP).

//go:embed templates/layout.html templates/assignments.html
var assignmentTemplates embed.FS

func init() {
	parsePage("assignments", assignmentTemplates, "templates/layout.html", "templates/assignments.html")
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Put("/pathways/{case}/assignee", s.apiAssign)
	})
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/assignments", s.pageAssignments)
		r.Post("/assignments", s.pageAssign)
	})
}

// assign runs one assignment as the request's principal and says what to
// answer when it is refused.
func (s *Server) assign(r *http.Request, caseID, assignee string) (assignment.Result, int, *Problem) {
	p := principal(r)
	res, err := assignment.Assign(r.Context(), s.Pool, assignment.Request{CaseID: caseID, Assignee: assignee,
		StaffID: p.ID, RequestID: middleware.GetReqID(r.Context())})
	l := lang.For(r)
	var fe *assignment.FieldError
	switch {
	case err == nil:
		return res, http.StatusOK, nil
	case errors.As(err, &fe):
		msg := l.T("assignment.err_"+fe.Code, "Centre", res.CentreID)
		return res, http.StatusUnprocessableEntity, &Problem{Code: "invalid", Field: fe.Field, Message: msg,
			Fields: []FieldProblem{{Field: fe.Field, Code: fe.Code, Message: msg}}}
	case errors.Is(err, assignment.ErrNotFound):
		return res, http.StatusNotFound, &Problem{Code: "not_found", Field: "case_id", Message: l.T("assignment.not_found")}
	case errors.Is(err, assignment.ErrForbidden):
		s.audit(r, store.AuditEntry{Action: store.AuditDenied, CaseID: caseID, Detail: map[string]any{"action": assignment.AuditAssign}})
		return res, http.StatusForbidden, &Problem{Code: "forbidden", Message: l.T("assignment.forbidden")}
	}
	s.Log.Error("assign case", zap.Error(err))
	return res, http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: l.T("assignment.unavailable")}
}

// PUT /api/v1/pathways/{case}/assignee {"assignee": "<staff ID>"}: assign
// or reassign the case. Assigning the current assignee again changes nothing.
func (s *Server) apiAssign(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Assignee string `json:"assignee"`
	}
	if !decodeJSON(w, r, &b) {
		return
	}
	res, status, prob := s.assign(r, chi.URLParam(r, "case"), b.Assignee)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type assignmentsView struct {
	Cases []store.PathwayRow
	Staff []store.Staff
	Error string
	Field string
	Case  string // the case ID of a refused form, to show it again
}

// GET /assignments: the team lead's centre's active cases (those they may
// see), each with its assignee and a form to change it; a protected case a
// colleague holds is handed over by its case ID.
func (s *Server) pageAssignments(w http.ResponseWriter, r *http.Request) {
	s.renderAssignments(w, r, http.StatusOK, assignmentsView{})
}

func (s *Server) renderAssignments(w http.ResponseWriter, r *http.Request, status int, v assignmentsView) {
	p := principal(r)
	if !p.HasRole(store.RoleTeamLead) {
		http.Error(w, lang.For(r).T("assignment.forbidden"), http.StatusForbidden)
		return
	}
	page, err := store.ListVisiblePathways(r.Context(), s.Pool, p.Viewer(), store.PathwayFilter{CentreIDs: []string{p.CentreID},
		Status: "active", Sort: "case_id", Limit: 200, After: r.URL.Query().Get("after")})
	s.partial(r.Context(), "the centre's cases", err)
	v.Cases = page.Items
	staff, err := store.ListStaff(r.Context(), s.Pool, []string{p.CentreID})
	s.partial(r.Context(), "the centre's staff", err)
	for _, st := range staff {
		if st.Active {
			v.Staff = append(v.Staff, st)
		}
	}
	s.render(w, r, status, "assignments", "assignment.title", v)
}

// POST /assignments: assign one case from the page.
func (s *Server) pageAssign(w http.ResponseWriter, r *http.Request) {
	caseID := r.PostFormValue("case_id")
	res, status, prob := s.assign(r, caseID, r.PostFormValue("assignee"))
	if prob != nil {
		if status == http.StatusForbidden && !principal(r).HasRole(store.RoleTeamLead) {
			http.Error(w, prob.Message, status)
			return
		}
		s.renderAssignments(w, r, status, assignmentsView{Error: prob.Message, Field: prob.Field, Case: caseID})
		return
	}
	flash := lang.For(r).T("assignment.done", "Case", res.CaseID, "Staff", res.To)
	http.Redirect(w, r, "/assignments?flash="+url.QueryEscape(flash), http.StatusSeeOther)
}
