package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Centre is a competence centre.
type Centre struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Municipality     string   `json:"municipality"`
	MunicipalityCode string   `json:"municipality_code"`
	Districts        []string `json:"districts"`
	MinAge           int      `json:"min_age"`
	MaxAge           int      `json:"max_age"`
}

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

const centreCols = `id, name, municipality, municipality_code, districts, min_age, max_age`

func scanCentre(row pgx.Row) (Centre, error) {
	var c Centre
	err := row.Scan(&c.ID, &c.Name, &c.Municipality, &c.MunicipalityCode, &c.Districts, &c.MinAge, &c.MaxAge)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// GetCentre returns one centre.
func GetCentre(ctx context.Context, db Querier, id string) (Centre, error) {
	return scanCentre(db.QueryRow(ctx, `SELECT `+centreCols+` FROM centres WHERE id = $1`, id))
}

// ListCentres returns all centres by name.
func ListCentres(ctx context.Context, pool *pgxpool.Pool) ([]Centre, error) {
	rows, err := pool.Query(ctx, `SELECT `+centreCols+` FROM centres ORDER BY municipality, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Centre
	for rows.Next() {
		c, err := scanCentre(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CentreFor routes a participant: by district, then by age within the
// municipality (Trollhättan splits 16–24 and 25+).
func CentreFor(ctx context.Context, db Querier, district string, age int) (Centre, error) {
	c, err := scanCentre(db.QueryRow(ctx, `SELECT `+centreCols+` FROM centres
		WHERE $1 = ANY(districts) AND $2 BETWEEN min_age AND max_age ORDER BY id LIMIT 1`, district, age))
	if errors.Is(err, ErrNotFound) {
		return c, &NoCentreError{District: district, Age: age}
	}
	return c, err
}

// NoCentreError says no centre serves a district at an age: bad input, unlike
// a registry that cannot be read.
type NoCentreError struct {
	District string
	Age      int
}

func (e *NoCentreError) Error() string {
	return fmt.Sprintf("no centre serves district %q at age %d", e.District, e.Age)
}

// Querier is satisfied by a pool, a connection and a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Execer is satisfied by a pool, a connection and a transaction, so a write
// can join the caller's transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
