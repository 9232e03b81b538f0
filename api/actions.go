package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/store"
)

// Action is a staff action on a pathway: the URL segment, the Update it
// sends, and a fresh message to decode the body into.
type Action struct {
	Name    string
	Update  string
	Message func() any
	// actor points into the message so the handler can set the staff ID.
	actor func(any) *pathway.Actor
}

func act[T any](name, update string, actor func(*T) *pathway.Actor) Action {
	return Action{Name: name, Update: update, Message: func() any { return new(T) },
		actor: func(m any) *pathway.Actor { return actor(m.(*T)) }}
}

// Actions lists every staff action of the pathway contract.
var Actions = map[string]Action{
	auth.ActFirstContact: act(auth.ActFirstContact, pathway.UpdateFirstContact, func(m *pathway.FirstContact) *pathway.Actor { return &m.Actor }),
	auth.ActMapping:      act(auth.ActMapping, pathway.UpdateMapping, func(m *pathway.Mapping) *pathway.Actor { return &m.Actor }),
	auth.ActPlan:         act(auth.ActPlan, pathway.UpdateApprovePlan, func(m *pathway.Plan) *pathway.Actor { return &m.Actor }),
	auth.ActOutcome:      act(auth.ActOutcome, pathway.UpdateOutcome, func(m *outcomeBody) *pathway.Actor { return &m.Actor }),
	auth.ActFollowUp:     act(auth.ActFollowUp, pathway.UpdateFollowUp, func(m *pathway.FollowUp) *pathway.Actor { return &m.Actor }),
	auth.ActPause:        act(auth.ActPause, pathway.UpdatePause, func(m *pathway.Pause) *pathway.Actor { return &m.Actor }),
	auth.ActResume:       act(auth.ActResume, pathway.UpdateResume, func(m *pathway.Actor) *pathway.Actor { return m }),
	auth.ActTransfer:     act(auth.ActTransfer, pathway.UpdateTransfer, func(m *pathway.Transfer) *pathway.Actor { return &m.Actor }),
	auth.ActClose:        act(auth.ActClose, pathway.UpdateClose, func(m *pathway.Close) *pathway.Actor { return &m.Actor }),
	auth.ActCompleteTask: act(auth.ActCompleteTask, pathway.UpdateCompleteTask, func(m *pathway.CompleteTask) *pathway.Actor { return &m.Actor }),
}

// outcomeBody accepts start_date as a plain date as well as a timestamp.
type outcomeBody struct {
	pathway.Actor
	Kind      string `json:"kind"`
	StartDate string `json:"start_date"`
	Employer  string `json:"employer"`
	SSYK      string `json:"ssyk,omitempty"`
}

func (o *outcomeBody) message() (pathway.Outcome, *Problem) {
	out := pathway.Outcome{Actor: o.Actor, Kind: o.Kind, Employer: o.Employer, SSYK: o.SSYK}
	if o.StartDate != "" {
		t, err := time.Parse(time.DateOnly, o.StartDate)
		if err != nil {
			t, err = time.Parse(time.RFC3339, o.StartDate)
		}
		if err != nil {
			return out, &Problem{Code: "invalid", Field: "start_date", Message: "start_date must be a date, YYYY-MM-DD"}
		}
		out.StartDate = t
	}
	return out, nil
}

// ActionResult is the answer to a staff action: the pathway's new status.
type ActionResult struct {
	CaseID string          `json:"case_id"`
	Action string          `json:"action"`
	Status *pathway.Status `json:"status,omitempty"`
	Result any             `json:"result,omitempty"`
}

func (s *Server) apiAction(w http.ResponseWriter, r *http.Request) {
	caseID, name := chi.URLParam(r, "case"), chi.URLParam(r, "action")
	a, ok := Actions[name]
	if !ok {
		writeProblem(w, http.StatusNotFound, Problem{Code: "unknown_action", Message: fmt.Sprintf("no action %q", name)})
		return
	}
	msg := a.Message()
	if !decodeJSON(w, r, msg) {
		return
	}
	st, status, prob := s.runAction(r, caseID, a, msg)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	writeJSON(w, http.StatusOK, ActionResult{CaseID: caseID, Action: name, Status: st})
}

// runAction checks access and role, then sends the Update and waits for it,
// bounded: it is shared by the API and the console.
func (s *Server) runAction(r *http.Request, caseID string, a Action, msg any) (*pathway.Status, int, *Problem) {
	p := principal(r)
	if !p.Can(a.Name) {
		return nil, http.StatusForbidden, &Problem{Code: "forbidden", Message: fmt.Sprintf("your role may not %s", a.Name)}
	}
	row, status, prob := s.check(r, caseID)
	if prob != nil {
		return nil, status, prob
	}
	*a.actor(msg) = pathway.Actor{StaffID: p.ID}
	arg := msg
	if o, ok := msg.(*outcomeBody); ok {
		m, prob := o.message()
		if prob != nil {
			return nil, http.StatusUnprocessableEntity, prob
		}
		arg = m
	}
	if t, ok := msg.(*pathway.Transfer); ok && t.ToCentre != "" {
		if _, err := store.GetCentre(r.Context(), s.Pool, t.ToCentre); errors.Is(err, store.ErrNotFound) {
			return nil, http.StatusUnprocessableEntity, &Problem{Code: "refused", Field: "to_centre", Message: fmt.Sprintf("no centre %q", t.ToCentre)}
		}
	}
	var st pathway.Status
	status, prob = s.update(r.Context(), pathway.WorkflowID(caseID), a.Update, arg, &st)
	pid, _ := uuid.Parse(row.ParticipantID)
	detail := map[string]any{"action": a.Name, "result": "ok"}
	if prob != nil {
		detail["result"], detail["code"] = "refused", prob.Code
	}
	s.audit(r, store.AuditEntry{Action: store.AuditAction, CaseID: caseID, ParticipantID: &pid, Detail: detail})
	if prob != nil {
		return nil, status, prob
	}
	return &st, http.StatusOK, nil
}

