package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/actions"
	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Get("/pathways/{case}/actions/{id}", s.apiActionStatus)
	})
}

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
	// What the national indicator needs (pathway.CheckOutcomeDetails).
	EmployerKind   string `json:"employer_kind,omitempty"`
	EmploymentForm string `json:"employment_form,omitempty"`
	Subsidy        string `json:"subsidy,omitempty"`
	StudyForm      string `json:"study_form,omitempty"`
	StudentFinance *bool  `json:"student_finance,omitempty"`
}

func (o *outcomeBody) message() (pathway.Outcome, *Problem) {
	out := pathway.Outcome{Actor: o.Actor, Kind: o.Kind, Employer: o.Employer, SSYK: o.SSYK,
		EmployerKind: o.EmployerKind, EmploymentForm: o.EmploymentForm, Subsidy: strings.TrimSpace(o.Subsidy),
		StudyForm: o.StudyForm, StudentFinance: o.StudentFinance}
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
// State is completed, or pending when the pathway has not answered within the
// wait: then Location (and the action_id) lead to the outcome.
type ActionResult struct {
	CaseID   string          `json:"case_id"`
	Action   string          `json:"action"`
	ActionID string          `json:"action_id,omitempty"`
	State    string          `json:"state,omitempty"`
	Message  string          `json:"message,omitempty"`
	Status   *pathway.Status `json:"status,omitempty"`
	Result   any             `json:"result,omitempty"`
}

// IdempotencyHeader carries the client's key for one staff action; the
// console sends it as the hidden form field idempotency_key, fresh for each
// rendered form. Namespaced by case and action, it is the Temporal Update ID,
// so a repeated request returns the first one's result instead of acting twice.
const IdempotencyHeader = "Idempotency-Key"

// idempotencyKey reads the request's key; without one the action gets a
// fresh key (no protection against a retry, but a status link all the same).
func idempotencyKey(r *http.Request) (string, *Problem) {
	k, prob := givenKey(r)
	if prob == nil && k == "" {
		k = uuid.NewString()
	}
	return k, prob
}

// givenKey reads the request's key, "" when it sent none.
func givenKey(r *http.Request) (string, *Problem) {
	k := r.Header.Get(IdempotencyHeader)
	if k == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		k = r.PostFormValue("idempotency_key")
	}
	if k == "" {
		return "", nil
	}
	ok := len(k) <= 100
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.~", c)) {
			ok = false
		}
	}
	if !ok {
		return "", &Problem{Code: "bad_request", Field: IdempotencyHeader,
			Message: "Idempotency-Key must be 1 to 100 letters, digits, '-', '_', '.' or '~' (a UUID will do)"}
	}
	return k, nil
}

// actionPath is where a pending action's outcome can be read.
func actionPath(caseID, actionID string) string {
	return "/api/v1/pathways/" + caseID + "/actions/" + actionID
}

// pendingMessage says what a 202 means; it never claims the action failed.
const pendingMessage = "The action was received, but the pathway has not confirmed it yet. Its outcome is at the status link; " +
	"sending it again with the same Idempotency-Key is safe and never applies it twice."

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
	st, actionID, status, prob := s.runAction(r, caseID, a, msg)
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	if status == http.StatusAccepted {
		w.Header().Set("Location", actionPath(caseID, actionID))
		writeJSON(w, status, ActionResult{CaseID: caseID, Action: name, ActionID: actionID, State: "pending", Message: pendingMessage})
		return
	}
	writeJSON(w, http.StatusOK, ActionResult{CaseID: caseID, Action: name, ActionID: actionID, State: "completed", Status: st})
}

