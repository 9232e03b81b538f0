// Package stepactions is the one way staff act on a running step: the
// API route POST /api/v1/pathways/{case}/steps/{step}/{action}, the
// console's forms on the case page and `pathways step-action` all call
// Service.Do. The action comes from the step type's declaration
// (steps.Action): its roles, its input schema and the Update it sends to
// the step's child workflow under the Update ID
// "<case>:<step>:<action>:<idempotency key>".
package stepactions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

// Service sends declared step actions.
type Service struct {
	Temporal client.Client
	Pool     *pgxpool.Pool // the audit log
	Steps    *steps.Registry
	// Wait bounds how long Do waits for the workflow's answer once the
	// Update is sent (default 20 s); after it the action is pending.
	Wait time.Duration
	// Ready, when set, is asked before anything is sent; an error (e.g.
	// ErrWorkerUnavailable when no worker polls) means nothing was sent.
	Ready func(ctx context.Context) error
	// Log takes audit writes that failed after every retry; may be nil.
	Log *zap.Logger
}

// Request is one staff action on one step.
type Request struct {
	CaseID, StepID, Action string
	StaffID                string
	Roles                  []string
	// Key is the caller's idempotency key: the same key never applies the
	// action twice.
	Key   string
	Input map[string]string
	// Via and RequestID go into the audit row.
	Via, RequestID string
}

// Result is what became of an action.
type Result struct {
	// ActionID is "<step>:<action>:<key>", the status link's ID; the Update
	// ID is "<case>:" + ActionID.
	ActionID string `json:"action_id"`
	// Pending: sent, not yet answered within the wait; ask the status link.
	Pending bool `json:"pending,omitempty"`
	// Answer is the workflow's answer (the outcome or status recorded).
	Answer string `json:"answer,omitempty"`
	// Repeat: this key was applied before; nothing was sent again.
	Repeat bool `json:"repeat,omitempty"`
}

// Errors of Do. A FieldError or a Refused is the input's fault (422);
// ErrNotYet and ErrNotRunning are the step's state (409).
var (
	ErrUnknownAction     = errors.New("the step's type declares no such action")
	ErrForbidden         = errors.New("your role may not take this action")
	ErrNotRunning        = errors.New("the step is not running (it has ended, or there is no such step)")
	ErrNotYet            = errors.New("the step does not take this action yet")
	ErrWorkerUnavailable = updates.ErrNoWorker
)

// FieldError names the field that is wrong.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Refused is the workflow validator's refusal.
type Refused = updates.Refusal

// ActionID is the status link's ID of an action.
func ActionID(stepID, action, key string) string { return stepID + ":" + action + ":" + key }

// UpdateID is the Temporal Update ID of an action.
func UpdateID(caseID, stepID, action, key string) string {
	return caseID + ":" + ActionID(stepID, action, key)
}

// MayAct reports whether roles may take any declared step action at all,
// so a caller can refuse a role that never acts on steps before it looks
// at the case.
func (s *Service) MayAct(roles []string) bool {
	for _, t := range s.Steps.All() {
		for _, a := range steps.ActionsOf(t) {
			if a.Allows(roles) {
				return true
			}
		}
	}
	return false
}

