package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
)

// PathwayRow is the read model of one pathway: no personal data.
type PathwayRow struct {
	CaseID           string           `json:"case_id"`
	ParticipantID    string           `json:"participant_id"`
	CentreID         string           `json:"centre_id"`
	WorkflowID       string           `json:"workflow_id"`
	Programme        string           `json:"programme"`
	ProgrammeVersion int              `json:"programme_version"`
	Track            string           `json:"track"`
	ActivityDuty     bool             `json:"activity_duty"`
	Status           string           `json:"status"`
	Phase            string           `json:"phase"`
	CurrentStep      string           `json:"current_step"`
	ReferralSource   string           `json:"referral_source"`
	ReferredAt       time.Time        `json:"referred_at"`
	StartedAt        time.Time        `json:"started_at"`
	FirstContactDue  *time.Time       `json:"first_contact_due,omitempty"`
	MappingDue       *time.Time       `json:"mapping_due,omitempty"`
	TimeLimitAt      *time.Time       `json:"time_limit_at,omitempty"`
	DaysLeft         *int             `json:"days_left,omitempty"`
	Paused           bool             `json:"paused"`
	LastProgressAt   time.Time        `json:"last_progress_at"`
	ClosedAt         *time.Time       `json:"closed_at,omitempty"`
	ClosureReason    string           `json:"closure_reason,omitempty"`
	Outcome          *pathway.Outcome `json:"outcome,omitempty"`
	Assignee         string           `json:"assignee"`
	OpenTasks        int              `json:"open_tasks"`
}

const pathwayCols = `p.case_id, p.participant_id::text, p.centre_id, p.workflow_id, p.programme, p.programme_version,
	p.track, p.activity_duty, p.status, p.phase, p.current_step, p.referral_source, p.referred_at, p.started_at,
	p.first_contact_due, p.mapping_due, p.time_limit_at, p.days_left, p.paused, p.last_progress_at, p.closed_at,
	p.closure_reason, p.outcome, p.assignee,
	(SELECT count(*) FROM tasks t WHERE t.case_id = p.case_id AND t.status = 'open')`

func scanPathway(row pgx.Row) (PathwayRow, error) {
	var r PathwayRow
	var outcome []byte
	err := row.Scan(&r.CaseID, &r.ParticipantID, &r.CentreID, &r.WorkflowID, &r.Programme, &r.ProgrammeVersion,
		&r.Track, &r.ActivityDuty, &r.Status, &r.Phase, &r.CurrentStep, &r.ReferralSource, &r.ReferredAt, &r.StartedAt,
		&r.FirstContactDue, &r.MappingDue, &r.TimeLimitAt, &r.DaysLeft, &r.Paused, &r.LastProgressAt, &r.ClosedAt,
		&r.ClosureReason, &outcome, &r.Assignee, &r.OpenTasks)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err == nil && len(outcome) > 0 {
		r.Outcome = &pathway.Outcome{}
		err = json.Unmarshal(outcome, r.Outcome)
	}
	return r, err
}

// GetPathway returns one pathway's read model.
func GetPathway(ctx context.Context, db Querier, caseID string) (PathwayRow, error) {
	return scanPathway(db.QueryRow(ctx, `SELECT `+pathwayCols+` FROM pathways p WHERE p.case_id = $1`, caseID))
}

// PathwayFilter selects and orders a caseload page.
type PathwayFilter struct {
	CentreIDs      []string // empty: all centres (callers enforce visibility)
	Status         string   // active, closed or empty
	Phase          string
	Track          string
	Assignee       string
	Overdue        bool // first contact or mapping past due
	StalledDays    int  // no progress for this many days
	ParticipantIDs []string
	Sort           string // field, optionally prefixed by "-" for descending
	Limit, Offset  int
	Now            time.Time
}

var sortable = map[string]string{
	"case_id": "p.case_id", "started_at": "p.started_at", "last_progress_at": "p.last_progress_at",
	"phase": "p.phase", "time_limit_at": "p.time_limit_at", "centre_id": "p.centre_id", "days_left": "p.days_left",
}

// SortFields lists the fields a caseload may be sorted by.
func SortFields() []string {
	return []string{"case_id", "started_at", "last_progress_at", "phase", "time_limit_at", "centre_id", "days_left"}
}

// Page is one page of a list and the total across pages.
type Page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// ListPathways returns a filtered, sorted page of all pathways (for
// integrators' scripts; staff lists go through ListVisiblePathways).
func ListPathways(ctx context.Context, pool *pgxpool.Pool, f PathwayFilter) (Page[PathwayRow], error) {
	return listPathways(ctx, pool, nil, f)
}

