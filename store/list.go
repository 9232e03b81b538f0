package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// pathwayCols counts open tasks in a subquery: select it only over a page's
// rows (see listPathways), never over rows an OFFSET skips.
const pathwayCols = `p.case_id, p.participant_id::text, p.centre_id, p.workflow_id, p.programme, p.programme_version,
	p.track, p.activity_duty, p.status, p.phase, p.current_step, p.referral_source, p.referred_at, p.started_at,
	p.first_contact_due, p.mapping_due, p.time_limit_at, p.days_left, p.paused, p.last_progress_at, p.closed_at,
	p.closure_reason, p.outcome, p.assignee,
	(SELECT count(*) FROM tasks t WHERE t.case_id = p.case_id AND t.status = 'open')`

// scanPathway scans pathwayCols, then any extra columns into extra.
func scanPathway(row pgx.Row, extra ...any) (PathwayRow, error) {
	var r PathwayRow
	var outcome []byte
	err := row.Scan(append([]any{&r.CaseID, &r.ParticipantID, &r.CentreID, &r.WorkflowID, &r.Programme, &r.ProgrammeVersion,
		&r.Track, &r.ActivityDuty, &r.Status, &r.Phase, &r.CurrentStep, &r.ReferralSource, &r.ReferredAt, &r.StartedAt,
		&r.FirstContactDue, &r.MappingDue, &r.TimeLimitAt, &r.DaysLeft, &r.Paused, &r.LastProgressAt, &r.ClosedAt,
		&r.ClosureReason, &outcome, &r.Assignee, &r.OpenTasks}, extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err == nil && len(outcome) > 0 {
		r.Outcome = &pathway.Outcome{}
		err = json.Unmarshal(outcome, r.Outcome)
	}
	return r, err
}

// planned runs a list's query planned for its values: a list's filters vary
// too much for one cached generic plan, which at 100,000 pathways scans
// many times more rows and cannot use the partial indexes.
func planned(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// GetPathway returns one pathway's read model.
func GetPathway(ctx context.Context, db Querier, caseID string) (PathwayRow, error) {
	return scanPathway(db.QueryRow(ctx, `SELECT `+pathwayCols+` FROM pathways p WHERE p.case_id = $1`, caseID))
}

// GetPathwayAccess returns one pathway's read model and whether its
// participant has a protected identity, in one query: every staff request
// about a case checks both.
func GetPathwayAccess(ctx context.Context, db Querier, caseID string) (PathwayRow, bool, error) {
	var protected bool
	r, err := scanPathway(db.QueryRow(ctx, pathwayAccess, caseID), &protected)
	return r, protected, err
}

const pathwayAccess = `SELECT ` + pathwayCols + `, pa.protected_identity
		FROM pathways p JOIN participants pa ON pa.id = p.participant_id WHERE p.case_id = $1`

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
	CaseIDs        []string
	// NameTokens (NameSearchTokens) keeps the people with every token: a
	// search by name, confirmed by the caller on the decrypted page.
	NameTokens    [][]byte
	Sort          string // field, optionally prefixed by "-" for descending
	Limit, Offset int
	Now           time.Time
	// After is the Next cursor of the previous page: the page starts after
	// that row (keyset), so a deep page costs what the first does. With
	// After, Offset skips nothing; it is echoed as the page's position.
	After string
}

var sortable = map[string]string{
	"case_id": "p.case_id", "started_at": "p.started_at", "last_progress_at": "p.last_progress_at",
	"phase": "p.phase", "time_limit_at": "p.time_limit_at", "centre_id": "p.centre_id", "days_left": "p.days_left",
}

// sortType is each sort column's SQL type, for the cursor's value; the
// columns not listed here are NOT NULL text.
var sortType = map[string]string{
	"started_at": "timestamptz", "last_progress_at": "timestamptz", "time_limit_at": "timestamptz", "days_left": "int",
}

// sortValue is a row's value of a sort field as the cursor stores it (nil
// for NULL).
func sortValue(r PathwayRow, field string) *string {
	str := func(s string) *string { return &s }
	at := func(t *time.Time) *string {
		if t == nil {
			return nil
		}
		return str(t.UTC().Format(time.RFC3339Nano))
	}
	switch field {
	case "started_at":
		return at(&r.StartedAt)
	case "last_progress_at":
		return at(&r.LastProgressAt)
	case "time_limit_at":
		return at(r.TimeLimitAt)
	case "days_left":
		if r.DaysLeft == nil {
			return nil
		}
		return str(strconv.Itoa(*r.DaysLeft))
	case "phase":
		return str(r.Phase)
	case "centre_id":
		return str(r.CentreID)
	}
	return str(r.CaseID)
}

// cursor is the position after a row: its sort value and case ID (a
// task's ID) as the tie breaker. It is opaque to clients and carries no
// personal data.
type cursor struct {
	Sort  string  `json:"s"`
	Value *string `json:"v"`
	Case  string  `json:"c"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadCursor is a cursor this list did not issue (or issued for another
// sort order).
var ErrBadCursor = errors.New("after is not a cursor of this list and sort order")

// decodeCursor reads a cursor of sort order sort whose value is of SQL
// type typ (timestamptz, int or text).
func decodeCursor(s, sort, typ string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Sort != sort || c.Case == "" {
		return c, ErrBadCursor
	}
	if c.Value != nil {
		switch typ {
		case "timestamptz":
			_, err = time.Parse(time.RFC3339Nano, *c.Value)
		case "int":
			_, err = strconv.Atoi(*c.Value)
		}
	}
	if err != nil {
		return c, ErrBadCursor
	}
	return c, nil
}

// keysetCondition is the rows after a cursor in ORDER BY col [DESC], tie,
// with PostgreSQL's NULL placement (last ascending, first descending); v
// and id are the placeholders of the cursor's value and tie breaker.
func keysetCondition(col, tie string, desc, valueNull bool, v, id string) string {
	switch {
	case valueNull && desc: // NULLs come first: the rest of the NULLs, then every value
		return fmt.Sprintf("((%s IS NULL AND %s > %s) OR %s IS NOT NULL)", col, tie, id, col)
	case valueNull: // NULLs come last
		return fmt.Sprintf("(%s IS NULL AND %s > %s)", col, tie, id)
	case desc:
		return fmt.Sprintf("(%s < %s OR (%s = %s AND %s > %s))", col, v, col, v, tie, id)
	}
	return fmt.Sprintf("(%s > %s OR (%s = %s AND %s > %s) OR %s IS NULL)", col, v, col, v, tie, id, col)
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
	// Next, when set, is the cursor of the page after this one (pass it
	// as after); only keyset-paged lists set it.
	Next string `json:"next,omitempty"`
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
	if viewer != nil && !viewer.AllCentres {
		add("p.centre_id = $?", viewer.CentreID)
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
		add("p.participant_id = ANY($?::uuid[])", f.ParticipantIDs) // typed, so pathways_participant serves it
	}
	if len(f.CaseIDs) > 0 {
		add("p.case_id = ANY($?)", f.CaseIDs)
	}
	if len(f.NameTokens) > 0 {
		add(nameTokenCondition("$?", len(f.NameTokens)), f.NameTokens)
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
	sortField, desc := "last_progress_at", true
	if f.Sort != "" {
		sortField, desc = strings.CutPrefix(f.Sort, "-")
	}
	col, ok := sortable[sortField]
	if !ok {
		return Page[PathwayRow]{}, fmt.Errorf("cannot sort by %q (use one of %s)", sortField, strings.Join(SortFields(), ", "))
	}
	order := col
	if desc {
		order += " DESC"
	}
	order += ", p.case_id"
	sortKey := map[bool]string{true: "-", false: ""}[desc] + sortField
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	page := Page[PathwayRow]{Limit: f.Limit, Offset: f.Offset, Items: []PathwayRow{}}
	// The total is the filter's rows less the protected identities the
	// viewer may not see: the first count reads only the filter's columns
	// (an index alone), the second starts from the few protected people.
	countSQL := `SELECT count(*) FROM pathways p WHERE ` + strings.Join(where, " AND ")
	if viewer != nil {
		args = append(args, viewer.StaffID)
		staff := fmt.Sprintf("$%d", len(args))
		countSQL = `SELECT (` + countSQL + `) - (SELECT count(*) FROM participants pa JOIN pathways p ON p.participant_id = pa.id
			WHERE pa.protected_identity AND p.assignee <> ` + staff + ` AND ` + strings.Join(where, " AND ") + `)`
		where = append(where, protectedVisibleTo(staff))
	}
	if err := pool.QueryRow(ctx, countSQL, planned(args)...).Scan(&page.Total); err != nil {
		return page, err
	}
	cond := strings.Join(where, " AND ")
	skip := f.Offset
	if f.After != "" {
		typ := sortType[sortField]
		if typ == "" {
			typ = "text"
		}
		c, err := decodeCursor(f.After, sortKey, typ)
		if err != nil {
			return page, err
		}
		v := ""
		if c.Value != nil { // a NULL's condition has no value to compare
			args = append(args, *c.Value)
			v = fmt.Sprintf("$%d::%s", len(args), typ)
		}
		args = append(args, c.Case)
		cond += " AND " + keysetCondition(col, "p.case_id", desc, c.Value == nil, v, fmt.Sprintf("$%d", len(args)))
		skip = 0
	}
	// The inner query picks the page's case IDs (a narrow sort, in memory
	// even at deep offsets); only the page's rows are read whole and get
	// their open tasks counted, never the rows an OFFSET skips.
	args = append(args, f.Limit, skip)
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM pathways p JOIN (SELECT p.case_id FROM pathways p WHERE %s
		ORDER BY %s LIMIT $%d OFFSET $%d) page ON page.case_id = p.case_id ORDER BY %s`,
		pathwayCols, cond, order, len(args)-1, len(args), order), planned(args)...)
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
	if err := rows.Err(); err != nil {
		return page, err
	}
	if n := len(page.Items); n == f.Limit && (f.After != "" || f.Offset+n < page.Total) {
		last := page.Items[n-1]
		page.Next = encodeCursor(cursor{Sort: sortKey, Value: sortValue(last, sortField), Case: last.CaseID})
	}
	return page, nil
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
	// After is the Next cursor of the previous page (as PathwayFilter's).
	After string
}

