// Package assignment hands a case to a member of its centre's staff: team
// leads assign and reassign the cases of their own centre, protected
// identities included (a protected case is visible to its assignee only, so
// without this it could never change hands). The API, the console and the
// CLI all call Assign; every change is audited in the same transaction.
package assignment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/store"
)

// AuditAssign is the audit action of an assignment.
const AuditAssign = "assign_case"

// Request assigns CaseID to Assignee, asked by StaffID.
type Request struct {
	CaseID    string `json:"case_id"`
	Assignee  string `json:"assignee"`
	StaffID   string `json:"-"` // who asks; from the session or --staff-id
	RequestID string `json:"-"` // for the audit row
}

// Result is what changed.
type Result struct {
	CaseID   string `json:"case_id"`
	From     string `json:"from"`
	To       string `json:"to"`
	Changed  bool   `json:"changed"`
	CentreID string `json:"centre_id"`
}

var (
	// ErrNotFound means no case has the ID.
	ErrNotFound = errors.New("no such case")
	// ErrForbidden means the staff member may not assign the case: only an
	// active team lead of the case's centre may.
	ErrForbidden = errors.New("only a team lead of the case's centre may assign it")
)

// FieldError is bad input, named by its field. Code is stable (the console
// translates by it); Message is the English text the CLI prints.
type FieldError struct {
	Field   string
	Code    string // required, unknown_staff, inactive, other_centre, closed
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Assign checks and applies one assignment: the case exists and is not
// closed, the caller is an active team lead of its centre, the assignee is
// an active staff member of that centre. Assigning the current assignee
// again changes nothing and writes no audit row, so a repeated request is
// harmless.
func Assign(ctx context.Context, pool *pgxpool.Pool, req Request) (Result, error) {
	req.CaseID, req.Assignee = strings.TrimSpace(req.CaseID), strings.TrimSpace(req.Assignee)
	if req.CaseID == "" {
		return Result{}, &FieldError{Field: "case_id", Code: "required", Message: "is required"}
	}
	var res Result
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT centre_id, assignee, status FROM pathways WHERE case_id = $1 FOR UPDATE`, req.CaseID).
			Scan(&res.CentreID, &res.From, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		lead, err := store.GetStaff(ctx, tx, req.StaffID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrForbidden
		}
		if err != nil {
			return err
		}
		if !lead.Active || !lead.HasRole(store.RoleTeamLead) || lead.CentreID != res.CentreID {
			return ErrForbidden
		}
		if req.Assignee == "" {
			return &FieldError{Field: "assignee", Code: "required", Message: "is required: the staff ID of the new assignee"}
		}
		if status == "closed" {
			return &FieldError{Field: "case_id", Code: "closed", Message: "the case is closed"}
		}
		to, err := store.GetStaff(ctx, tx, req.Assignee)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return &FieldError{Field: "assignee", Code: "unknown_staff", Message: "no staff member has this ID"}
		case err != nil:
			return err
		case !to.Active:
			return &FieldError{Field: "assignee", Code: "inactive", Message: "this staff member's account is not active"}
		case to.CentreID != res.CentreID:
			return &FieldError{Field: "assignee", Code: "other_centre", Message: fmt.Sprintf("the assignee must work at %s, the case's centre", res.CentreID)}
		}
		res.CaseID, res.To = req.CaseID, to.ID
		if res.From == res.To {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE pathways SET assignee = $2 WHERE case_id = $1`, req.CaseID, res.To); err != nil {
			return err
		}
		res.Changed = true
		return store.WriteAudit(ctx, tx, store.AuditEntry{StaffID: req.StaffID, Action: AuditAssign, CaseID: req.CaseID,
			RequestID: req.RequestID, Detail: map[string]any{"from": res.From, "to": res.To}})
	})
	return res, err
}
