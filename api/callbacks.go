package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/callbacks"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/komvux"
)

// The education system's completion callback: a public route whose URL,
// signed per step (package callbacks), was handed over at enrolment. The
// result is relayed to the step's workflow as the signal komvux.SignalResult;
// the step ignores a duplicate or one for another enrolment.

func init() {
	public = append(public, func(s *Server, r chi.Router) {
		r.Post(callbacks.EducationPath, s.educationCallback)
	})
}

func (s *Server) educationCallback(w http.ResponseWriter, r *http.Request) {
	caseID, step := chi.URLParam(r, "case"), chi.URLParam(r, "step")
	if !callbacks.Valid(s.Keys, caseID, step, r.URL.Query().Get("sig")) {
		writeProblem(w, http.StatusForbidden, Problem{Code: "forbidden", Field: "sig", Message: "the callback URL's signature does not match its case and step"})
		return
	}
	var res komvux.Result
	if !decodeJSON(w, r, &res) {
		return
	}
	switch {
	case res.EnrolmentID == "":
		writeProblem(w, http.StatusUnprocessableEntity, Problem{Code: "invalid", Field: "enrolment_id", Message: "enrolment_id is required"})
		return
	case res.Status == "":
		writeProblem(w, http.StatusUnprocessableEntity, Problem{Code: "invalid", Field: "status", Message: "status is required"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	err := s.Temporal.SignalWorkflow(ctx, pathway.StepWorkflowID(caseID, step), "", komvux.SignalResult, res)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		// The step has ended (a late or repeated call): nothing to relay,
		// and nothing the education system should send again.
		writeJSON(w, http.StatusOK, map[string]any{"relayed": false, "message": "the step is no longer running"})
		return
	case err != nil:
		s.Log.Warn("education callback not relayed", zap.String("case_id", caseID), zap.String("step", step), zap.Error(err))
		writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "temporal_unavailable", Message: "the result could not be relayed now; call again"})
		return
	}
	s.Log.Info("education callback relayed", zap.String("case_id", caseID), zap.String("step", step), zap.String("status", res.Status))
	writeJSON(w, http.StatusAccepted, map[string]any{"relayed": true})
}
