package escalation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// Store is what the sweep reads and writes; PG is the PostgreSQL one.
type Store interface {
	BeginSweep(ctx context.Context, id, kind string, at time.Time) error
	FindStalls(ctx context.Context, rules []store.StallQuery, each func(store.StallRow) error) error
	FindForManual(ctx context.Context, f store.ManualFilter, each func(store.StallRow) error) error
	ReplaceStalls(ctx context.Context, sweepID string, stalls []store.Stall) error
	StallBatch(ctx context.Context, sweepID, afterCase, afterRule string, limit int) ([]store.Stall, error)
	RecordEscalation(ctx context.Context, e store.EscalationRow) (bool, error)
	FinishSweep(ctx context.Context, id string, at time.Time, c store.SweepCounts) error
}

// PG is the Store on PostgreSQL.
type PG struct{ Pool *pgxpool.Pool }

// stallKeep is how long a sweep's stall list is kept.
const stallKeep = 35 * 24 * time.Hour

func (p PG) BeginSweep(ctx context.Context, id, kind string, at time.Time) error {
	return store.BeginEscalationSweep(ctx, p.Pool, id, kind, at, stallKeep)
}
func (p PG) FindStalls(ctx context.Context, rules []store.StallQuery, each func(store.StallRow) error) error {
	return store.FindStalls(ctx, p.Pool, rules, each)
}
func (p PG) FindForManual(ctx context.Context, f store.ManualFilter, each func(store.StallRow) error) error {
	return store.FindForManual(ctx, p.Pool, RuleManual, f, each)
}
func (p PG) ReplaceStalls(ctx context.Context, sweepID string, stalls []store.Stall) error {
	return store.ReplaceStalls(ctx, p.Pool, sweepID, stalls)
}
func (p PG) StallBatch(ctx context.Context, sweepID, afterCase, afterRule string, limit int) ([]store.Stall, error) {
	return store.StallBatch(ctx, p.Pool, sweepID, afterCase, afterRule, limit)
}
func (p PG) RecordEscalation(ctx context.Context, e store.EscalationRow) (bool, error) {
	return store.RecordEscalation(ctx, p.Pool, e)
}
func (p PG) FinishSweep(ctx context.Context, id string, at time.Time, c store.SweepCounts) error {
	return store.FinishEscalationSweep(ctx, p.Pool, id, at, c)
}

// Signaller delivers an escalation to a pathway. It returns ErrNotRunning
// when the pathway workflow is gone.
type Signaller func(ctx context.Context, caseID string, e pathway.Escalation) error

// ErrNotRunning means the pathway workflow is not running.
var ErrNotRunning = errors.New("the pathway is not running")

// TemporalSignaller signals pathways through a Temporal client.
func TemporalSignaller(c client.Client) Signaller {
	return func(ctx context.Context, caseID string, e pathway.Escalation) error {
		err := c.SignalWorkflow(ctx, pathway.WorkflowID(caseID), "", pathway.SignalEscalate, e)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return ErrNotRunning
		}
		return err
	}
}

// Activities are the sweep's activities.
type Activities struct {
	Store    Store
	Signal   Signaller
	Notify   Notifier       // nil: no notifications
	Location *time.Location // for dates in reasons; nil is UTC
}

// Activity names (registered with the "Escalation" prefix).
const (
	ActivityBegin    = contract.ActivityBegin
	ActivityFind     = contract.ActivityFind
	ActivityEscalate = contract.ActivityEscalate
	ActivityFinish   = contract.ActivityFinish
)

// The activities' messages, defined with the workflows' contract.
type (
	BeginInput  = contract.BeginInput
	FindInput   = contract.FindInput
	FindResult  = contract.FindResult
	BatchInput  = contract.BatchInput
	BatchResult = contract.BatchResult
	FinishInput = contract.FinishInput
)

// BeginSweep records the sweep's start.
func (a *Activities) BeginSweep(ctx context.Context, in BeginInput) error {
	return a.Store.BeginSweep(ctx, in.SweepID, in.Kind, in.Now)
}

