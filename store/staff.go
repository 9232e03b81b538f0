package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
)

// Staff roles.
const (
	RoleJobCoach          = "job_coach"
	RoleJobBroker         = "job_broker"
	RoleEmploymentOfficer = "employment_officer"
	RoleCounsellor        = "counsellor"
	RoleTeamLead          = "team_lead"
	RoleUnitManager       = "unit_manager"
	RoleAdministrator     = "administrator"
)

// Roles lists every role, in display order.
var Roles = []string{RoleJobCoach, RoleJobBroker, RoleEmploymentOfficer, RoleCounsellor, RoleTeamLead, RoleUnitManager, RoleAdministrator}

// Staff is one member of staff. PasswordHash is empty for OIDC-only accounts.
type Staff struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Email        string   `json:"email"`
	CentreID     string   `json:"centre_id"`
	Roles        []string `json:"roles"`
	PasswordHash string   `json:"-"`
	Active       bool     `json:"active"`
}

// HasRole reports whether the staff member holds any of roles.
func (s Staff) HasRole(roles ...string) bool {
	for _, have := range s.Roles {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// SeesAllCentres reports whether the role lets the person see every centre.
func (s Staff) SeesAllCentres() bool { return s.HasRole(RoleAdministrator, RoleUnitManager) }

const staffCols = `id, name, email, centre_id, roles, password_hash, active`

func scanStaff(row pgx.Row) (Staff, error) {
	var s Staff
	err := row.Scan(&s.ID, &s.Name, &s.Email, &s.CentreID, &s.Roles, &s.PasswordHash, &s.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// GetStaff returns one active or inactive staff member by ID.
func GetStaff(ctx context.Context, db Querier, id string) (Staff, error) {
	return scanStaff(db.QueryRow(ctx, `SELECT `+staffCols+` FROM staff WHERE id = $1`, id))
}

// GetStaffByEmail matches an OIDC e-mail claim, case-insensitively.
func GetStaffByEmail(ctx context.Context, db Querier, email string) (Staff, error) {
	return scanStaff(db.QueryRow(ctx, `SELECT `+staffCols+` FROM staff WHERE lower(email) = lower($1)`, email))
}

// UpsertStaff inserts or updates a staff member.
func UpsertStaff(ctx context.Context, pool *pgxpool.Pool, s Staff) error {
	_, err := pool.Exec(ctx, `INSERT INTO staff (id, name, email, centre_id, roles, password_hash, active)
		VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, centre_id = EXCLUDED.centre_id,
			roles = EXCLUDED.roles, password_hash = EXCLUDED.password_hash, active = EXCLUDED.active`,
		s.ID, s.Name, s.Email, s.CentreID, s.Roles, s.PasswordHash, s.Active)
	return err
}

// ListStaff returns staff of the given centres (all when empty), by name.
func ListStaff(ctx context.Context, pool *pgxpool.Pool, centreIDs []string) ([]Staff, error) {
	rows, err := pool.Query(ctx, `SELECT `+staffCols+` FROM staff
		WHERE active AND (cardinality($1::text[]) = 0 OR centre_id = ANY($1)) ORDER BY centre_id, name`, centreIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Staff{}
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Viewer is whose caseload a query returns: centre visibility and the
// protected-identity rule are applied in SQL, so totals and pages agree.
type Viewer struct {
	StaffID    string
	CentreID   string
	AllCentres bool
}

// visibility returns the SQL condition a viewer may see, given the next
// placeholder numbers.
func (v Viewer) condition(add func(cond string, val any)) {
	if !v.AllCentres {
		add("p.centre_id = $?", v.CentreID)
	}
	// Protected identity: only the staff assigned to the pathway.
	add(protectedVisibleTo("$?"), v.StaffID)
}

// protectedVisibleTo is the protected-identity rule on pathway p for the
// staff ID in placeholder ph.
func protectedVisibleTo(ph string) string {
	return `(p.assignee = ` + ph + ` OR NOT EXISTS (SELECT 1 FROM participants pa WHERE pa.id = p.participant_id AND pa.protected_identity))`
}

// protectedHiddenCases selects the case IDs protectedVisibleTo hides (of
// protected identities not assigned to the staff ID in ph), from the few
// protected people to their pathways.
func protectedHiddenCases(ph string) string {
	return `SELECT p.case_id FROM participants pa JOIN pathways p ON p.participant_id = pa.id
		WHERE pa.protected_identity AND p.assignee <> ` + ph
}

// ListVisiblePathways is ListPathways restricted to what the viewer may see.
// f.CentreIDs narrows further (a filter), never widens.
func ListVisiblePathways(ctx context.Context, pool *pgxpool.Pool, v Viewer, f PathwayFilter) (Page[PathwayRow], error) {
	return listPathways(ctx, pool, &v, f)
}

// RecordConsent stores the participant's registered consent.
func RecordConsent(ctx context.Context, db Execer, participantID uuid.UUID, scope []string, by string) error {
	_, err := db.Exec(ctx, `INSERT INTO consents (participant_id, scope, registered_by) VALUES ($1,$2,$3)`, participantID, scope, by)
	return err
}

// Consent is one registration of consent.
type Consent struct {
	Scope        []string   `json:"scope"`
	RegisteredAt time.Time  `json:"registered_at"`
	RegisteredBy string     `json:"registered_by"`
	WithdrawnAt  *time.Time `json:"withdrawn_at,omitempty"`
}

// Consents returns a participant's consents, newest first.
func Consents(ctx context.Context, pool *pgxpool.Pool, participantID uuid.UUID) ([]Consent, error) {
	rows, err := pool.Query(ctx, `SELECT scope, registered_at, registered_by, withdrawn_at FROM consents
		WHERE participant_id = $1 ORDER BY registered_at DESC`, participantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.Scope, &c.RegisteredAt, &c.RegisteredBy, &c.WithdrawnAt); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ActivePathwayFor returns the case ID of the person's active pathway, if any,
// keyed by canonical personal number (its blind index, or the plain column
// of a row not yet converted). The CLI import uses it to stay idempotent.
func ActivePathwayFor(ctx context.Context, db Querier, keys *keyring.Ring, personalNumber string) (string, error) {
	var caseID string
	err := db.QueryRow(ctx, `SELECT pw.case_id FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id
		WHERE (pa.personal_number_idx = $1 OR (pa.personal_number_enc IS NULL AND pa.personal_number = $2))
		AND pw.status = 'active'`, PersonalNumberIndex(keys, personalNumber), personalNumber).Scan(&caseID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return caseID, err
}

// ActivePathways is ActivePathwayFor for many people in one query: it maps
// each canonical personal number with an active pathway to its case ID.
func ActivePathways(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, personalNumbers []string) (map[string]string, error) {
	byIndex := make(map[string]string, len(personalNumbers))
	idx := make([][]byte, len(personalNumbers))
	for i, pnr := range personalNumbers {
		idx[i] = PersonalNumberIndex(keys, pnr)
		byIndex[string(idx[i])] = pnr
	}
	rows, err := pool.Query(ctx, `SELECT pw.case_id, pa.personal_number_idx, COALESCE(pa.personal_number, '')
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id
		WHERE (pa.personal_number_idx = ANY($1) OR (pa.personal_number_enc IS NULL AND pa.personal_number = ANY($2)))
		AND pw.status = 'active'`, idx, personalNumbers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var caseID, plain string
		var index []byte
		if err := rows.Scan(&caseID, &index, &plain); err != nil {
			return nil, err
		}
		if pnr, ok := byIndex[string(index)]; ok {
			out[pnr] = caseID
		} else if plain != "" {
			out[plain] = caseID
		}
	}
	return out, rows.Err()
}

// IsProtected reports whether a participant has a protected identity.
func IsProtected(ctx context.Context, db Querier, participantID string) (bool, error) {
	var p bool
	err := db.QueryRow(ctx, `SELECT protected_identity FROM participants WHERE id = $1::uuid`, participantID).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	return p, err
}