// check is access() without writing the response.
func (s *Server) check(r *http.Request, caseID string) (store.PathwayRow, int, *Problem) {
	rec := &problemRecorder{header: http.Header{}}
	row, ok := s.access(rec, r, caseID)
	if !ok {
		return row, rec.status, rec.problem()
	}
	return row, http.StatusOK, nil
}

func (s *Server) apiConfirmStep(w http.ResponseWriter, r *http.Request) {
	caseID, step := chi.URLParam(r, "case"), chi.URLParam(r, "step")
	var c manual.Confirm
	if !decodeJSON(w, r, &c) {
		return
	}
	res, status, prob := s.confirmStep(r, caseID, step, c)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	writeJSON(w, http.StatusOK, ActionResult{CaseID: caseID, Action: auth.ActConfirmStep, Result: map[string]string{"step": step, "outcome": res}})
}

func (s *Server) confirmStep(r *http.Request, caseID, step string, c manual.Confirm) (string, int, *Problem) {
	p := principal(r)
	if !p.Can(auth.ActConfirmStep) {
		return "", http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role may not confirm steps"}
	}
	row, status, prob := s.check(r, caseID)
	if prob != nil {
		return "", status, prob
	}
	c.Actor = pathway.Actor{StaffID: p.ID}
	var out string
	status, prob = s.update(r.Context(), pathway.StepWorkflowID(caseID, step), manual.UpdateConfirm, c, &out)
	pid, _ := uuid.Parse(row.ParticipantID)
	detail := map[string]any{"step": step, "outcome": c.Outcome, "result": "ok"}
	if prob != nil {
		detail["result"], detail["code"] = "refused", prob.Code
	}
	s.audit(r, store.AuditEntry{Action: store.AuditConfirmStep, CaseID: caseID, ParticipantID: &pid, Detail: detail})
	if prob != nil && prob.Code == "not_found" {
		prob.Message = fmt.Sprintf("step %q is not running as a manual step", step)
	}
	return out, status, prob
}

func (s *Server) updateTimeout() time.Duration {
	if s.UpdateTimeout > 0 {
		return s.UpdateTimeout
	}
	return 20 * time.Second
}

// update sends an Update and waits for its result, never longer than the
// update timeout: a validator's refusal is 422 with its message, a missing
// worker is 503 worker_unavailable.
func (s *Server) update(ctx context.Context, workflowID, name string, arg, result any) (int, *Problem) {
	ctx, cancel := context.WithTimeout(ctx, s.updateTimeout())
	defer cancel()
	// Fast path: no worker has polled lately, so nobody would answer.
	if err := s.workerPolling(ctx); errors.Is(err, errNoPollers) {
		return unavailable()
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err == nil {
		return http.StatusOK, nil
	}
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	var deadline *serviceerror.DeadlineExceeded
	var canceled *serviceerror.Canceled
	switch {
	case errors.As(err, &appErr):
		return http.StatusUnprocessableEntity, &Problem{Code: "refused", Message: appErr.Message()}
	case errors.As(err, &notFound):
		return http.StatusConflict, &Problem{Code: "not_found", Message: "the workflow is not running (the pathway or step has ended)"}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &deadline), errors.As(err, &canceled), ctx.Err() != nil:
		return unavailable()
	}
	s.Log.Error("update", zap.String("update", name), zap.Error(err))
	return http.StatusBadGateway, &Problem{Code: "temporal_error", Message: "the workflow service failed; try again"}
}

func unavailable() (int, *Problem) {
	return http.StatusServiceUnavailable, &Problem{Code: "worker_unavailable",
		Message: "no pathway worker answered in time; the action was not recorded; try again shortly"}
}

// problemRecorder captures a Problem written by a helper.
type problemRecorder struct {
	header http.Header
	status int
	body   []byte
}

func (p *problemRecorder) Header() http.Header    { return p.header }
func (p *problemRecorder) WriteHeader(status int) { p.status = status }
func (p *problemRecorder) Write(b []byte) (int, error) {
	p.body = append(p.body, b...)
	return len(b), nil
}
func (p *problemRecorder) problem() *Problem {
	var env struct {
		Error Problem `json:"error"`
	}
	_ = json.Unmarshal(p.body, &env)
	return &env.Error
}
