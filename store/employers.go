package store

import (
	"context"
	"time"

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

// RecruitmentNeed is the shape of the development seed's needs, which the
// employer system's simulator serves (integrations.NeedRegistry is the one
// list of needs).
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

// ListEmployers returns employers; OpenNeeds is filled in by the caller
// from the employer system.
func ListEmployers(ctx context.Context, pool *pgxpool.Pool) ([]Employer, error) {
	rows, err := pool.Query(ctx, `SELECT e.id, e.name, e.org_number, e.municipality_code, e.contact_role, 0
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