// runAction checks access and role, then hands the action to the
// pathway action service (actions.Service.Do), which sends the Update under
// the request's idempotency key, waits for it, bounded, and audits its true
// outcome: it is shared by the API and the console. 202 means sent but not
// yet answered.
func (s *Server) runAction(r *http.Request, caseID string, a Action, msg any) (*pathway.Status, string, int, *Problem) {
	p := principal(r)
	if !p.Can(a.Name) {
		return nil, "", http.StatusForbidden, &Problem{Code: "forbidden", Message: fmt.Sprintf("your role may not %s", a.Name)}
	}
	key, keyProb := givenKey(r)
	actionID := actions.ActionID(a.Name, key)
	// Whether this very action was applied before was read with the
	// session when the request named its key in the header; otherwise it is
	// read beside the access check: two queries, one wait. A request
	// without a key gets a fresh one, which nothing can have used.
	var prior []string
	priorRead := make(chan error, 1)
	if cr := readCase(r.Context(), caseID); cr != nil && key != "" && cr.ActionID == actionID {
		prior = cr.Prior // read with the session
		priorRead <- nil
	} else if keyProb == nil && key != "" {
		go func() {
			var err error
			prior, err = store.ActionResults(r.Context(), s.Pool, caseID, actionID)
			priorRead <- err
		}()
	} else {
		priorRead <- nil
	}
	row, status, prob := s.check(r, caseID)
	priorErr := <-priorRead
	if prob != nil {
		return nil, "", status, prob
	}
	if keyProb != nil {
		return nil, "", http.StatusBadRequest, keyProb
	}
	*a.actor(msg) = pathway.Actor{StaffID: p.ID}
	arg := msg
	if o, ok := msg.(*outcomeBody); ok {
		m, prob := o.message()
		if prob != nil {
			return nil, "", http.StatusUnprocessableEntity, prob
		}
		arg = m
	}
	if pl, ok := msg.(*pathway.Plan); ok {
		if status, prob := s.preparePlan(r, row, pl); prob != nil {
			return nil, "", status, prob
		}
	}
	if t, ok := msg.(*pathway.Transfer); ok && t.ToCentre != "" {
		if _, err := store.GetCentre(r.Context(), s.Pool, t.ToCentre); errors.Is(err, store.ErrNotFound) {
			return nil, "", http.StatusUnprocessableEntity, &Problem{Code: "refused", Field: "to_centre", Message: fmt.Sprintf("no centre %q", t.ToCentre)}
		}
	}
	// A shutdown ends the wait at once: the action answers 202, never "failed".
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.stoppingContext(), cancel)
	defer stop()
	res, err := s.actions().Do(ctx, actions.Request{CaseID: caseID, ParticipantID: row.ParticipantID, Action: a.Name, Update: a.Update,
		Message: arg, StaffID: p.ID, Key: key, Prior: prior, PriorRead: priorErr == nil && key != "", RequestID: middleware.GetReqID(r.Context())})
	var refused *actions.Refused
	switch {
	case err == nil && res.Repeat:
		return s.liveStatus(r.Context(), caseID), res.ActionID, http.StatusOK, nil
	case err == nil && res.Pending:
		return nil, res.ActionID, http.StatusAccepted, nil
	case err == nil:
		return &res.Status, res.ActionID, http.StatusOK, nil
	case errors.As(err, &refused):
		return nil, res.ActionID, http.StatusUnprocessableEntity, &Problem{Code: "refused", Message: refused.Message}
	case errors.Is(err, actions.ErrNotRunning):
		return nil, res.ActionID, http.StatusConflict, &Problem{Code: "not_found", Message: "the workflow is not running (the pathway or step has ended)"}
	case errors.Is(err, actions.ErrNoWorker):
		status, prob := unavailable()
		return nil, res.ActionID, status, prob
	case errors.Is(err, updates.ErrNotApplied):
		return nil, res.ActionID, http.StatusServiceUnavailable, &Problem{Code: "not_applied", Message: err.Error()}
	case errors.Is(err, actions.ErrUnreachable):
		return nil, res.ActionID, http.StatusServiceUnavailable, &Problem{Code: "temporal_unavailable", Message: err.Error()}
	}
	s.Log.Error("update", zap.String("update", a.Update), zap.Error(err))
	return nil, res.ActionID, http.StatusBadGateway, &Problem{Code: "temporal_error", Message: "the workflow service failed; sending it again with the same Idempotency-Key is safe"}
}

