package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
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
func WriteAudit(ctx context.Context, pool *pgxpool.Pool, e AuditEntry) error {
	var detail []byte
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return err
		}
		detail = b
	}
	_, err := pool.Exec(ctx, `INSERT INTO audit_log (staff_id, action, case_id, participant_id, detail, request_id)
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
		ORDER BY at DESC, id DESC LIMIT $4`, args...)
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
