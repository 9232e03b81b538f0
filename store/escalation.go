package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EscalationDB is satisfied by a pool, a connection and a transaction.
type EscalationDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// The escalation read model: sweeps, the stalls each found, and the
// escalations signalled to pathways. The rules live in package escalation;
// here each rule is a fixed, indexed predicate with one cutoff parameter.

// Stall rule names known to the store.
const (
	StallFirstContact = "first_contact"
	StallMapping      = "mapping_overdue"
	StallStepOverrun  = "step_overrun"
	StallNoProgress   = "no_progress"
	StallFollowUp     = "follow_up_missing"
	StallTimeLimit    = "time_limit"
)

// stallSelects are the rules' queries. Each yields (case_id, centre_id,
// last_progress_at, since) and takes its cutoff as the only parameter, "$?".
// Each is a range scan on a partial index from migration 00040.
var stallSelects = map[string]string{
	StallFirstContact: `SELECT p.case_id, p.centre_id, p.last_progress_at, p.first_contact_due AS since FROM pathways p
		WHERE p.status = 'active' AND p.phase = 'referral' AND p.first_contact_due < $? AND NOT p.paused`,
	StallMapping: `SELECT p.case_id, p.centre_id, p.last_progress_at, p.mapping_due AS since FROM pathways p
		WHERE p.status = 'active' AND p.phase = 'mapping' AND p.mapping_due < $? AND NOT p.paused`,
	StallStepOverrun: `SELECT p.case_id, p.centre_id, p.last_progress_at, p.step_end_at AS since FROM pathways p
		WHERE p.status = 'active' AND p.phase = 'steps' AND p.step_end_at < $? AND p.current_step <> '' AND NOT p.paused`,
	StallNoProgress: `SELECT p.case_id, p.centre_id, p.last_progress_at, p.last_progress_at AS since FROM pathways p
		WHERE p.status = 'active' AND p.last_progress_at < $? AND NOT p.paused`,
	StallTimeLimit: `SELECT p.case_id, p.centre_id, p.last_progress_at, p.time_limit_at AS since FROM pathways p
		WHERE p.status = 'active' AND p.outcome IS NULL AND p.time_limit_at < $?
		AND p.phase NOT IN ('awaiting_outcome', 'follow_up') AND NOT p.paused`,
	StallFollowUp: `SELECT p.case_id, p.centre_id, p.last_progress_at, min(t.due_at) AS since FROM tasks t
		JOIN pathways p ON p.case_id = t.case_id
		WHERE t.status = 'open' AND t.kind = 'follow_up' AND t.due_at < $? AND p.status = 'active'
		GROUP BY p.case_id, p.centre_id, p.last_progress_at`,
}

// StallRules lists the rule names the store can evaluate.
func StallRules() []string {
	return []string{StallFirstContact, StallMapping, StallStepOverrun, StallNoProgress, StallFollowUp, StallTimeLimit}
}

// StallQuery is one rule to evaluate: the case is stalled when the rule's
// column is before Cutoff.
type StallQuery struct {
	Rule   string
	Cutoff time.Time
}

// StallRow is a stalled case under one rule, with the current escalation
// of that stall: the highest level recorded since the case last progressed,
// and the state of that level's task.
type StallRow struct {
	CaseID     string
	CentreID   string
	Rule       string
	Since      *time.Time
	CurLevel   int        // 0: not escalated since the last progress
	TaskStatus string     // open, done, cancelled, or "" when the task is not (yet) projected
	TaskDue    *time.Time // the current level's task deadline
}

// currentEscalation joins a stall (alias s, with case_id, rule and
// last_progress_at) to its current escalation and that escalation's task.
const currentEscalation = `
	LEFT JOIN LATERAL (SELECT e.level, e.task_key FROM escalations e
		WHERE e.case_id = s.case_id AND e.rule = s.rule AND e.at >= s.last_progress_at
		ORDER BY e.level DESC LIMIT 1) cur ON true
	LEFT JOIN tasks t ON t.task_key = cur.task_key`

// currentCaseEscalation is currentEscalation on the case's one ladder:
// the highest level since the last progress, whichever rule reached it.
const currentCaseEscalation = `
	LEFT JOIN LATERAL (SELECT e.level, e.task_key FROM escalations e
		WHERE e.case_id = s.case_id AND e.at >= s.last_progress_at
		ORDER BY e.level DESC, e.at DESC LIMIT 1) cur ON true
	LEFT JOIN tasks t ON t.task_key = cur.task_key`

