package auth

import (
	"context"
	"net/http"

	"github.com/pathways-se/pathways/store"
)

type ctxKey struct{}

// Principal is the signed-in staff member of a request.
type Principal struct {
	store.Staff
	Session Session
	// Language is the console language the staff member chose, "" for none.
	Language string
}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the request's principal, or nil.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Viewer is the principal's visibility for store queries.
func (p *Principal) Viewer() store.Viewer {
	return store.Viewer{StaffID: p.ID, CentreID: p.CentreID, AllCentres: p.SeesAllCentres()}
}

// CanSeeCentre reports whether the principal may see a centre's cases.
func (p *Principal) CanSeeCentre(centreID string) bool {
	return p.SeesAllCentres() || p.CentreID == centreID
}

// Actions staff take; each maps to the roles that may take it.
const (
	ActStart        = "start"
	ActFirstContact = "first-contact"
	ActMapping      = "mapping"
	ActPlan         = "plan"
	ActOutcome      = "outcome"
	ActFollowUp     = "follow-up"
	ActPause        = "pause"
	ActResume       = "resume"
	ActTransfer     = "transfer"
	ActClose        = "close"
	ActCompleteTask = "complete-task"
	ActConfirmStep  = "confirm-step"
	ActReadPersonal = "read-personal"
	ActManageNeeds  = "manage-needs"
	ActReadAudit    = "read-audit"
	ActReadMonitor  = "read-monitor"
)

var team = []string{store.RoleJobCoach, store.RoleJobBroker, store.RoleEmploymentOfficer, store.RoleCounsellor, store.RoleTeamLead, store.RoleAdministrator}

// Permissions: roles decide actions. Unit managers read outcomes across
// centres but do not work cases; administrators may do anything.
var Permissions = map[string][]string{
	ActStart:        {store.RoleJobCoach, store.RoleEmploymentOfficer, store.RoleCounsellor, store.RoleTeamLead, store.RoleAdministrator},
	ActFirstContact: team,
	ActMapping:      {store.RoleJobCoach, store.RoleEmploymentOfficer, store.RoleCounsellor, store.RoleTeamLead, store.RoleAdministrator},
	ActPlan:         {store.RoleJobCoach, store.RoleEmploymentOfficer, store.RoleCounsellor, store.RoleTeamLead, store.RoleAdministrator},
	ActOutcome:      team,
	ActFollowUp:     team,
	ActPause:        {store.RoleJobCoach, store.RoleTeamLead, store.RoleAdministrator},
	ActResume:       {store.RoleJobCoach, store.RoleTeamLead, store.RoleAdministrator},
	ActTransfer:     {store.RoleJobCoach, store.RoleTeamLead, store.RoleUnitManager, store.RoleAdministrator},
	ActClose:        {store.RoleJobCoach, store.RoleTeamLead, store.RoleAdministrator},
	ActCompleteTask: team,
	ActConfirmStep:  team,
	ActReadPersonal: team,
	ActManageNeeds:  {store.RoleJobBroker, store.RoleTeamLead, store.RoleAdministrator},
	ActReadAudit:    {store.RoleTeamLead, store.RoleUnitManager, store.RoleAdministrator},
	// The equal-treatment monitor compares centres: for those who manage them.
	ActReadMonitor: {store.RoleUnitManager, store.RoleAdministrator},
}

// Can reports whether the principal's roles allow an action.
func (p *Principal) Can(action string) bool {
	return p != nil && p.HasRole(Permissions[action]...)
}

// Load resolves the request's session to an active staff member.
func (m *Manager) Load(r *http.Request) (*Principal, bool) {
	p, err := m.LoadErr(r)
	return p, err == nil
}

// LoadErr is Load, telling a missing session (ErrNoSession) from an outage
// of the store (ErrSessionsUnavailable).
func (m *Manager) LoadErr(r *http.Request) (*Principal, error) {
	return m.LoadCase(r, nil)
}

// LoadCase is LoadErr reading a case (and a staff action's earlier
// results) in the same round trip as the session; cr holds them when
// cr.Read, and is used only if the session holds.
func (m *Manager) LoadCase(r *http.Request, cr *store.CaseRead) (*Principal, error) {
	sess, row, err := m.session(r, cr)
	if err != nil {
		return nil, err
	}
	if !row.Staff.Active {
		return nil, ErrNoSession
	}
	return &Principal{Staff: row.Staff, Session: sess, Language: row.Language}, nil
}
