// Package actions is the one way staff act on a pathway (first contact,
// mapping, plan, outcome, follow-up, pause, resume, transfer, close, a task
// done): the API route POST /api/v1/pathways/{case}/{action}, the console's
// forms and `pathways tasks done` all call Service.Do once their caller has
// checked the staff member's role and access to the case. Do sends the
// action's Update under the ID "<case>:<action>:<idempotency key>", waits
// for the answer, bounded, and writes the action's audit row with its true
// outcome. The audit log also remembers an applied action after the run
// that knew its Update ID has continued as new or ended.
package actions

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

// Service sends staff actions to pathway workflows.
type Service struct {
	Temporal client.Client
	Pool     *pgxpool.Pool // the audit log
	// Wait bounds how long Do waits for the workflow's answer once the
	// Update is sent (default updates.DefaultWait); after it the action is
	// pending. It bounds the Ready check as well.
	Wait time.Duration
	// Ready, when set, is asked before anything is sent; ErrNoWorker or
	// ErrUnreachable mean nothing was sent, other errors are ignored.
	Ready func(ctx context.Context) error
	// Log takes audit writes that failed after every retry; may be nil.
	Log *zap.Logger
}

// Request is one staff action on one pathway.
type Request struct {
	CaseID        string
	ParticipantID string // for the audit row
	// Action is the action's name (auth.Act*), Update the Update it sends.
	Action, Update string
	// Message is the Update's argument, its Actor already set.
	Message any
	StaffID string
	// Key is the caller's idempotency key: the same key never applies the
	// action twice. Empty means a fresh one (no protection against a retry).
	Key string
	// Prior, when PriorRead, is what the audit log recorded for this action
	// before, read by the caller beside its access check.
	Prior     []string
	PriorRead bool
	// Via and RequestID go into the audit row.
	Via, RequestID string
}

// Result is what became of an action.
type Result struct {
	// ActionID is "<action>:<key>", the status link's ID; the Update ID is
	// "<case>:" + ActionID.
	ActionID string `json:"action_id"`
	// Status is the pathway's status after the action (not set on a repeat).
	Status pathway.Status `json:"status"`
	// Repeat: this key was applied before; nothing was sent again.
	Repeat bool `json:"repeat,omitempty"`
	// Pending: sent, not answered within the wait; ask the status link.
	Pending bool `json:"pending,omitempty"`
}

// Errors of Do after which the action did not change the pathway.
var (
	ErrNoWorker    = updates.ErrNoWorker
	ErrUnreachable = updates.ErrUnreachable
	ErrNotRunning  = errors.New("the workflow is not running (the pathway has ended)")
)

// Refused is the workflow validator's refusal.
type Refused = updates.Refusal

// Unknown is an error after which what became of the action is not known:
// sending it again with the same key is safe.
type Unknown struct{ Err error }

func (e *Unknown) Error() string { return "the workflow service failed: " + e.Err.Error() }
func (e *Unknown) Unwrap() error { return e.Err }

// ActionID is the status link's ID of an action.
func ActionID(action, key string) string { return action + ":" + key }

// Do sends the action unless the audit log shows it applied before.
func (s *Service) Do(ctx context.Context, req Request) (Result, error) {
	fresh := req.Key == ""
	if fresh {
		req.Key = uuid.NewString()
	}
	res := Result{ActionID: ActionID(req.Action, req.Key)}
	// Temporal deduplicates an Update ID within one run of the workflow;
	// the audit log remembers across runs (and after the pathway ended)
	// that this very action was applied, so a late retry never applies it
	// twice. A fresh key cannot have been used.
	if !fresh && !req.PriorRead && s.Pool != nil {
		req.Prior, _ = store.ActionResults(ctx, s.Pool, req.CaseID, res.ActionID)
	}
	if slices.Contains(req.Prior, "ok") {
		res.Repeat = true
		s.audit(ctx, req, res, "ok", "")
		return res, nil
	}
	if err := updates.Ready(ctx, s.Wait, s.Ready); errors.Is(err, ErrNoWorker) {
		s.audit(ctx, req, res, "not_sent", "worker_unavailable")
		return res, err
	} else if errors.Is(err, ErrUnreachable) {
		s.audit(ctx, req, res, "not_sent", "temporal_unavailable")
		return res, err
	}
	o, message, err := updates.Within(ctx, s.Temporal, s.Wait, client.UpdateWorkflowOptions{
		UpdateID: req.CaseID + ":" + res.ActionID, WorkflowID: pathway.WorkflowID(req.CaseID), UpdateName: req.Update, Args: []any{req.Message},
	}, &res.Status)
	switch o {
	case updates.Applied:
		s.audit(ctx, req, res, "ok", "")
		return res, nil
	case updates.Refused:
		s.audit(ctx, req, res, "refused", "refused")
		return res, &Refused{Message: message}
	case updates.NotRunning:
		s.audit(ctx, req, res, "refused", "not_found")
		return res, ErrNotRunning
	case updates.Pending:
		// Sent, perhaps accepted: never "failed". The same key is safe.
		res.Pending = true
		s.audit(ctx, req, res, "pending", "")
		return res, nil
	case updates.NotApplied:
		s.audit(ctx, req, res, "not_sent", "not_applied")
		return res, updates.ErrNotApplied
	}
	s.audit(ctx, req, res, "unknown", "temporal_error")
	return res, &Unknown{Err: err}
}

// audit writes the action's row even if the caller has gone: the action
// may stand.
func (s *Service) audit(ctx context.Context, req Request, res Result, result, code string) {
	if s.Pool == nil {
		return
	}
	d := map[string]any{"action": req.Action, "action_id": res.ActionID, "result": result}
	if code != "" {
		d["code"] = code
	}
	if res.Repeat {
		d["repeat"] = true
	}
	if req.Via != "" {
		d["via"] = req.Via
	}
	e := store.AuditEntry{StaffID: req.StaffID, Action: store.AuditAction, CaseID: req.CaseID, RequestID: req.RequestID, Detail: d}
	if pid, err := uuid.Parse(req.ParticipantID); err == nil {
		e.ParticipantID = &pid
	}
	if err := store.WriteAuditPatiently(ctx, s.Pool, e, auditPatience); err != nil && s.Log != nil {
		s.Log.Error("audit write failed", zap.String("case", req.CaseID), zap.String("action", req.Action), zap.Error(err))
	}
}

// auditPatience is how long an answer waits for the audit log to take its
// row while PostgreSQL restarts.
const auditPatience = 30 * time.Second