// StallScope narrows a stall search.
type StallScope struct {
	// CentreIDs, when set, keep only these centres' cases.
	CentreIDs []string
	// PerCase reports each stall's current escalation on the case's one
	// ladder rather than on its rule's own.
	PerCase bool
}

// FindStalls streams every stalled case under the given rules, with the
// current escalation of each stall. Unknown rule names are an error.
func FindStalls(ctx context.Context, db EscalationDB, rules []StallQuery, scope StallScope, each func(StallRow) error) error {
	if len(rules) == 0 {
		return nil
	}
	q, args, err := stallQuery(rules, scope)
	if err != nil {
		return err
	}
	return scanStalls(ctx, db, q, args, each)
}

// ExplainStalls reports the plan of FindStalls' query, line by line.
func ExplainStalls(ctx context.Context, db EscalationDB, rules []StallQuery, line func(string)) error {
	q, args, err := stallQuery(rules, StallScope{})
	if err != nil {
		return err
	}
	rows, err := db.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return err
		}
		line(l)
	}
	return rows.Err()
}

func stallQuery(rules []StallQuery, scope StallScope) (string, []any, error) {
	var parts []string
	var args []any
	for _, r := range rules {
		sel, ok := stallSelects[r.Rule]
		if !ok {
			return "", nil, fmt.Errorf("unknown stall rule %q", r.Rule)
		}
		args = append(args, r.Rule, r.Cutoff)
		sel = strings.Replace(sel, "$?", fmt.Sprintf("$%d", len(args)), 1)
		parts = append(parts, fmt.Sprintf("SELECT x.case_id, x.centre_id, x.last_progress_at, x.since, $%d::text AS rule FROM (%s) x", len(args)-1, sel))
	}
	join, where := currentEscalation, ""
	if scope.PerCase {
		join = currentCaseEscalation
	}
	if len(scope.CentreIDs) > 0 {
		args = append(args, scope.CentreIDs)
		where = fmt.Sprintf(" WHERE s.centre_id = ANY($%d)", len(args))
	}
	q := `SELECT s.case_id, s.centre_id, s.rule, s.since, COALESCE(cur.level, 0), COALESCE(t.status, ''), t.due_at
		FROM (` + strings.Join(parts, "\nUNION ALL\n") + `) s` + join + where
	return q, args, nil
}

// ManualFilter selects active pathways for a manual escalation.
type ManualFilter struct {
	CaseIDs   []string
	CentreIDs []string
	Phase     string
	Track     string
	Assignee  string
	Limit     int // 0: no limit
	// Viewer, when set, leaves out what that staff member may not see.
	Viewer *Viewer `json:",omitempty"`
}

// FindForManual streams the active pathways matching f, each as a stall of
// the given rule with its current escalation on the case's one ladder (a
// manual escalation climbs from where the sweep left the case). An empty
// filter matches nothing.
func FindForManual(ctx context.Context, db EscalationDB, rule string, f ManualFilter, each func(StallRow) error) error {
	where, args := []string{"p.status = 'active'"}, []any{rule}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if len(f.CaseIDs) > 0 {
		add("p.case_id = ANY($?)", f.CaseIDs)
	}
	if len(f.CentreIDs) > 0 {
		add("p.centre_id = ANY($?)", f.CentreIDs)
	}
	if f.Phase != "" {
		add("p.phase = $?", f.Phase)
	}
	if f.Track != "" {
		add("p.track = $?", f.Track)
	}
	if f.Assignee != "" {
		add("p.assignee = $?", f.Assignee)
	}
	if len(where) == 1 {
		return errors.New("a manual escalation needs a case ID or a filter")
	}
	if f.Viewer != nil {
		f.Viewer.condition(add)
	}
	limit := ""
	if f.Limit > 0 {
		args = append(args, f.Limit)
		limit = fmt.Sprintf(" LIMIT $%d", len(args))
	}
	q := `SELECT s.case_id, s.centre_id, s.rule, s.since, COALESCE(cur.level, 0), COALESCE(t.status, ''), t.due_at
		FROM (SELECT p.case_id, p.centre_id, p.last_progress_at, p.last_progress_at AS since, $1::text AS rule
			FROM pathways p WHERE ` + strings.Join(where, " AND ") + ` ORDER BY p.case_id` + limit + `) s` + currentCaseEscalation
	return scanStalls(ctx, db, q, args, each)
}

