package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/stepactions"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/updates"
)

// Step actions: what a step type declares (steps.Action), reached through
// stepactions.Service from the API, the console and the CLI alike.

func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Post("/pathways/{case}/steps/{step}/{action}", s.apiStepAction)
	})
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Post("/pathways/{case}/steps/{step}/{action}", s.pageStepAction)
	})
	apiOps = append(apiOps, apiOp{method: "post", path: "/pathways/{case}/steps/{step}/{action}",
		summary: "Take an action a running step's type declares (an Update on the step's workflow, e.g. check-in, assess, workshop-result, confirm-step); " +
			"409 not_yet when the step does not take it yet, 202 with a status link when the step has not answered within the wait",
		body: "StepAction", response: "ActionResult", errors: actionErrors})
	schemas["StepAction"] = map[string]any{"type": "object", "additionalProperties": str,
		"description": "the action's declared fields, each a string (e.g. {\"outcome\":\"completed\"})"}
}

// stepActions is the server's step-action service.
func (s *Server) stepActions() *stepactions.Service {
	s.stepActionsOnce.Do(func() {
		s.stepActionsSvc = &stepactions.Service{Temporal: s.Temporal, Pool: s.Pool, Steps: catalog.Registry(), Wait: s.updateTimeout(), Log: s.Log,
			Ready: s.readyToSend}
	})
	return s.stepActionsSvc
}

// runStepAction checks the caller and the case, then hands the action to
// the service; the answer is an HTTP status and, on failure, a Problem.
func (s *Server) runStepAction(r *http.Request, input map[string]string) (stepactions.Result, int, *Problem) {
	caseID, step, action := chi.URLParam(r, "case"), chi.URLParam(r, "step"), chi.URLParam(r, "action")
	p := principal(r)
	svc := s.stepActions()
	if p == nil || !svc.MayAct(p.Roles) {
		return stepactions.Result{}, http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role may not act on steps"}
	}
	if _, status, prob := s.check(r, caseID); prob != nil {
		return stepactions.Result{}, status, prob
	}
	key, prob := idempotencyKey(r)
	if prob != nil {
		return stepactions.Result{}, http.StatusBadRequest, prob
	}
	// A shutdown ends the wait at once: the action answers 202, never "failed".
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.stoppingContext(), cancel)
	defer stop()
	res, err := svc.Do(ctx, stepactions.Request{CaseID: caseID, StepID: step, Action: action, StaffID: p.ID, Roles: p.Roles,
		Key: key, Input: input, Via: viaOf(r), RequestID: middleware.GetReqID(r.Context())})
	var fe *stepactions.FieldError
	var refused *stepactions.Refused
	switch {
	case err == nil && res.Pending:
		return res, http.StatusAccepted, nil
	case err == nil:
		return res, http.StatusOK, nil
	case errors.As(err, &fe):
		return res, http.StatusUnprocessableEntity, &Problem{Code: "invalid", Field: fe.Field, Message: fe.Error()}
	case errors.As(err, &refused):
		return res, http.StatusUnprocessableEntity, &Problem{Code: "refused", Message: refused.Message}
	case errors.Is(err, stepactions.ErrUnknownAction):
		return res, http.StatusNotFound, &Problem{Code: "unknown_action", Message: fmt.Sprintf("step %s declares no action %q", step, action)}
	case errors.Is(err, stepactions.ErrForbidden):
		return res, http.StatusForbidden, &Problem{Code: "forbidden", Message: fmt.Sprintf("your role may not %s", action)}
	case errors.Is(err, stepactions.ErrNotYet):
		return res, http.StatusConflict, &Problem{Code: "not_yet", Message: fmt.Sprintf("step %s does not take %s yet", step, action)}
	case errors.Is(err, stepactions.ErrNotRunning):
		return res, http.StatusConflict, &Problem{Code: "not_found", Message: fmt.Sprintf("step %s is not running (it has ended, or there is no such step)", step)}
	case errors.Is(err, stepactions.ErrWorkerUnavailable):
		return res, http.StatusServiceUnavailable, &Problem{Code: "worker_unavailable", Message: err.Error()}
	case errors.Is(err, updates.ErrNotApplied):
		return res, http.StatusServiceUnavailable, &Problem{Code: "not_applied", Message: err.Error()}
	case errors.Is(err, updates.ErrUnreachable):
		return res, http.StatusServiceUnavailable, &Problem{Code: "temporal_unavailable", Message: err.Error()}
	}
	s.Log.Error("step action", zap.String("action", action), zap.Error(err))
	return res, http.StatusBadGateway, &Problem{Code: "temporal_error", Message: "the workflow service failed; sending it again with the same Idempotency-Key is safe"}
}

