package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/store"
)

// A manual escalation is the ManualEscalation workflow (in workflows/):
// staff start it through the API or the CLI, never run it in their request.

// ManualRequest escalates one case or many by filter.
type ManualRequest = contract.ManualRequest

// ManualFilter picks the cases of a manual escalation.
type ManualFilter = contract.ManualFilter

// ManualProgress is a manual escalation's state and counts.
type ManualProgress = contract.ManualProgress

// CheckManual refuses a request that cannot run; the API and the CLI check
// before they start the workflow, and its first activity checks again.
func CheckManual(req ManualRequest) error {
	if err := CheckReason(req.Reason); err != nil {
		return err
	}
	if req.StaffID == "" {
		return errors.New("staff_id is required")
	}
	if req.MinRole != "" && LevelOf(req.MinRole) == 0 {
		return fmt.Errorf("min_role %q is not on the ladder %v", req.MinRole, Ladder)
	}
	f := req.Filter
	if len(f.CaseIDs) == 0 && len(f.CentreIDs) == 0 && f.Phase == "" && f.Track == "" && f.Assignee == "" {
		return errors.New("name case_ids or a filter (centre_ids, phase, track, assignee)")
	}
	return nil
}

// FindForManual decides, for each active case the request matches, its
// next level on the manual ladder (one above the current one, at least
// MinRole, due or not), opens the sweep record and stores the list for
// EscalateBatch. A retry decides the same, as nothing is escalated yet.
func (a *Activities) FindForManual(ctx context.Context, in contract.ManualFindInput) (contract.ManualFound, error) {
	req := in.Request
	if err := CheckManual(req); err != nil {
		return contract.ManualFound{}, temporal.NewNonRetryableApplicationError(err.Error(), "bad_request", nil)
	}
	var res contract.ManualFound
	var stalls []store.Stall
	f := req.Filter
	sf := store.ManualFilter{CaseIDs: f.CaseIDs, CentreIDs: f.CentreIDs, Phase: f.Phase, Track: f.Track, Assignee: f.Assignee, Limit: f.Limit}
	if v := f.Viewer; v != nil {
		sf.Viewer = &store.Viewer{StaffID: v.StaffID, CentreID: v.CentreID, AllCentres: v.AllCentres}
	}
	err := a.Store.FindForManual(ctx, sf, func(r store.StallRow) error {
		res.Matched++
		level := ManualLevel(req.MinRole, Current{Level: r.CurLevel, TaskStatus: r.TaskStatus})
		if level == 0 {
			res.AtTop = append(res.AtTop, r.CaseID)
			return nil
		}
		stalls = append(stalls, store.Stall{SweepID: in.SweepID, CaseID: r.CaseID, Rule: RuleManual, CentreID: r.CentreID,
			Level: level, Role: RoleAt(level), Reason: req.Reason})
		return nil
	})
	if err != nil {
		return res, err
	}
	res.ToEscalate = len(stalls)
	if err := a.Store.BeginSweep(ctx, in.SweepID, "manual", in.Now); err != nil {
		return res, err
	}
	return res, a.Store.ReplaceStalls(ctx, in.SweepID, stalls)
}

// ManualKey is the business key of a request that came without an
// idempotency key: the same staff member asking the same thing on the same
// (UTC) day is one escalation, not two.
func ManualKey(req ManualRequest, now time.Time) string {
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(append([]byte(now.UTC().Format("2006-01-02")+"\n"), b...))
	return "request:" + hex.EncodeToString(sum[:])
}

// ManualWorkflowID is the workflow ID of staffID's escalation under key. The
// key is hashed: it is the caller's text, and the ID shows in URLs and logs.
func ManualWorkflowID(staffID, key string) string {
	sum := sha256.Sum256([]byte(staffID + "\x00" + key))
	return contract.ManualWorkflowIDPrefix + hex.EncodeToString(sum[:12])
}

// IsManualWorkflowID tells whether id names a manual escalation.
func IsManualWorkflowID(id string) bool {
	h, ok := strings.CutPrefix(id, contract.ManualWorkflowIDPrefix)
	_, err := hex.DecodeString(h)
	return ok && len(h) == 24 && err == nil
}

// StartManual starts the escalation under workflowID, or finds the one a
// repeated request started, running or finished: either way the caller
// reports on workflowID. A failed run may be started again under the same key.
func StartManual(ctx context.Context, c client.Client, taskQueue, workflowID string, req ManualRequest) error {
	if err := CheckManual(req); err != nil {
		return err
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflowID, TaskQueue: taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}, contract.ManualWorkflowName, req)
	var dup *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &dup) {
		return nil // finished before: the first run's result stands
	}
	return err
}

// ErrNoEscalation means no manual escalation has that ID.
var ErrNoEscalation = errors.New("no such escalation")

// ManualStatus reports a manual escalation: its progress while it runs, its
// result when done, and the Temporal status (failed, terminated, …) when it
// ended otherwise, with the counts it had reached.
func ManualStatus(ctx context.Context, c client.Client, workflowID string) (ManualProgress, error) {
	p := ManualProgress{SweepID: workflowID}
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return p, ErrNoEscalation
	}
	if err != nil {
		return p, err
	}
	st := d.WorkflowExecutionInfo.GetStatus()
	if st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, &p)
		return p, err
	}
	if v, err := c.QueryWorkflow(ctx, workflowID, "", contract.QueryManualProgress); err == nil {
		_ = v.Get(&p)
	} else {
		p.State = "queued" // no worker has picked it up yet
	}
	if st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		p.State = strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_"))
	}
	return p, nil
}