func scanStalls(ctx context.Context, db EscalationDB, q string, args []any, each func(StallRow) error) error {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("find stalls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r StallRow
		if err := rows.Scan(&r.CaseID, &r.CentreID, &r.Rule, &r.Since, &r.CurLevel, &r.TaskStatus, &r.TaskDue); err != nil {
			return err
		}
		if err := each(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Stall is a stall a sweep decided on: Level 0 means wait.
type Stall struct {
	SweepID  string     `json:"sweep_id"`
	CaseID   string     `json:"case_id"`
	Rule     string     `json:"rule"`
	CentreID string     `json:"centre_id"`
	Since    *time.Time `json:"since,omitempty"`
	Level    int        `json:"level"`
	Role     string     `json:"role"`
	Reason   string     `json:"reason"`
}

// BeginEscalationSweep records the start of a sweep (idempotent) and drops
// the stall lists of sweeps older than keep.
func BeginEscalationSweep(ctx context.Context, db EscalationDB, id, kind string, at time.Time, keep time.Duration) error {
	if _, err := db.Exec(ctx, `INSERT INTO escalation_sweeps (id, kind, started_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, id, kind, at); err != nil {
		return fmt.Errorf("begin sweep: %w", err)
	}
	if keep > 0 {
		if _, err := db.Exec(ctx, `DELETE FROM escalation_stalls WHERE sweep_id IN
			(SELECT id FROM escalation_sweeps WHERE started_at < $1)`, at.Add(-keep)); err != nil {
			return fmt.Errorf("prune stalls: %w", err)
		}
	}
	return nil
}

// ReplaceStalls stores a sweep's decided stalls with COPY, replacing any
// from an earlier attempt of the same sweep.
func ReplaceStalls(ctx context.Context, db EscalationDB, sweepID string, stalls []Stall) error {
	if _, err := db.Exec(ctx, `DELETE FROM escalation_stalls WHERE sweep_id = $1`, sweepID); err != nil {
		return err
	}
	_, err := db.CopyFrom(ctx, pgx.Identifier{"escalation_stalls"},
		[]string{"sweep_id", "case_id", "rule", "centre_id", "since", "level", "role", "reason"},
		pgx.CopyFromSlice(len(stalls), func(i int) ([]any, error) {
			s := stalls[i]
			return []any{sweepID, s.CaseID, s.Rule, s.CentreID, s.Since, s.Level, s.Role, s.Reason}, nil
		}))
	if err != nil {
		return fmt.Errorf("store stalls: %w", err)
	}
	return nil
}

// StallBatch returns the next stalls to escalate (level > 0) after the
// cursor (case, rule), in order.
func StallBatch(ctx context.Context, db EscalationDB, sweepID, afterCase, afterRule string, limit int) ([]Stall, error) {
	rows, err := db.Query(ctx, `SELECT sweep_id, case_id, rule, centre_id, since, level, role, reason
		FROM escalation_stalls WHERE sweep_id = $1 AND level > 0 AND (case_id, rule) > ($2, $3)
		ORDER BY case_id, rule LIMIT $4`, sweepID, afterCase, afterRule, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Stall, error) {
		var s Stall
		err := row.Scan(&s.SweepID, &s.CaseID, &s.Rule, &s.CentreID, &s.Since, &s.Level, &s.Role, &s.Reason)
		return s, err
	})
}

// EscalationRow is one escalation signalled to a pathway.
type EscalationRow struct {
	CaseID   string    `json:"case_id"`
	CentreID string    `json:"centre_id"`
	Rule     string    `json:"rule"`
	Level    int       `json:"level"`
	Role     string    `json:"role"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	SweepID  string    `json:"sweep_id"`
	TaskKey  string    `json:"task_key"`
	Actor    string    `json:"actor"`
}

// RecordEscalation stores an escalation once per (case, rule, level). A row
// from an earlier stall, calmed by progress since, is replaced; a row of the
// current stall is kept. It reports whether the row was written.
func RecordEscalation(ctx context.Context, db EscalationDB, e EscalationRow) (bool, error) {
	if e.Actor == "" {
		e.Actor = "system"
	}
	tag, err := db.Exec(ctx, `INSERT INTO escalations (case_id, centre_id, rule, level, role, reason, at, sweep_id, task_key, actor)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (case_id, rule, level) DO UPDATE SET centre_id = EXCLUDED.centre_id, role = EXCLUDED.role,
			reason = EXCLUDED.reason, at = EXCLUDED.at, sweep_id = EXCLUDED.sweep_id, task_key = EXCLUDED.task_key,
			actor = EXCLUDED.actor
		WHERE escalations.at < (SELECT p.last_progress_at FROM pathways p WHERE p.case_id = EXCLUDED.case_id)`,
		e.CaseID, e.CentreID, e.Rule, e.Level, e.Role, e.Reason, e.At, e.SweepID, e.TaskKey, e.Actor)
	if err != nil {
		return false, fmt.Errorf("record escalation: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SweepCounts are a sweep's totals.
type SweepCounts struct {
	Stalled      int `json:"stalled"`
	Escalated    int `json:"escalated"`
	Waiting      int `json:"waiting"`
	Skipped      int `json:"skipped"`
	NotifyFailed int `json:"notify_failed"`
}

// FinishEscalationSweep records a sweep's end, its totals and its stalled
// and escalated cases per centre.
func FinishEscalationSweep(ctx context.Context, db EscalationDB, id string, at time.Time, c SweepCounts) error {
	if _, err := db.Exec(ctx, `UPDATE escalation_sweeps SET finished_at = $2, stalled = $3, escalated = $4,
		waiting = $5, skipped = $6, notify_failed = $7 WHERE id = $1`,
		id, at, c.Stalled, c.Escalated, c.Waiting, c.Skipped, c.NotifyFailed); err != nil {
		return fmt.Errorf("finish sweep: %w", err)
	}
	_, err := db.Exec(ctx, `INSERT INTO escalation_sweep_centres (sweep_id, centre_id, stalled, escalated)
		SELECT $1, s.centre_id, count(DISTINCT s.case_id),
			(SELECT count(*) FROM escalations e WHERE e.sweep_id = $1 AND e.centre_id = s.centre_id)
		FROM escalation_stalls s WHERE s.sweep_id = $1 GROUP BY s.centre_id
		ON CONFLICT (sweep_id, centre_id) DO UPDATE SET stalled = EXCLUDED.stalled, escalated = EXCLUDED.escalated`, id)
	if err != nil {
		return fmt.Errorf("finish sweep per centre: %w", err)
	}
	return nil
}

// SweepRow is a recorded sweep.
type SweepRow struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	SweepCounts
}

// RecentSweeps lists the latest sweeps, newest first.
func RecentSweeps(ctx context.Context, db EscalationDB, limit int) ([]SweepRow, error) {
	rows, err := db.Query(ctx, `SELECT id, kind, started_at, finished_at, stalled, escalated, waiting, skipped, notify_failed
		FROM escalation_sweeps ORDER BY started_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (SweepRow, error) {
		var s SweepRow
		err := row.Scan(&s.ID, &s.Kind, &s.StartedAt, &s.FinishedAt, &s.Stalled, &s.Escalated, &s.Waiting, &s.Skipped, &s.NotifyFailed)
		return s, err
	})
}

// GetSweep returns one recorded sweep, or ErrNotFound.
func GetSweep(ctx context.Context, db EscalationDB, id string) (SweepRow, error) {
	var s SweepRow
	err := db.QueryRow(ctx, `SELECT id, kind, started_at, finished_at, stalled, escalated, waiting, skipped, notify_failed
		FROM escalation_sweeps WHERE id = $1`, id).Scan(&s.ID, &s.Kind, &s.StartedAt, &s.FinishedAt, &s.Stalled, &s.Escalated, &s.Waiting, &s.Skipped, &s.NotifyFailed)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// EscalatedCase is a case with an open escalation: its highest open level.
type EscalatedCase struct {
	CaseID      string     `json:"case_id"`
	CentreID    string     `json:"centre_id"`
	Phase       string     `json:"phase"`
	Rule        string     `json:"rule"`
	Level       int        `json:"level"`
	Role        string     `json:"role"`
	Reason      string     `json:"reason"`
	EscalatedAt time.Time  `json:"escalated_at"` // when this level was reached
	FirstAt     time.Time  `json:"first_escalated_at"`
	TaskKey     string     `json:"task_key"`
	TaskDue     *time.Time `json:"task_due,omitempty"`
	AgeDays     int        `json:"age_days"` // since the first escalation of the stall
}

// EscalatedFilter selects escalated cases.
type EscalatedFilter struct {
	CentreIDs []string
	Role      string // the role whose open escalation tasks to list
	Limit     int
	// Viewer, when set, leaves out protected identities not assigned to them.
	Viewer *Viewer
}

// ListEscalated returns the cases whose escalation task is open, one row per
// case at its highest open level, the longest-stalled first. With a role it
// is that role's own open escalations, whatever level the case reached since
// (a team lead sees their level-2 task even where a level-3 one is open).
func ListEscalated(ctx context.Context, db EscalationDB, f EscalatedFilter, now time.Time) ([]EscalatedCase, error) {
	args := []any{f.CentreIDs, f.Role}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	args = append(args, f.Limit)
	hidden := ""
	if f.Viewer != nil {
		args = append(args, f.Viewer.StaffID)
		hidden = ` AND ` + protectedVisibleTo("$4")
	}
	rows, err := db.Query(ctx, `WITH open AS (
			SELECT e.*, t.due_at, p.phase,
				min(e.at) OVER (PARTITION BY e.case_id) AS first_at,
				row_number() OVER (PARTITION BY e.case_id ORDER BY e.level DESC, e.at DESC) AS rn
			FROM escalations e
			JOIN tasks t ON t.task_key = e.task_key AND t.status = 'open'
			JOIN pathways p ON p.case_id = e.case_id AND p.status = 'active'
			WHERE (coalesce(cardinality($1::text[]), 0) = 0 OR e.centre_id = ANY($1)) AND ($2 = '' OR e.role = $2)`+hidden+`
		)
		SELECT case_id, centre_id, phase, rule, level, role, reason, at, first_at, task_key, due_at
		FROM open WHERE rn = 1
		ORDER BY first_at, case_id LIMIT $3`, args...)
	if err != nil {
		return nil, fmt.Errorf("list escalated: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (EscalatedCase, error) {
		var c EscalatedCase
		err := row.Scan(&c.CaseID, &c.CentreID, &c.Phase, &c.Rule, &c.Level, &c.Role, &c.Reason, &c.EscalatedAt, &c.FirstAt, &c.TaskKey, &c.TaskDue)
		c.AgeDays = int(now.Sub(c.FirstAt) / (24 * time.Hour))
		return c, err
	})
}

// StallPoint is the number of stalled cases at one centre on one day: the
// last sweep of that day.
type StallPoint struct {
	Day       string `json:"day"` // YYYY-MM-DD in the given time zone
	CentreID  string `json:"centre_id"`
	Stalled   int    `json:"stalled"`
	Escalated int    `json:"escalated"`
}

// StallStats returns stalled cases per centre per day since from, from the
// last scheduled sweep of each day.
func StallStats(ctx context.Context, db EscalationDB, from time.Time, tz string, centreIDs []string) ([]StallPoint, error) {
	rows, err := db.Query(ctx, `WITH daily AS (
			SELECT DISTINCT ON ((started_at AT TIME ZONE $2)::date) id, (started_at AT TIME ZONE $2)::date AS day
			FROM escalation_sweeps
			WHERE started_at >= $1 AND kind = 'scheduled' AND finished_at IS NOT NULL
			ORDER BY (started_at AT TIME ZONE $2)::date, started_at DESC
		)
		SELECT to_char(d.day, 'YYYY-MM-DD'), c.centre_id, c.stalled, c.escalated
		FROM daily d JOIN escalation_sweep_centres c ON c.sweep_id = d.id
		WHERE coalesce(cardinality($3::text[]), 0) = 0 OR c.centre_id = ANY($3)
		ORDER BY d.day, c.centre_id`, from, tz, centreIDs)
	if err != nil {
		return nil, fmt.Errorf("stall stats: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (StallPoint, error) {
		var p StallPoint
		err := row.Scan(&p.Day, &p.CentreID, &p.Stalled, &p.Escalated)
		return p, err
	})
}

// EscalationContacts returns the addresses to mail when a case reaches a
// role: the active staff with the role at the case's centre (for the job
// coach, the case's assignee when set), plus the functional mailboxes of
// the role at the centre or at any centre ('*').
func EscalationContacts(ctx context.Context, db EscalationDB, caseID, centreID, role string) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT email FROM escalation_contacts WHERE role = $3 AND centre_id IN ($2, '*')
		UNION
		SELECT s.email FROM staff s WHERE s.active AND s.centre_id = $2 AND $3 = ANY(s.roles) AND s.email <> ''
			AND ($3 <> 'job_coach' OR NOT EXISTS (SELECT 1 FROM pathways p WHERE p.case_id = $1 AND p.assignee <> '')
				OR s.id = (SELECT p.assignee FROM pathways p WHERE p.case_id = $1))
		ORDER BY 1`, caseID, centreID, role)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// SetEscalationContact sets the mailbox of a role at a centre ('*': any).
func SetEscalationContact(ctx context.Context, db EscalationDB, centreID, role, email string) error {
	_, err := db.Exec(ctx, `INSERT INTO escalation_contacts (centre_id, role, email) VALUES ($1,$2,$3)
		ON CONFLICT (centre_id, role) DO UPDATE SET email = EXCLUDED.email`, centreID, role, email)
	return err
}
