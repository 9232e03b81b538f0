package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DemoCentres are the centres the seeds describe: Göteborg's competence
// centres by district and Trollhättan's two centres by age.
var DemoCentres = []Centre{
	{ID: "gbg-hisingen", Name: "Kompetenscenter Hisingen", Municipality: "Göteborg", MunicipalityCode: "1480", Districts: []string{"Hisingen", "Norra Hisingen", "Västra Hisingen", "Lundby"}, MinAge: 16, MaxAge: 66},
	{ID: "gbg-centrum-vaster", Name: "Kompetenscenter Centrum-Väster", Municipality: "Göteborg", MunicipalityCode: "1480", Districts: []string{"Centrum", "Majorna-Linné", "Askim-Frölunda-Högsbo", "Västra Göteborg"}, MinAge: 16, MaxAge: 66},
	{ID: "gbg-oster", Name: "Kompetenscenter Öster", Municipality: "Göteborg", MunicipalityCode: "1480", Districts: []string{"Örgryte-Härlanda", "Östra Göteborg"}, MinAge: 16, MaxAge: 66},
	{ID: "gbg-angered", Name: "Kompetenscenter Angered", Municipality: "Göteborg", MunicipalityCode: "1480", Districts: []string{"Angered", "Nordost"}, MinAge: 16, MaxAge: 66},
	{ID: "thn-framtidscentrum", Name: "Framtidscentrum", Municipality: "Trollhättan", MunicipalityCode: "1488", Districts: []string{"Trollhättan"}, MinAge: 16, MaxAge: 24},
	{ID: "thn-jobbcentrum", Name: "Jobbcentrum", Municipality: "Trollhättan", MunicipalityCode: "1488", Districts: []string{"Trollhättan"}, MinAge: 25, MaxAge: 66},
}

// SeedDemo inserts the demo centres. It is idempotent; later seeders (staff,
// employers) append to seeders.
func SeedDemo(ctx context.Context, pool *pgxpool.Pool) error {
	for _, s := range seeders {
		if err := s(ctx, pool); err != nil {
			return err
		}
	}
	return nil
}

// seeders run in order; a feature adds its own from an init in its file.
var seeders = []func(context.Context, *pgxpool.Pool) error{seedCentres}

func seedCentres(ctx context.Context, pool *pgxpool.Pool) error {
	for _, c := range DemoCentres {
		_, err := pool.Exec(ctx, `INSERT INTO centres (id, name, municipality, municipality_code, districts, min_age, max_age)
			VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (id) DO NOTHING`,
			c.ID, c.Name, c.Municipality, c.MunicipalityCode, c.Districts, c.MinAge, c.MaxAge)
		if err != nil {
			return fmt.Errorf("seed centre %s: %w", c.ID, err)
		}
	}
	return nil
}
