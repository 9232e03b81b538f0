package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Audit actions.
const (
	AuditReadPersonalData = "read_personal_data"
	AuditStartPathway     = "start_pathway"
	AuditAction           = "pathway_action" // detail.action names the Update
	AuditConfirmStep      = "confirm_step"
	AuditSignIn           = "sign_in"
	AuditSignInFailed     = "sign_in_failed"
	AuditDenied           = "access_denied"
	AuditImport           = "import"
	// AuditSignOutEverywhere: an administrator ended a staff member's sessions.
	AuditSignOutEverywhere = "sign_out_everywhere"
	// AuditDuplicateReferral: a referral for someone with an active pathway
	// was routed to the owning centre instead of starting a second one.
	AuditDuplicateReferral = "duplicate_referral"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID            int64          `json:"id"`
	At            time.Time      `json:"at"`
	StaffID       string         `json:"staff_id"`
	Action        string         `json:"action"`
	CaseID        string         `json:"case_id,omitempty"`
	ParticipantID *uuid.UUID     `json:"participant_id,omitempty"`
	Detail        map[string]any `json:"detail,omitempty"`
	RequestID     string         `json:"request_id,omitempty"`
}

// WriteAudit appends one row. Detail must never hold a personal number.
func WriteAudit(ctx context.Context, db Execer, e AuditEntry) error {
	var detail []byte
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		detail = b
	}
	_, err := db.Exec(ctx, `INSERT INTO audit_log (staff_id, action, case_id, participant_id, detail, request_id)
		VALUES ($1,$2,$3,$4,$5,$6)`, e.StaffID, e.Action, e.CaseID, e.ParticipantID, detail, e.RequestID)
	return err
}

// AuditFilter selects audit rows for review.
type AuditFilter struct {
	StaffID       string
	CaseID        string
	ParticipantID *uuid.UUID
	Limit         int
	// Viewer, when set, leaves out rows about cases the viewer may not see
	// (a protected identity not assigned to them; another centre's case
	// unless they see every centre).
	Viewer *Viewer
}

// ListAudit returns audit rows, newest first.
func ListAudit(ctx context.Context, pool *pgxpool.Pool, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	args := []any{f.StaffID, f.CaseID, f.ParticipantID, f.Limit}
	scope := ""
	if v := f.Viewer; v != nil {
		args = append(args, v.StaffID, v.CentreID, v.AllCentres)
		// Rows about a case that is gone (culled) stay visible to those who
		// see every centre; the hidden ones are hidden from everyone else.
		scope = ` AND (a.case_id = '' OR ($7 AND NOT EXISTS (SELECT 1 FROM pathways p WHERE p.case_id = a.case_id AND NOT ` + protectedVisibleTo("$5") + `))
			OR EXISTS (SELECT 1 FROM pathways p WHERE p.case_id = a.case_id AND ($7 OR p.centre_id = $6) AND ` + protectedVisibleTo("$5") + `))`
	}
	rows, err := pool.Query(ctx, `SELECT id, at, staff_id, action, case_id, participant_id, detail, request_id FROM audit_log a
		WHERE ($1 = '' OR staff_id = $1) AND ($2 = '' OR case_id = $2) AND ($3::uuid IS NULL OR participant_id = $3)`+scope+`
		ORDER BY seq DESC LIMIT $4`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var detail []byte
		if err := rows.Scan(&e.ID, &e.At, &e.StaffID, &e.Action, &e.CaseID, &e.ParticipantID, &detail, &e.RequestID); err != nil {
			return nil, err
		}
		if len(detail) > 0 {
			_ = json.Unmarshal(detail, &e.Detail)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditCheck is what VerifyAudit found.
type AuditCheck struct {
	Rows    int64  // rows in the log
	Culled  int64  // rows removed by retention, whose hashes remain
	HeadSeq int64  // the newest row's place in the chain
	Head    string // its hash (hex): record it elsewhere to detect a cut tail
	// BrokenSeq and BrokenID name the first row whose chain does not hold
	// (0 when the chain is whole); Problem says how.
	BrokenSeq int64
	BrokenID  int64
	Problem   string
}

// OK reports whether the chain is whole.
func (c AuditCheck) OK() bool { return c.BrokenSeq == 0 }

// VerifyAudit recomputes the hash chain over the audit log (and the hashes
// retention kept of culled rows) and names the first row that breaks it: a
// changed row no longer matches its hash, a removed row leaves a gap, a
// re-chained row no longer matches its successor's prev_hash.
func VerifyAudit(ctx context.Context, pool *pgxpool.Pool) (AuditCheck, error) {
	var c AuditCheck
	err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM audit_culled),
		coalesce((SELECT max(seq) FROM audit_log), 0),
		coalesce((SELECT encode(hash, 'hex') FROM audit_log ORDER BY seq DESC LIMIT 1), '')`).Scan(&c.Rows, &c.Culled, &c.HeadSeq, &c.Head)
	if err != nil {
		return c, err
	}
	var id *int64
	err = pool.QueryRow(ctx, `WITH chain AS (
			SELECT seq, id, prev_hash, hash, audit_row_hash(prev_hash, a) AS recomputed, false AS culled FROM audit_log a
			UNION ALL
			SELECT seq, NULL, NULL, hash, hash, true FROM audit_culled
		), ordered AS (
			SELECT *, lag(hash) OVER (ORDER BY seq) AS expected_prev, lag(seq) OVER (ORDER BY seq) AS prev_seq FROM chain
		)
		SELECT seq, id, CASE
			WHEN seq <> coalesce(prev_seq, 0) + 1 THEN 'rows before it are missing'
			WHEN hash <> recomputed THEN 'its content does not match its hash (changed)'
			ELSE 'its link to the previous row does not hold' END
		FROM ordered
		WHERE seq <> coalesce(prev_seq, 0) + 1 OR hash <> recomputed OR (NOT culled AND prev_hash IS DISTINCT FROM expected_prev)
		ORDER BY seq LIMIT 1`).Scan(&c.BrokenSeq, &id, &c.Problem)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	if id != nil {
		c.BrokenID = *id
	}
	return c, err
}

// CullAudit removes audit rows through the log's one documented path
// (audit_cull), which keeps each row's hash so the chain still verifies.
func CullAudit(ctx context.Context, pool *pgxpool.Pool, ids []int64) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `SELECT audit_cull($1)`, ids).Scan(&n)
	return n, err
}

// WriteAuditPatiently writes e, retrying for up to patience: the row records
// something that already happened, so a short database outage must not lose
// it. It runs on a context the caller's leaving does not cancel.
func WriteAuditPatiently(ctx context.Context, db Execer, e AuditEntry, patience time.Duration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), patience)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := WriteAudit(ctx, db, e)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
