package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Employer is an organisation that recruits through the centres.
type Employer struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	OrgNumber        string `json:"org_number"`
	MunicipalityCode string `json:"municipality_code"`
	ContactRole      string `json:"contact_role"`
	OpenNeeds        int    `json:"open_needs"`
}

// RecruitmentNeed is an employer's concrete need in an occupation.
type RecruitmentNeed struct {
	ID               string    `json:"id"`
	EmployerID       string    `json:"employer_id"`
	EmployerName     string    `json:"employer_name"`
	CentreID         string    `json:"centre_id,omitempty"`
	SSYK             string    `json:"ssyk"`
	Title            string    `json:"title"`
	Positions        int       `json:"positions"`
	StartDate        time.Time `json:"start_date"`
	RequiredTraining string    `json:"required_training"`
	ContactRole      string    `json:"contact_role"`
	Status           string    `json:"status"`
}

// UpsertEmployer inserts or updates an employer.
func UpsertEmployer(ctx context.Context, pool *pgxpool.Pool, e Employer) error {
	_, err := pool.Exec(ctx, `INSERT INTO employers (id, name, org_number, municipality_code, contact_role)
		VALUES ($1,$2,$3,$4,$5) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, org_number = EXCLUDED.org_number,
		municipality_code = EXCLUDED.municipality_code, contact_role = EXCLUDED.contact_role`,
		e.ID, e.Name, e.OrgNumber, e.MunicipalityCode, e.ContactRole)
	return err
}

// UpsertNeed inserts or updates a recruitment need.
func UpsertNeed(ctx context.Context, pool *pgxpool.Pool, n RecruitmentNeed) error {
	if n.Status == "" {
		n.Status = "open"
	}
	var centre *string
	if n.CentreID != "" {
		centre = &n.CentreID
	}
	_, err := pool.Exec(ctx, `INSERT INTO recruitment_needs (id, employer_id, centre_id, ssyk, title, positions, start_date,
			required_training, contact_role, status)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO UPDATE SET employer_id = EXCLUDED.employer_id,
			centre_id = EXCLUDED.centre_id, ssyk = EXCLUDED.ssyk, title = EXCLUDED.title, positions = EXCLUDED.positions,
			start_date = EXCLUDED.start_date, required_training = EXCLUDED.required_training,
			contact_role = EXCLUDED.contact_role, status = EXCLUDED.status`,
		n.ID, n.EmployerID, centre, n.SSYK, n.Title, n.Positions, n.StartDate, n.RequiredTraining, n.ContactRole, n.Status)
	return err
}

// ListEmployers returns employers with their count of open needs.
func ListEmployers(ctx context.Context, pool *pgxpool.Pool) ([]Employer, error) {
	rows, err := pool.Query(ctx, `SELECT e.id, e.name, e.org_number, e.municipality_code, e.contact_role,
			(SELECT count(*) FROM recruitment_needs n WHERE n.employer_id = e.id AND n.status = 'open')
		FROM employers e ORDER BY e.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Employer{}
	for rows.Next() {
		var e Employer
		if err := rows.Scan(&e.ID, &e.Name, &e.OrgNumber, &e.MunicipalityCode, &e.ContactRole, &e.OpenNeeds); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// NeedFilter selects recruitment needs.
type NeedFilter struct {
	SSYK       string
	EmployerID string
	CentreID   string // needs of this centre plus those tied to none
	Status     string // default open; "all" for every status
}

const needCols = `n.id, n.employer_id, e.name, COALESCE(n.centre_id, ''), n.ssyk, n.title, n.positions, n.start_date,
	n.required_training, n.contact_role, n.status`

func scanNeed(row pgx.Row) (RecruitmentNeed, error) {
	var n RecruitmentNeed
	err := row.Scan(&n.ID, &n.EmployerID, &n.EmployerName, &n.CentreID, &n.SSYK, &n.Title, &n.Positions, &n.StartDate,
		&n.RequiredTraining, &n.ContactRole, &n.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, ErrNotFound
	}
	return n, err
}

// ListNeeds returns recruitment needs, the earliest start first.
func ListNeeds(ctx context.Context, pool *pgxpool.Pool, f NeedFilter) ([]RecruitmentNeed, error) {
	if f.Status == "" {
		f.Status = "open"
	}
	rows, err := pool.Query(ctx, `SELECT `+needCols+` FROM recruitment_needs n JOIN employers e ON e.id = n.employer_id
		WHERE ($1 = 'all' OR n.status = $1) AND ($2 = '' OR n.ssyk = $2) AND ($3 = '' OR n.employer_id = $3)
			AND ($4 = '' OR n.centre_id IS NULL OR n.centre_id = $4)
		ORDER BY n.start_date, n.id`, f.Status, f.SSYK, f.EmployerID, f.CentreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RecruitmentNeed{}
	for rows.Next() {
		n, err := scanNeed(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// GetNeed returns one recruitment need.
func GetNeed(ctx context.Context, db Querier, id string) (RecruitmentNeed, error) {
	return scanNeed(db.QueryRow(ctx, `SELECT `+needCols+` FROM recruitment_needs n JOIN employers e ON e.id = n.employer_id WHERE n.id = $1`, id))
}