// listPathways builds the caseload query; a viewer restricts it in SQL so
// totals and pages agree.
func listPathways(ctx context.Context, pool *pgxpool.Pool, viewer *Viewer, f PathwayFilter) (Page[PathwayRow], error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if viewer != nil {
		viewer.condition(add)
	}
	if len(f.CentreIDs) > 0 {
		add("p.centre_id = ANY($?)", f.CentreIDs)
	}
	if f.Status != "" {
		add("p.status = $?", f.Status)
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
	if len(f.ParticipantIDs) > 0 {
		add("p.participant_id::text = ANY($?)", f.ParticipantIDs)
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	if f.Overdue {
		args = append(args, now)
		n := fmt.Sprintf("$%d", len(args))
		where = append(where, `p.status = 'active' AND ((p.phase = 'referral' AND p.first_contact_due < `+n+
			`) OR (p.phase = 'mapping' AND p.mapping_due < `+n+`))`)
	}
	if f.StalledDays > 0 {
		add("p.status = 'active' AND p.last_progress_at < $?", now.Add(-time.Duration(f.StalledDays)*24*time.Hour))
	}
	order := "p.last_progress_at DESC, p.case_id"
	if f.Sort != "" {
		field, desc := strings.CutPrefix(f.Sort, "-")
		col, ok := sortable[field]
		if !ok {
			return Page[PathwayRow]{}, fmt.Errorf("cannot sort by %q (use one of %s)", field, strings.Join(SortFields(), ", "))
		}
		order = col
		if desc {
			order += " DESC"
		}
		order += ", p.case_id"
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	cond := strings.Join(where, " AND ")
	page := Page[PathwayRow]{Limit: f.Limit, Offset: f.Offset, Items: []PathwayRow{}}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pathways p WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM pathways p WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d`,
		pathwayCols, cond, order, len(args)-1, len(args)), args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanPathway(rows)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, r)
	}
	return page, rows.Err()
}

// TimelineEntry is a stored timeline event.
type TimelineEntry struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Kind    string          `json:"kind"`
	Summary string          `json:"summary"`
	Actor   string          `json:"actor,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Timeline returns a pathway's events, oldest first, decrypted.
func Timeline(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, caseID string) ([]TimelineEntry, error) {
	rows, err := pool.Query(ctx, `SELECT seq, at, kind, actor, summary_enc, data_enc, COALESCE(summary, ''), data
		FROM timeline WHERE case_id = $1 ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TimelineEntry{}
	for rows.Next() {
		var e TimelineEntry
		var summaryEnc, dataEnc, data []byte
		if err := rows.Scan(&e.Seq, &e.At, &e.Kind, &e.Actor, &summaryEnc, &dataEnc, &e.Summary, &data); err != nil {
			return nil, err
		}
		e.Data = data
		if err := openEvent(keys, summaryEnc, dataEnc, &e.Summary, &e.Data); err != nil {
			return nil, fmt.Errorf("timeline %s/%d: %w", caseID, e.Seq, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TaskRow is a stored human task.
type TaskRow struct {
	ID        int64      `json:"id"`
	Key       string     `json:"key"`
	CaseID    string     `json:"case_id"`
	CentreID  string     `json:"centre_id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Role      string     `json:"role"`
	Assignee  string     `json:"assignee"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
}

// TaskFilter selects tasks.
type TaskFilter struct {
	CentreIDs     []string
	CaseID        string
	Role          string
	Assignee      string
	Status        string // default open
	Limit, Offset int
	// Viewer, when set, leaves out tasks of cases the viewer may not see.
	Viewer *Viewer
}

// ListTasks returns a page of tasks, the earliest due first.
func ListTasks(ctx context.Context, pool *pgxpool.Pool, f TaskFilter) (Page[TaskRow], error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Status == "" {
		f.Status = "open"
	}
	add("t.status = $?", f.Status)
	if f.Viewer != nil {
		f.Viewer.condition(add)
	}
	if len(f.CentreIDs) > 0 {
		add("p.centre_id = ANY($?)", f.CentreIDs)
	}
	if f.CaseID != "" {
		add("t.case_id = $?", f.CaseID)
	}
	if f.Role != "" {
		add("t.role = $?", f.Role)
	}
	if f.Assignee != "" {
		add("t.assignee = $?", f.Assignee)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	cond := strings.Join(where, " AND ")
	page := Page[TaskRow]{Limit: f.Limit, Offset: f.Offset, Items: []TaskRow{}}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks t JOIN pathways p ON p.case_id = t.case_id WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT t.id, t.task_key, t.case_id, p.centre_id, t.kind, t.title, t.role, t.assignee,
			t.due_at, t.status, t.created_at
		FROM tasks t JOIN pathways p ON p.case_id = t.case_id WHERE %s
		ORDER BY t.due_at NULLS LAST, t.id LIMIT $%d OFFSET $%d`, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var t TaskRow
		if err := rows.Scan(&t.ID, &t.Key, &t.CaseID, &t.CentreID, &t.Kind, &t.Title, &t.Role, &t.Assignee, &t.DueAt, &t.Status, &t.CreatedAt); err != nil {
			return page, err
		}
		page.Items = append(page.Items, t)
	}
	return page, rows.Err()
}
