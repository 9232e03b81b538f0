package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/store"
)

// A centre sweep is the daily sweep run now over one centre: a team lead
// asks for it from the console, an operator with `pathways schedule
// trigger --centre`. Both call SweepCentre.

// CentreSweep asks for a sweep of one centre.
type CentreSweep struct {
	CentreID string
	StaffID  string // who asks: a team lead of the centre, or staff who see every centre
	// Key is the caller's idempotency key: the same key again reports on
	// the first run instead of sweeping twice.
	Key   string
	Rules []Rule // the configured rules (ParseRules); empty: the defaults
}

// AuditCentreSweep is the audit action of a centre sweep asked for.
const AuditCentreSweep = "escalation_centre_sweep"

// ErrNotAllowed means the staff member may not sweep that centre.
var ErrNotAllowed = errors.New("only a team lead of the centre may run its sweep")

// CentreSweepWorkflowIDPrefix starts every centre sweep's workflow ID.
const CentreSweepWorkflowIDPrefix = "escalation-sweep-centre-"

// CentreSweepWorkflowID names the sweep of req: its centre, and a hash of
// who asked under which key (the key is the caller's text).
func CentreSweepWorkflowID(req CentreSweep) string {
	sum := sha256.Sum256([]byte(req.StaffID + "\x00" + req.Key))
	return CentreSweepWorkflowIDPrefix + req.CentreID + "-" + hex.EncodeToString(sum[:12])
}

// IsCentreSweepWorkflowID tells whether id names a centre sweep.
func IsCentreSweepWorkflowID(id string) bool {
	return strings.HasPrefix(id, CentreSweepWorkflowIDPrefix)
}

// CentreOfSweep is the centre a centre sweep's workflow ID names (centre IDs
// hold hyphens, the hash after the last one does not); "" for another ID.
func CentreOfSweep(id string) string {
	rest, ok := strings.CutPrefix(id, CentreSweepWorkflowIDPrefix)
	i := strings.LastIndex(rest, "-")
	if !ok || i <= 0 {
		return ""
	}
	return rest[:i]
}

// SweepCentre checks that the staff member may sweep the centre (an active
// team lead there, or a role that sees every centre), audits the request
// and starts the sweep, or finds the one the same key started. It returns
// the sweep's workflow ID; the sweep records itself as kind "centre".
func SweepCentre(ctx context.Context, pool *pgxpool.Pool, c client.Client, taskQueue string, req CentreSweep) (string, error) {
	if req.CentreID == "" {
		return "", errors.New("centre is required")
	}
	if req.StaffID == "" {
		return "", errors.New("staff_id is required")
	}
	if req.Key == "" {
		return "", errors.New("an idempotency key is required")
	}
	st, err := store.GetStaff(ctx, pool, req.StaffID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.Active) {
		return "", ErrNotAllowed
	}
	if err != nil {
		return "", err
	}
	if !st.SeesAllCentres() && !(st.HasRole(store.RoleTeamLead) && st.CentreID == req.CentreID) {
		return "", ErrNotAllowed
	}
	var known bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM centres WHERE id = $1)`, req.CentreID).Scan(&known); err != nil {
		return "", err
	}
	if !known {
		return "", fmt.Errorf("centre %q does not exist", req.CentreID)
	}
	rules := req.Rules
	if len(rules) == 0 {
		rules = DefaultRules()
	}
	id := CentreSweepWorkflowID(req)
	if err := store.WriteAudit(ctx, pool, store.AuditEntry{StaffID: req.StaffID, Action: AuditCentreSweep,
		Detail: map[string]any{"centre_id": req.CentreID, "workflow_id": id}}); err != nil {
		return "", err
	}
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}, contract.SweepWorkflowName, SweepInput{Rules: rules, SweepID: id, CentreIDs: []string{req.CentreID}, Actor: req.StaffID})
	var dup *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &dup) {
		return id, nil // finished before: the first run stands
	}
	return id, err
}