// FindStalled evaluates the rules, decides every stall's next level and
// stores the list for EscalateBatch to page through.
func (a *Activities) FindStalled(ctx context.Context, in FindInput) (FindResult, error) {
	byName := map[string]Rule{}
	var qs []store.StallQuery
	for _, r := range in.Rules {
		if r.Disabled {
			continue
		}
		if err := r.Validate(); err != nil {
			return FindResult{}, err
		}
		byName[r.Name] = r
		qs = append(qs, store.StallQuery{Rule: r.Name, Cutoff: r.Cutoff(in.Now)})
	}
	var res FindResult
	var stalls []store.Stall
	cases := map[string]bool{}
	err := a.Store.FindStalls(ctx, qs, func(row store.StallRow) error {
		cur := Current{Level: row.CurLevel, TaskStatus: row.TaskStatus}
		if row.TaskDue != nil {
			cur.TaskDue = *row.TaskDue
		}
		level := NextLevel(byName[row.Rule], cur, in.Now)
		stalls = append(stalls, store.Stall{CaseID: row.CaseID, Rule: row.Rule, CentreID: row.CentreID, Since: row.Since,
			Level: level, Role: RoleAt(level), Reason: Reason(row.Rule, row.Since, a.Location)})
		cases[row.CaseID] = true
		if level > 0 {
			res.ToEscalate++
		} else {
			res.Waiting++
		}
		if len(stalls)%1000 == 0 {
			heartbeat(ctx, len(stalls))
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Stalls, res.Stalled = len(stalls), len(cases)
	return res, a.Store.ReplaceStalls(ctx, in.SweepID, stalls)
}

// EscalateBatch signals, records and notifies one batch of stalls. It
// heartbeats after each stall, so a retry resumes where the last attempt
// stopped; every step is idempotent anyway.
func (a *Activities) EscalateBatch(ctx context.Context, in BatchInput) (BatchResult, error) {
	res := BatchResult{LastCase: in.AfterCase, LastRule: in.AfterRule}
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		var prev BatchResult
		if err := activity.GetHeartbeatDetails(ctx, &prev); err == nil {
			res = prev
		}
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 200
	}
	// The batch is fixed by the input cursor; a resumed attempt skips what it did.
	batch, err := a.Store.StallBatch(ctx, in.SweepID, in.AfterCase, in.AfterRule, limit)
	if err != nil {
		return res, err
	}
	for _, s := range batch {
		if s.CaseID < res.LastCase || (s.CaseID == res.LastCase && s.Rule <= res.LastRule) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		actor := in.Actor
		if actor == "" {
			actor = "system"
		}
		out, err := a.escalate(ctx, s, in.Now, actor)
		if err != nil {
			return res, err
		}
		res.Processed++
		switch {
		case out.skipped:
			res.Skipped++
		case out.recorded:
			res.Escalated++
		}
		if out.notifyFailed {
			res.NotifyFailed++
		}
		res.LastCase, res.LastRule = s.CaseID, s.Rule
		heartbeat(ctx, res)
	}
	res.Done = len(batch) < limit
	return res, nil
}

type outcome struct{ recorded, skipped, notifyFailed bool }

// escalate delivers one stall: signal the pathway (which dedups by rule and
// level), notify the role (idempotent by key), then record it.
func (a *Activities) escalate(ctx context.Context, s store.Stall, now time.Time, actor string) (outcome, error) {
	e := pathway.Escalation{Rule: s.Rule, Level: s.Level, Role: s.Role, Reason: s.Reason, SweepID: s.SweepID}
	if err := a.Signal(ctx, s.CaseID, e); err != nil {
		if errors.Is(err, ErrNotRunning) {
			return outcome{skipped: true}, nil
		}
		return outcome{}, fmt.Errorf("signal %s: %w", pathway.WorkflowID(s.CaseID), err)
	}
	var out outcome
	if a.Notify != nil {
		n := Notice{Key: fmt.Sprintf("escalation:%s:%s:%d:%s", s.CaseID, s.Rule, s.Level, s.SweepID),
			CaseID: s.CaseID, CentreID: s.CentreID, Rule: s.Rule, Level: s.Level, Role: s.Role, Reason: s.Reason}
		if err := a.Notify.Notify(ctx, n); err != nil {
			if activity.IsActivity(ctx) {
				activity.GetLogger(ctx).Warn("escalation notice failed", "case_id", s.CaseID, "role", s.Role, "error", err)
			}
			out.notifyFailed = true
		}
	}
	ok, err := a.Store.RecordEscalation(ctx, store.EscalationRow{CaseID: s.CaseID, CentreID: s.CentreID, Rule: s.Rule,
		Level: s.Level, Role: s.Role, Reason: s.Reason, At: now, SweepID: s.SweepID,
		TaskKey: TaskKey(s.CaseID, s.Rule, s.Level), Actor: actor})
	out.recorded = ok
	return out, err
}

// FinishSweep records the sweep's end and counts.
func (a *Activities) FinishSweep(ctx context.Context, in FinishInput) error {
	return a.Store.FinishSweep(ctx, in.SweepID, in.Now, store.SweepCounts(in.Counts))
}

// PGContacts finds mail recipients in the staff table and escalation_contacts.
func PGContacts(pool *pgxpool.Pool) Contacts {
	return func(ctx context.Context, caseID, centreID, role string) ([]string, error) {
		return store.EscalationContacts(ctx, pool, caseID, centreID, role)
	}
}

// New builds the activities on PostgreSQL and Temporal, notifying by mail
// (when mailer is set) and in the console. loc dates the reasons.
func New(pool *pgxpool.Pool, c client.Client, mailer integrations.Notifier, consoleURL string, loc *time.Location) *Activities {
	n := Notifiers{Console{Pool: pool}}
	if mailer != nil {
		n = append(n, Mail{Mailer: mailer, Contacts: PGContacts(pool), ConsoleURL: consoleURL,
			Language: func(ctx context.Context, addr string) string { return store.MailboxLanguage(ctx, pool, addr) }})
	}
	return &Activities{Store: PG{Pool: pool}, Signal: TemporalSignaller(c), Notify: n, Location: loc}
}

// heartbeat records progress when running as an activity; the CLI and the
// API call the same code outside one.
func heartbeat(ctx context.Context, details any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details)
	}
}
