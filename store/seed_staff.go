package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// DevPassword is the password of every seeded development account. The
// accounts sign in only when auth.dev_accounts is on.
const DevPassword = "pathways-dev"

func init() { seeders = append(seeders, seedStaff, seedEmployers) }

// DevStaff lists the seeded development accounts: per centre a job coach,
// a job broker, an employment officer, a counsellor and a team lead, plus a
// unit manager and an administrator who see every centre.
func DevStaff() []Staff {
	short := map[string]string{
		"gbg-hisingen": "hisingen", "gbg-centrum-vaster": "centrum", "gbg-oster": "oster",
		"gbg-angered": "angered", "thn-framtidscentrum": "framtid", "thn-jobbcentrum": "jobbcentrum",
	}
	var out []Staff
	for _, c := range DemoCentres {
		s := short[c.ID]
		for _, r := range []struct{ prefix, role, title string }{
			{"coach", RoleJobCoach, "Job coach"}, {"broker", RoleJobBroker, "Job broker"},
			{"officer", RoleEmploymentOfficer, "Employment officer"}, {"counsellor", RoleCounsellor, "Counsellor"},
			{"team", RoleTeamLead, "Team lead"},
		} {
			id := r.prefix + "." + s
			out = append(out, Staff{ID: id, Name: fmt.Sprintf("%s, %s", r.title, c.Name), Email: id + "@pathways.test",
				CentreID: c.ID, Roles: []string{r.role}, Active: true})
		}
	}
	out = append(out,
		Staff{ID: "manager", Name: "Unit manager", Email: "manager@pathways.test", CentreID: "gbg-centrum-vaster", Roles: []string{RoleUnitManager}, Active: true},
		Staff{ID: "admin", Name: "Administrator", Email: "admin@pathways.test", CentreID: "gbg-centrum-vaster", Roles: []string{RoleAdministrator}, Active: true},
	)
	return out
}

func seedStaff(ctx context.Context, pool *pgxpool.Pool) error {
	accounts := DevStaff()
	var have int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM staff WHERE id = ANY($1)`, staffIDs(accounts)).Scan(&have); err != nil {
		return fmt.Errorf("seed staff: %w", err)
	}
	if have == len(accounts) {
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(DevPassword), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	for _, s := range accounts {
		if _, err := pool.Exec(ctx, `INSERT INTO staff (id, name, email, centre_id, roles, password_hash)
			VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (id) DO NOTHING`, s.ID, s.Name, s.Email, s.CentreID, s.Roles, string(hash)); err != nil {
			return fmt.Errorf("seed staff %s: %w", s.ID, err)
		}
	}
	return nil
}

func staffIDs(s []Staff) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i].ID
	}
	return out
}

// DemoEmployers are employers in shortage occupations with concrete needs.
var DemoEmployers = []Employer{
	{ID: "emp-sahlgrenska", Name: "Västra Götalandsregionen, Sahlgrenska", OrgNumber: "232100-0131", MunicipalityCode: "1480", ContactRole: "Recruiting manager"},
	{ID: "emp-vasttrafik", Name: "Västtrafik Buss", OrgNumber: "556558-5873", MunicipalityCode: "1480", ContactRole: "HR partner"},
	{ID: "emp-gbg-aldreomsorg", Name: "Göteborgs Stad, äldreomsorg", OrgNumber: "212000-1355", MunicipalityCode: "1480", ContactRole: "Unit manager"},
	{ID: "emp-thn-industri", Name: "Trollhättan Industriservice", OrgNumber: "556000-0001", MunicipalityCode: "1488", ContactRole: "Production manager"},
	{ID: "emp-thn-restaurang", Name: "Restaurang Fallen", OrgNumber: "556000-0002", MunicipalityCode: "1488", ContactRole: "Head chef"},
}

// DemoNeeds are their recruitment needs. They live in the employer system
// (the simulators serve them); pathways keeps no copy.
func DemoNeeds(now time.Time) []RecruitmentNeed {
	d := func(days int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	}
	return []RecruitmentNeed{
		{ID: "need-usk-hisingen", EmployerID: "emp-gbg-aldreomsorg", CentreID: "gbg-hisingen", SSYK: "5321", Title: "Assistant nurses (undersköterskor)", Positions: 12, StartDate: d(120), RequiredTraining: "Vård- och omsorgsprogrammet (yrkesvux)", ContactRole: "Unit manager"},
		{ID: "need-usk-sahlgrenska", EmployerID: "emp-sahlgrenska", SSYK: "5321", Title: "Assistant nurses, hospital wards", Positions: 8, StartDate: d(150), RequiredTraining: "Undersköterska (yrkesvux) and language internship", ContactRole: "Recruiting manager"},
		{ID: "need-bus-angered", EmployerID: "emp-vasttrafik", CentreID: "gbg-angered", SSYK: "8331", Title: "Bus drivers (Jobbspår)", Positions: 20, StartDate: d(90), RequiredTraining: "Bus driver licence D + YKB", ContactRole: "HR partner"},
		{ID: "need-cnc-thn", EmployerID: "emp-thn-industri", CentreID: "thn-jobbcentrum", SSYK: "7223", Title: "CNC operators", Positions: 6, StartDate: d(100), RequiredTraining: "CNC basic course (yrkesvux)", ContactRole: "Production manager"},
		{ID: "need-cook-thn", EmployerID: "emp-thn-restaurang", CentreID: "thn-framtidscentrum", SSYK: "5120", Title: "Cooks and kitchen assistants", Positions: 3, StartDate: d(60), RequiredTraining: "Restaurant and food (yrkesvux)", ContactRole: "Head chef"},
	}
}

func seedEmployers(ctx context.Context, pool *pgxpool.Pool) error {
	for _, e := range DemoEmployers {
		if _, err := pool.Exec(ctx, `INSERT INTO employers (id, name, org_number, municipality_code, contact_role)
			VALUES ($1,$2,$3,$4,$5) ON CONFLICT (id) DO NOTHING`, e.ID, e.Name, e.OrgNumber, e.MunicipalityCode, e.ContactRole); err != nil {
			return fmt.Errorf("seed employer %s: %w", e.ID, err)
		}
	}
	return nil
}