// StepType finds the type of a step from its child workflow, running or
// ended: the workflow's type is "step.<type>".
func (s *Service) StepType(ctx context.Context, caseID, stepID string) (steps.Type, bool, error) {
	d, err := s.Temporal.DescribeWorkflowExecution(ctx, pathway.StepWorkflowID(caseID, stepID), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, false, ErrNotRunning
	}
	if err != nil {
		return nil, false, err
	}
	info := d.GetWorkflowExecutionInfo()
	name, ok := strings.CutPrefix(info.GetType().GetName(), steps.WorkflowName(""))
	t, known := s.Steps.Get(name)
	if !ok || !known {
		return nil, false, ErrNotRunning
	}
	return t, info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Open returns the actions a running step takes now and the principal may
// take: what the console offers as forms.
func (s *Service) Open(ctx context.Context, caseID, stepID string, roles []string) ([]steps.Action, error) {
	t, running, err := s.StepType(ctx, caseID, stepID)
	if err != nil || !running {
		return nil, err
	}
	open, known := s.offered(ctx, caseID, stepID)
	var out []steps.Action
	for _, a := range steps.ActionsOf(t) {
		if a.Allows(roles) && (!known || slices.Contains(open, a.Name)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// offered asks the step which actions it takes now. known is false for a
// workflow that does not answer the Query (started before it existed).
func (s *Service) offered(ctx context.Context, caseID, stepID string) (open []string, known bool) {
	v, err := s.Temporal.QueryWorkflow(ctx, pathway.StepWorkflowID(caseID, stepID), "", steps.QueryActions)
	if err != nil || v.Get(&open) != nil {
		return nil, false
	}
	return open, true
}

// Check validates the input against the action's schema, naming the field.
func Check(a steps.Action, in map[string]string) error {
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !slices.ContainsFunc(a.Fields, func(f steps.Field) bool { return f.Name == k }) {
			return &FieldError{Field: k, Message: fmt.Sprintf("%s takes no field %q", a.Name, k)}
		}
	}
	for _, f := range a.Fields {
		v := in[f.Name]
		if v == "" && f.Required {
			return &FieldError{Field: f.Name, Message: "is required"}
		}
		if v != "" && len(f.Options) > 0 && !slices.Contains(f.Options, v) {
			return &FieldError{Field: f.Name, Message: fmt.Sprintf("%q is not one of %s", v, strings.Join(f.Options, ", "))}
		}
		if len(v) > 500 {
			return &FieldError{Field: f.Name, Message: "is longer than 500 characters"}
		}
	}
	return nil
}

// Do takes the action: the declared action of the step's type, the
// principal's role, the input's schema and whether the step takes it now,
// then the Update under the idempotency key, waiting at most Wait. Every
// outcome that reached the point of sending is audited.
func (s *Service) Do(ctx context.Context, req Request) (Result, error) {
	if req.Key == "" {
		req.Key = uuid.NewString()
	}
	res := Result{ActionID: ActionID(req.StepID, req.Action, req.Key)}
	t, running, err := s.StepType(ctx, req.CaseID, req.StepID)
	if err != nil && !errors.Is(err, ErrNotRunning) {
		return res, err
	}
	if err == nil {
		a, ok := steps.FindAction(t, req.Action)
		if !ok {
			return res, ErrUnknownAction
		}
		if !a.Allows(req.Roles) {
			return res, ErrForbidden
		}
		if err := Check(a, req.Input); err != nil {
			return res, err
		}
		if running {
			return s.send(ctx, req, a, res)
		}
	}
	// The step has ended (or never was): if this very action was applied
	// before, say so; otherwise there is nothing to act on.
	if s.appliedBefore(ctx, req.CaseID, res.ActionID) {
		res.Repeat = true
		return res, nil
	}
	return res, ErrNotRunning
}

func (s *Service) send(ctx context.Context, req Request, a steps.Action, res Result) (Result, error) {
	if s.appliedBefore(ctx, req.CaseID, res.ActionID) {
		res.Repeat = true
		s.audit(ctx, req, res, "ok")
		return res, nil
	}
	if open, known := s.offered(ctx, req.CaseID, req.StepID); known && !slices.Contains(open, a.Name) {
		return res, ErrNotYet
	}
	if err := updates.Ready(ctx, s.Wait, s.Ready); err != nil {
		return res, err
	}
	o, message, err := updates.Within(ctx, s.Temporal, s.Wait, client.UpdateWorkflowOptions{
		UpdateID: UpdateID(req.CaseID, req.StepID, req.Action, req.Key), WorkflowID: pathway.StepWorkflowID(req.CaseID, req.StepID),
		UpdateName: a.Name, Args: []any{a.Message(req.StaffID, req.Input)},
	}, &res.Answer)
	switch o {
	case updates.Applied:
		s.audit(ctx, req, res, "ok")
		return res, nil
	case updates.Refused:
		s.audit(ctx, req, res, "refused")
		return res, &Refused{Message: message}
	case updates.NotRunning:
		s.audit(ctx, req, res, "not_sent")
		return res, ErrNotRunning
	case updates.Pending:
		// Sent, perhaps accepted: never "failed". The same key is safe.
		res.Pending = true
		s.audit(ctx, req, res, "pending")
		return res, nil
	case updates.NotApplied:
		s.audit(ctx, req, res, "not_sent")
		return res, updates.ErrNotApplied
	}
	// Sent, and what became of it is not known: the row says so.
	s.audit(ctx, req, res, "unknown")
	return res, err
}

// appliedBefore: the audit log remembers an applied action after its step
// has ended, when Temporal no longer answers for its Update ID.
func (s *Service) appliedBefore(ctx context.Context, caseID, actionID string) bool {
	if s.Pool == nil {
		return false
	}
	results, err := store.ActionResults(ctx, s.Pool, caseID, actionID)
	return err == nil && slices.Contains(results, "ok")
}

// audit writes the action's row even if the caller has gone.
func (s *Service) audit(ctx context.Context, req Request, res Result, result string) {
	if s.Pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	e := store.AuditEntry{StaffID: req.StaffID, Action: store.AuditAction, CaseID: req.CaseID, RequestID: req.RequestID,
		Detail: map[string]any{"action": req.Action, "step": req.StepID, "action_id": res.ActionID, "result": result, "via": req.Via}}
	if res.Repeat {
		e.Detail["repeat"] = true
	}
	if row, err := store.GetPathway(ctx, s.Pool, req.CaseID); err == nil {
		if pid, err := uuid.Parse(row.ParticipantID); err == nil {
			e.ParticipantID = &pid
		}
	}
	if err := store.WriteAuditPatiently(ctx, s.Pool, e, auditPatience); err != nil && s.Log != nil {
		s.Log.Error("audit write failed", zap.String("case", req.CaseID), zap.String("action", req.Action), zap.Error(err))
	}
}

// auditPatience is how long an answer waits for the audit log to take its
// row while PostgreSQL restarts.
const auditPatience = 30 * time.Second
