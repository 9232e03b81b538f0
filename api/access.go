package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// Access rules that span several handlers: what a principal may see in a
// list, which cases they may name, and where a referral may go.

// viewer is the request principal's visibility for store lists.
func viewer(r *http.Request) *store.Viewer {
	p := principal(r)
	if p == nil {
		return nil
	}
	v := p.Viewer()
	return &v
}

// checkCases applies the case access rule to each named case: a protected
// identity not assigned to the caller is not found, another centre's case
// is forbidden.
func (s *Server) checkCases(r *http.Request, caseIDs []string) (int, *Problem) {
	for _, id := range caseIDs {
		if _, status, prob := s.check(r, id); prob != nil {
			prob.Message += ": " + id
			return status, prob
		}
	}
	return http.StatusOK, nil
}

// sameCentreStaff reports whether a staff member works at the caller's centre.
func (s *Server) sameCentreStaff(r *http.Request, staffID string) bool {
	st, err := store.GetStaff(r.Context(), s.Pool, staffID)
	return err == nil && st.CentreID == principal(r).CentreID
}

// referralCentre is where a referral will be routed, or "" when it cannot
// be (the case service then says which field is wrong).
func (s *Server) referralCentre(ctx context.Context, ref cases.Referral) string {
	if ref.CentreID != "" {
		return ref.CentreID
	}
	if num, err := identity.Parse(ref.PersonalNumber, time.Now()); err == nil && ref.District != "" {
		if c, err := store.CentreFor(ctx, s.Pool, ref.District, num.AgeOn(time.Now())); err == nil {
			return c.ID
		}
	}
	return ""
}

// checkAssignee refuses an assignee who does not exist, is inactive or works
// elsewhere: a protected case is visible to its assignee only, so a wrong
// one would hide it from everybody.
func (s *Server) checkAssignee(ctx context.Context, ref cases.Referral, centre string) *Problem {
	invalid := func(msg string) *Problem {
		return &Problem{Code: "invalid", Field: "assignee", Message: "assignee: " + msg,
			Fields: []FieldProblem{{Field: "assignee", Code: "invalid", Message: msg}}}
	}
	if ref.Assignee == "" {
		if ref.ProtectedIdentity {
			return invalid("a protected identity needs an assignee from the centre's staff")
		}
		return nil
	}
	st, err := store.GetStaff(ctx, s.Pool, ref.Assignee)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return invalid("no staff member has this ID")
	case err != nil:
		return &Problem{Code: "unavailable", Message: "the staff register could not be read; nothing was written; try again"}
	case !st.Active:
		return invalid("this staff member's account is not active")
	case centre != "" && st.CentreID != centre:
		return invalid(fmt.Sprintf("the assignee must work at %s, where this referral goes", centre))
	}
	return nil
}

// ReferralReceived answers a referral for someone who already has an
// active pathway the caller may not see. It says nothing about that
// pathway: the owning centre's team lead gets a task instead.
type ReferralReceived struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var referralReceived = ReferralReceived{Status: "referral_received",
	Message: "The referral was received and passed on for handling; no new pathway was started here."}

// duplicateRule names the escalation a forwarded referral opens.
const duplicateRule = "duplicate_referral"

// forwardDuplicate handles a referral refused as a duplicate. When the
// caller may see the active pathway, the answer stays 409 (ok false). When
// they may not (another centre, or a protected identity not assigned to
// them) the referral goes to the owning centre's team lead as a task on
// that pathway and the answer is a neutral 202: no second workflow starts,
// and the caller learns nothing about where the person is.
func (s *Server) forwardDuplicate(r *http.Request, ref cases.Referral) (int, *Problem, bool) {
	num, err := identity.Parse(ref.PersonalNumber, time.Now())
	if err != nil {
		return 0, nil, false
	}
	caseID, err := store.ActivePathwayFor(r.Context(), s.Pool, s.Keys, num.Canonical)
	if err != nil {
		return 0, nil, false
	}
	row, err := store.GetPathway(r.Context(), s.Pool, caseID)
	if err != nil {
		return 0, nil, false
	}
	if s.visible(r, row) {
		return 0, nil, false
	}
	status, prob := s.passOn(r, row)
	return status, prob, true
}

// passOn sends a referral for row's person, which the caller may not see,
// to the owning centre's team lead as a task on that pathway.
func (s *Server) passOn(r *http.Request, row store.PathwayRow) (int, *Problem) {
	caseID, p := row.CaseID, principal(r)
	e := pathway.Escalation{Rule: duplicateRule, Level: escalation.LevelOf(store.RoleTeamLead), Role: store.RoleTeamLead,
		Reason: "a further referral for this participant came in at " + p.CentreID}
	if err := s.Temporal.SignalWorkflow(r.Context(), pathway.WorkflowID(caseID), "", pathway.SignalEscalate, e); err != nil {
		s.Log.Error("forward duplicate referral", zap.Error(err))
		return http.StatusServiceUnavailable, &Problem{Code: "start_failed", Message: "the referral could not be passed on; nothing was written; try again"}
	}
	pid, _ := uuid.Parse(row.ParticipantID)
	s.audit(r, store.AuditEntry{Action: store.AuditDuplicateReferral, CaseID: caseID, ParticipantID: &pid,
		Detail: map[string]any{"from_centre": p.CentreID}})
	return http.StatusAccepted, nil
}

// visible applies the case rule without auditing a denial.
func (s *Server) visible(r *http.Request, row store.PathwayRow) bool {
	p := principal(r)
	if !p.CanSeeCentre(row.CentreID) {
		return false
	}
	protected, err := store.IsProtected(r.Context(), s.Pool, row.ParticipantID)
	return err == nil && (!protected || row.Assignee == p.ID)
}