// ListTasks returns a page of tasks, the earliest due first.
//
// Every condition is on the task row alone (tasks carry their pathway's
// centre, migration 00170), so a centre's inbox, its count and a deep
// page read one index in due order; the protected-identity rule is the
// few hidden cases, looked up once per query.
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
	if f.CaseID != "" {
		add("t.case_id = $?", f.CaseID)
	}
	if f.Role != "" {
		add("t.role = $?", f.Role)
	}
	if f.Assignee != "" {
		add("t.assignee = $?", f.Assignee)
	}
	if v := f.Viewer; v != nil && !v.AllCentres {
		add("t.centre_id = $?", v.CentreID)
	}
	// The viewer's own centre again would only halve the planner's row
	// estimate.
	if len(f.CentreIDs) > 0 && (f.Viewer == nil || f.Viewer.AllCentres || !slices.Equal(f.CentreIDs, []string{f.Viewer.CentreID})) {
		add("t.centre_id = ANY($?)", f.CentreIDs)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	page := Page[TaskRow]{Limit: f.Limit, Offset: f.Offset, Items: []TaskRow{}}
	// As in listPathways, the total is the filter's tasks (an index alone)
	// less those of the protected identities the viewer may not see.
	countSQL := `SELECT count(*) FROM tasks t WHERE ` + strings.Join(where, " AND ")
	if v := f.Viewer; v != nil {
		add("t.case_id NOT IN ("+protectedHiddenCases("$?")+")", v.StaffID) // uncorrelated: hashed once
		countSQL = `SELECT (` + countSQL + `) - (SELECT count(*) FROM tasks t WHERE ` + strings.Join(where[:len(where)-1], " AND ") +
			fmt.Sprintf(` AND t.case_id IN (%s))`, protectedHiddenCases(fmt.Sprintf("$%d", len(args))))
	}
	if err := pool.QueryRow(ctx, countSQL, planned(args)...).Scan(&page.Total); err != nil {
		return page, err
	}
	cond := strings.Join(where, " AND ")
	// The page's IDs first, from the indexes alone, so a deep offset skips
	// narrow index entries; then only the page's rows whole.
	query := func(cond string, args []any, limit, skip int) error {
		args = append(args, limit, skip)
		rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT t.id, t.task_key, t.case_id, t.centre_id, t.kind, t.title, t.role, t.assignee,
				t.due_at, t.status, t.created_at
			FROM tasks t JOIN (SELECT t.id FROM tasks t WHERE %s
				ORDER BY t.due_at NULLS LAST, t.id LIMIT $%d OFFSET $%d) page ON page.id = t.id
			ORDER BY t.due_at NULLS LAST, t.id`, cond, len(args)-1, len(args)), planned(args)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t TaskRow
			if err := rows.Scan(&t.ID, &t.Key, &t.CaseID, &t.CentreID, &t.Kind, &t.Title, &t.Role, &t.Assignee, &t.DueAt, &t.Status, &t.CreatedAt); err != nil {
				return err
			}
			page.Items = append(page.Items, t)
		}
		return rows.Err()
	}
	if f.After == "" {
		if err := query(cond, args, f.Limit, max(f.Offset, 0)); err != nil {
			return page, err
		}
	} else {
		c, err := decodeCursor(f.After, "due_at", "timestamptz")
		id, perr := strconv.ParseInt(c.Case, 10, 64)
		if err == nil && perr != nil {
			err = ErrBadCursor
		}
		if err != nil {
			return page, err
		}
		// A row comparison the index can start from; the tasks without a
		// due date come after every dated one, so a page that runs past the
		// last dated task goes on with them.
		nulls := fmt.Sprintf("%s AND t.due_at IS NULL AND t.id > $%d", cond, len(args)+1)
		if c.Value != nil {
			after := fmt.Sprintf("%s AND (t.due_at, t.id) > ($%d::timestamptz, $%d::bigint)", cond, len(args)+1, len(args)+2)
			if err := query(after, append(args[:len(args):len(args)], *c.Value, id), f.Limit, 0); err != nil {
				return page, err
			}
			id = 0
		}
		if n := len(page.Items); n < f.Limit {
			if err := query(nulls, append(args[:len(args):len(args)], id), f.Limit-n, 0); err != nil {
				return page, err
			}
		}
	}
	if n := len(page.Items); n == f.Limit && (f.After != "" || f.Offset+n < page.Total) {
		last := page.Items[n-1]
		var due *string
		if last.DueAt != nil {
			due = new(string)
			*due = last.DueAt.UTC().Format(time.RFC3339Nano)
		}
		page.Next = encodeCursor(cursor{Sort: "due_at", Value: due, Case: strconv.FormatInt(last.ID, 10)})
	}
	return page, nil
}