// actions is the server's pathway action service.
func (s *Server) actions() *actions.Service {
	s.actionsOnce.Do(func() {
		s.actionsSvc = &actions.Service{Temporal: s.Temporal, Pool: s.Pool, Wait: s.updateTimeout(), Log: s.Log, Ready: s.readyToSend}
	})
	return s.actionsSvc
}

// readyToSend is the action services' check before sending: no worker
// polling, or no answer from Temporal, means nothing would be applied.
func (s *Server) readyToSend(ctx context.Context) error {
	var unreachable *serviceerror.Unavailable
	if err := s.workerReady(ctx); errors.Is(err, errNoPollers) {
		return updates.ErrNoWorker
	} else if errors.As(err, &unreachable) {
		return updates.ErrUnreachable
	}
	return nil
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

// apiActionStatus answers what became of an action sent earlier, by polling
// its Update: completed (with the pathway's status), refused, pending, or
// unknown (never recorded: sending it again with the same key is safe).
func (s *Server) apiActionStatus(w http.ResponseWriter, r *http.Request) {
	caseID, actionID := chi.URLParam(r, "case"), chi.URLParam(r, "id")
	if _, ok := s.access(w, r, caseID); !ok {
		return
	}
	name, _, _ := strings.Cut(actionID, ":")
	workflowID := pathway.WorkflowID(caseID)
	var st pathway.Status
	var answer any = &st
	if _, ok := Actions[name]; !ok {
		// A step action's ID is "<step>:<action>:<key>"; its Update went to the step's workflow.
		step, rest, _ := strings.Cut(actionID, ":")
		action, key, _ := strings.Cut(rest, ":")
		if step == "" || action == "" || key == "" {
			writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such action"})
			return
		}
		name, workflowID, answer = action, pathway.StepWorkflowID(caseID, step), new(string)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.Temporal.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{
		WorkflowID: workflowID, UpdateID: caseID + ":" + actionID}).Get(ctx, answer)
	res := ActionResult{CaseID: caseID, Action: name, ActionID: actionID}
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	var deadline *serviceerror.DeadlineExceeded
	switch {
	case err == nil && answer != &st:
		res.State, res.Result = "completed", map[string]string{"answer": *answer.(*string)}
	case err == nil:
		res.State, res.Status = "completed", &st
	case errors.As(err, &appErr):
		res.State, res.Message = "refused", appErr.Message()
	case errors.As(err, &notFound):
		// The current run does not know it: the audit log says whether it ever reached the pathway.
		results, aerr := store.ActionResults(r.Context(), s.Pool, caseID, actionID)
		switch {
		case aerr != nil:
			s.internal(w, r, "read action outcome", aerr)
			return
		case slices.Contains(results, "ok"):
			res.State, res.Status = "completed", s.liveStatus(r.Context(), caseID)
		case slices.Contains(results, "pending"), slices.Contains(results, "unknown"):
			res.State, res.Message = "unknown", "The pathway no longer knows this action: it may have been applied before the pathway moved on to a new run, "+
				"or it never reached it. Check the pathway's timeline before sending it again."
		default:
			writeProblem(w, http.StatusNotFound, Problem{Code: "not_found",
				Message: "no such action was recorded for this pathway; sending it again with the same Idempotency-Key is safe"})
			return
		}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline):
		w.Header().Set("Location", actionPath(caseID, actionID))
		writeJSON(w, http.StatusAccepted, ActionResult{CaseID: caseID, Action: name, ActionID: actionID, State: "pending", Message: pendingMessage})
		return
	default:
		s.Log.Error("action status", zap.String("action", name), zap.String("error_type", fmt.Sprintf("%T", err)), zap.Error(err))
		writeProblem(w, http.StatusBadGateway, Problem{Code: "temporal_error", Message: "the workflow service failed; ask again"})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) updateTimeout() time.Duration {
	if s.UpdateTimeout > 0 {
		return s.UpdateTimeout
	}
	return updates.DefaultWait
}

func unavailable() (int, *Problem) {
	return http.StatusServiceUnavailable, &Problem{Code: "worker_unavailable", Message: updates.ErrNoWorker.Error()}
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
