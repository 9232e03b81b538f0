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
}

// ListAudit returns audit rows, newest first.
func ListAudit(ctx context.Context, pool *pgxpool.Pool, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := pool.Query(ctx, `SELECT id, at, staff_id, action, case_id, participant_id, detail, request_id FROM audit_log
		WHERE ($1 = '' OR staff_id = $1) AND ($2 = '' OR case_id = $2) AND ($3::uuid IS NULL OR participant_id = $3)
		ORDER BY at DESC, id DESC LIMIT $4`, f.StaffID, f.CaseID, f.ParticipantID, f.Limit)
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