func viaOf(r *http.Request) string {
	if len(r.URL.Path) > 8 && r.URL.Path[:8] == "/api/v1/" {
		return "api"
	}
	return "console"
}

func (s *Server) apiStepAction(w http.ResponseWriter, r *http.Request) {
	caseID, action := chi.URLParam(r, "case"), chi.URLParam(r, "action")
	var body map[string]any
	if !decodeJSON(w, r, &body) {
		return
	}
	input := map[string]string{}
	for k, v := range body {
		str, ok := v.(string)
		if !ok {
			writeProblem(w, http.StatusUnprocessableEntity, Problem{Code: "invalid", Field: k, Message: k + " must be a string"})
			return
		}
		input[k] = str
	}
	res, status, prob := s.runStepAction(r, input)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	out := ActionResult{CaseID: caseID, Action: action, ActionID: res.ActionID, State: "completed",
		Result: map[string]string{"step": chi.URLParam(r, "step"), "answer": res.Answer}}
	if status == http.StatusAccepted {
		w.Header().Set("Location", actionPath(caseID, res.ActionID))
		out.State, out.Message, out.Result = "pending", pendingMessage, nil
	}
	writeJSON(w, status, out)
}

func (s *Server) pageStepAction(w http.ResponseWriter, r *http.Request) {
	caseID, step := chi.URLParam(r, "case"), chi.URLParam(r, "step")
	l := lang.For(r)
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	input := map[string]string{}
	for k, v := range r.PostForm {
		if k != "csrf" && k != "idempotency_key" && len(v) > 0 && v[0] != "" {
			input[k] = v[0]
		}
	}
	_, status, prob := s.runStepAction(r, input)
	switch {
	case status == http.StatusAccepted:
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(l.T("stepactions.pending", "Step", step)), http.StatusSeeOther)
	case prob != nil && (status == http.StatusForbidden || status == http.StatusNotFound):
		s.pageError(w, r, status, problemText(l, prob))
	case prob != nil && status == http.StatusServiceUnavailable:
		s.showPathway(w, r, caseID, status, nil, problemText(l, prob))
	case prob != nil:
		// Shown above the plan, beside the step's form.
		s.showPathway(w, r, caseID, status, map[string]string{"confirm": l.T("stepactions.refused", "Step", step, "Message", problemText(l, prob))}, "")
	default:
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(l.T("stepactions.recorded", "Step", step)), http.StatusSeeOther)
	}
}

// stepForms are the forms of one running step on the case page.
type stepForms struct {
	Case, Step, CSRF string
	Actions          []steps.Action
}

// addStepForms puts, per running step, the actions the signed-in staff
// member may take now into the page's data.
func (s *Server) addStepForms(r *http.Request, caseID string, live *pathway.Status, data map[string]any) {
	p := principal(r)
	forms := map[string]stepForms{}
	if live == nil || p == nil {
		data["StepForms"] = forms
		return
	}
	for _, st := range live.Steps {
		if st.Status != pathway.StepRunning {
			continue
		}
		open, err := s.stepActions().Open(r.Context(), caseID, st.ID, p.Roles)
		if err != nil && !errors.Is(err, stepactions.ErrNotRunning) {
			s.partial(r.Context(), "step actions", err)
		}
		if len(open) > 0 {
			forms[st.ID] = stepForms{Case: caseID, Step: st.ID, CSRF: s.Auth.CSRFToken(p.Session), Actions: open}
		}
	}
	data["StepForms"] = forms
}
