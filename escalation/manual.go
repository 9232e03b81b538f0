package escalation

import (
	"context"
	"fmt"
	"time"

	"github.com/pathways-se/pathways/store"
)

// ManualRequest escalates one case or many by filter.
type ManualRequest struct {
	Filter  store.ManualFilter `json:"filter"`
	Reason  string             `json:"reason"`
	MinRole string             `json:"min_role,omitempty"` // escalate to at least this role
	StaffID string             `json:"staff_id"`
}

// ManualResult is what a manual escalation did.
type ManualResult struct {
	SweepID   string   `json:"sweep_id"`
	Matched   int      `json:"matched"`
	Escalated int      `json:"escalated"`
	AtTop     []string `json:"at_top,omitempty"`  // already at the top of the ladder
	Skipped   []string `json:"skipped,omitempty"` // no longer running
	Failed    []string `json:"failed,omitempty"`
	Notify    int      `json:"notify_failed"`
}

// Manual escalates by hand, outside the schedule: each matching active case
// climbs one level of the "manual" rule (at least to MinRole), whether or
// not the open task is due. progress, if set, is called after each case.
func (a *Activities) Manual(ctx context.Context, req ManualRequest, now time.Time, progress func(done, total int)) (ManualResult, error) {
	if err := CheckReason(req.Reason); err != nil {
		return ManualResult{}, err
	}
	if req.StaffID == "" {
		return ManualResult{}, fmt.Errorf("staff_id is required")
	}
	if req.MinRole != "" && LevelOf(req.MinRole) == 0 {
		return ManualResult{}, fmt.Errorf("min_role %q is not on the ladder %v", req.MinRole, Ladder)
	}
	res := ManualResult{SweepID: fmt.Sprintf("manual-%s-%d", now.UTC().Format("20060102T150405"), now.UnixNano()%1e6)}
	var stalls []store.Stall
	err := a.Store.FindForManual(ctx, req.Filter, func(r store.StallRow) error {
		res.Matched++
		cur := Current{Level: r.CurLevel, TaskStatus: r.TaskStatus}
		level := ManualLevel(req.MinRole, cur)
		if level == 0 {
			res.AtTop = append(res.AtTop, r.CaseID)
			return nil
		}
		stalls = append(stalls, store.Stall{SweepID: res.SweepID, CaseID: r.CaseID, Rule: RuleManual, CentreID: r.CentreID,
			Level: level, Role: RoleAt(level), Reason: req.Reason})
		return nil
	})
	if err != nil {
		return res, err
	}
	if err := a.Store.BeginSweep(ctx, res.SweepID, "manual", now); err != nil {
		return res, err
	}
	if err := a.Store.ReplaceStalls(ctx, res.SweepID, stalls); err != nil {
		return res, err
	}
	for i, s := range stalls {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out, err := a.escalate(ctx, s, now, req.StaffID)
		switch {
		case err != nil:
			res.Failed = append(res.Failed, s.CaseID)
		case out.skipped:
			res.Skipped = append(res.Skipped, s.CaseID)
		case out.recorded:
			res.Escalated++
		}
		if out.notifyFailed {
			res.Notify++
		}
		if progress != nil {
			progress(i+1, len(stalls))
		}
	}
	err = a.Store.FinishSweep(ctx, res.SweepID, time.Now(), store.SweepCounts{Stalled: res.Matched, Escalated: res.Escalated,
		Waiting: len(res.AtTop), Skipped: len(res.Skipped), NotifyFailed: res.Notify})
	if err == nil && len(res.Failed) > 0 {
		err = fmt.Errorf("%d case(s) could not be signalled: %v", len(res.Failed), res.Failed)
	}
	return res, err
}
