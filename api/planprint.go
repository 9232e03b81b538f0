package api

import (
	"embed"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/taxonomy"
)

// The printable plan (handlingsplan) for the participant: the current plan,
// its dates, the contact person and what happens next, in plain words. It
// holds personal data, so it is for roles that read it, and every printing
// is audited before the page is shown.

//go:embed templates/layout.html templates/handlingsplan.html
var planTemplates embed.FS

// AuditPrintPlan records that a participant's plan was opened for printing.
const AuditPrintPlan = "print_plan"

func init() {
	parsePage("handlingsplan", planTemplates, "templates/layout.html", "templates/handlingsplan.html")
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/pathways/{case}/handlingsplan", s.pagePlanPrint)
	})
}

// planStep is one step of the plan as the participant reads it.
type planStep struct {
	Title, Status string
	Start, End    time.Time
}

func (s *Server) pagePlanPrint(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	l := lang.For(r)
	row, code, prob := s.check(r, caseID)
	if prob != nil {
		s.pageError(w, r, code, prob.Message)
		return
	}
	if !principal(r).Can(auth.ActReadPersonal) {
		s.pageError(w, r, http.StatusForbidden, l.T("planprint.err_role"))
		return
	}
	pid, err := uuid.Parse(row.ParticipantID)
	if err == nil {
		err = s.mustAudit(r, store.AuditEntry{Action: AuditPrintPlan, CaseID: caseID, ParticipantID: &pid, Detail: map[string]any{"via": "console"}})
	}
	if err != nil {
		s.Log.Error("audit plan print", zap.Error(err))
		s.pageError(w, r, http.StatusServiceUnavailable, l.T("planprint.err_unavailable"))
		return
	}
	person, err := store.GetParticipantByCase(r.Context(), s.Pool, s.Keys, caseID)
	if err != nil {
		s.Log.Error("plan print: participant", zap.Error(err))
		s.pageError(w, r, http.StatusInternalServerError, l.T("planprint.err_unavailable"))
		return
	}
	data := map[string]any{"Row": row, "Person": person, "Today": time.Now()}
	if c, err := store.GetCentre(r.Context(), s.Pool, row.CentreID); err == nil {
		data["Centre"] = c
	}
	if row.Assignee != "" {
		if st, err := store.GetStaff(r.Context(), s.Pool, row.Assignee); err == nil {
			data["Contact"] = st
		}
	}
	live := s.liveStatus(r.Context(), caseID)
	data["Live"] = live != nil
	limit := row.TimeLimitAt
	var steps []planStep
	if live != nil {
		if !live.Deadlines.TimeLimit.IsZero() {
			limit = &live.Deadlines.TimeLimit
		}
		for _, st := range live.Steps {
			end := st.EndedAt
			if end.IsZero() {
				end = st.PlannedEnd
			}
			steps = append(steps, planStep{Title: st.Title, Status: l.T("planprint.status_" + st.Status), Start: st.StartedAt, End: end})
		}
		if live.TargetSSYK != "" {
			data["Target"] = taxonomy.OccupationGroup(live.TargetSSYK)
		}
		data["Next"] = nextSteps(l, live)
	}
	data["TimeLimit"], data["Steps"] = limit, steps
	s.render(w, r, http.StatusOK, "handlingsplan", "planprint.title", data)
}

// nextSteps says in plain words what happens next in the pathway.
func nextSteps(l *lang.Localizer, st *pathway.Status) []string {
	var out []string
	if st.Paused {
		out = append(out, l.T("planprint.next_paused"))
	}
	switch st.Phase {
	case pathway.PhaseReferral:
		out = append(out, l.T("planprint.next_contact", "Date", l.Date(st.Deadlines.FirstContact)))
	case pathway.PhaseMapping:
		out = append(out, l.T("planprint.next_mapping", "Date", l.Date(st.Deadlines.Mapping)))
	case pathway.PhasePlanning:
		out = append(out, l.T("planprint.next_planning"))
	case pathway.PhaseSteps:
		for i, s := range st.Steps {
			if s.Status == pathway.StepRunning {
				out = append(out, l.T("planprint.next_running", "Step", s.Title, "Date", l.Date(s.PlannedEnd)))
				if i+1 < len(st.Steps) {
					out = append(out, l.T("planprint.next_then", "Step", st.Steps[i+1].Title))
				}
				break
			}
		}
	case pathway.PhaseOutcome:
		out = append(out, l.T("planprint.next_outcome"))
	case pathway.PhaseFollowUp:
		out = append(out, l.T("planprint.next_followup"))
	case pathway.PhaseClosed:
		out = append(out, l.T("planprint.next_closed"))
	}
	if len(out) == 0 {
		out = append(out, l.T("planprint.next_contact_us"))
	}
	return out
}
