package simulators

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pathways-se/pathways/store"
)

// Municipality codes (SCB kommunkoder) the simulator knows.
var municipalities = map[string]string{
	"1480": "Göteborg",
	"1481": "Mölndal",
	"1482": "Kungälv",
	"1485": "Uddevalla",
	"1487": "Vänersborg",
	"1488": "Trollhättan",
	"1489": "Alingsås",
	"1490": "Borås",
}

// occupations are SSYK 2012 unit groups (four digits) used for vacancies and
// recruitment needs; package taxonomy holds their JobTech concept IDs.
var occupations = []struct {
	SSYK     string
	Label    string
	Headline []string
	Training string
}{
	{"5321", "Undersköterskor, hemsjukvård, äldreboende och habilitering",
		[]string{"Undersköterska till hemtjänsten", "Undersköterska, särskilt boende", "Undersköterska natt"},
		"Vård- och omsorgsprogrammet eller motsvarande (undersköterska, skyddad yrkestitel)"},
	{"5330", "Vårdbiträden",
		[]string{"Vårdbiträde till äldreboende", "Timvikarie vårdbiträde"}, "Introduktion i vård och omsorg"},
	{"5311", "Barnskötare",
		[]string{"Barnskötare till förskola", "Barnskötare, vikariat"}, "Barn- och fritidsprogrammet eller yrkesvux barnskötare"},
	{"5120", "Kockar och kallskänkor",
		[]string{"Kock till restaurang", "Kock, storkök", "Kallskänka"}, "Yrkesvux kock/storhushåll"},
	{"9412", "Restaurang- och köksbiträden m.fl.",
		[]string{"Restaurangbiträde", "Köksbiträde, skolkök"}, "Hygienutbildning (livsmedel)"},
	{"8332", "Lastbilsförare m.fl.",
		[]string{"Lastbilschaufför C/CE", "Distributionsförare", "Chaufför, fjärrtrafik"}, "C/CE-körkort och YKB"},
	{"8331", "Buss- och spårvagnsförare",
		[]string{"Bussförare, linjetrafik", "Bussförare, extrapersonal"}, "D-körkort och YKB"},
	{"4111", "Ekonomiassistenter m.fl.",
		[]string{"Ekonomiassistent", "Ekonomiassistent, kundreskontra"}, "Yrkesvux ekonomi eller motsvarande"},
	{"7111", "Träarbetare, snickare m.fl.",
		[]string{"Snickare", "Byggnadssnickare", "Lärling snickare"}, "Yrkesvux bygg och anläggning"},
}

var employerNames = []string{
	"Västkustens Omsorg AB", "Älvstranden Vård & Hemtjänst AB", "Nordvik Bygg AB", "Trollstadens Transport AB",
	"Hisingens Restaurang & Catering AB", "Götaälv Redovisning AB", "Kronan Äldreboende AB", "Sävedalens Förskolor AB",
	"Fyrbodal Logistik AB", "Slottsskogens Kök AB", "Västra Linjetrafik AB", "Vänerns Snickeri AB",
}

// courseTemplate is a course in the catalogue; occasions are generated per
// municipality. SUN 2020 codes are the three-digit field of the course.
type courseTemplate struct {
	Form, Title, SUN, Abbrev string
	Weeks                    int
	Paces                    []int
}

var courseTemplates = []courseTemplate{
	{"sfi", "Svenska för invandrare, kurs B", "222", "SFIB", 20, []int{50, 100}},
	{"sfi", "Svenska för invandrare, kurs C", "222", "SFIC", 20, []int{50, 100}},
	{"sfi", "Svenska för invandrare, kurs D", "222", "SFID", 20, []int{50, 100}},
	{"komvux", "Svenska som andraspråk 1", "222", "SVA1", 10, []int{50, 100}},
	{"komvux", "Engelska 5", "222", "ENG5", 10, []int{50, 100}},
	{"komvux", "Matematik 1a", "461", "MAT1", 10, []int{50, 100}},
	{"yrkesvux", "Undersköterska (vård och omsorg)", "723", "USK", 40, []int{100}},
	{"yrkesvux", "Barnskötare", "761", "BSK", 40, []int{100}},
	{"yrkesvux", "Kock och storhushåll", "811", "KOCK", 40, []int{100}},
	{"yrkesvux", "Lastbilsförare C/CE med YKB", "840", "LBF", 20, []int{100}},
	{"yrkesvux", "Ekonomiassistent", "344", "EKO", 30, []int{100, 75}},
	{"yrkesvux", "Bygg och anläggning, träarbetare", "582", "BYGG", 40, []int{100}},
}

var providers = map[string][]string{
	"1480": {"Vuxenutbildningen Göteborg", "Nordvux Utbildning AB", "Älvstadens Lärcentrum AB"},
	"1488": {"Vuxenutbildningen Trollhättan", "Fyrbodals Yrkesvux AB"},
}

type simCourse struct {
	Code         string    `json:"code"`
	Title        string    `json:"title"`
	Provider     string    `json:"provider"`
	Municipality string    `json:"municipality"`
	Form         string    `json:"form"`
	SUN          string    `json:"sun"`
	StartDate    time.Time `json:"start_date"`
	PacePercent  int       `json:"pace_percent"`
	Weeks        int       `json:"weeks"`
	Seats        int       `json:"seats"`
}

type simVacancy struct {
	ID           string
	Headline     string
	Employer     string
	SSYK         string
	Label        string
	Municipality string
	Deadline     time.Time
	Published    time.Time
	Positions    int
}

type simEmployer struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Municipality string `json:"municipality"`
}

type simNeed struct {
	ID               string    `json:"id"`
	EmployerID       string    `json:"employer_id"`
	EmployerName     string    `json:"employer_name"`
	SSYK             string    `json:"ssyk"`
	Municipality     string    `json:"municipality"`
	Positions        int       `json:"positions"`
	StartDate        time.Time `json:"start_date"`
	RequiredTraining string    `json:"required_training"`
	ContactRole      string    `json:"contact_role"`
	Title            string    `json:"title,omitempty"`
	CentreID         string    `json:"centre_id,omitempty"`
	Status           string    `json:"status"` // open, filled, withdrawn (expired is computed)
	StatusReason     string    `json:"status_reason,omitempty"`
	Filled           int       `json:"filled"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
}

type data struct {
	courses   []simCourse
	vacancies []simVacancy
	employers []simEmployer
	needs     []simNeed
}

// generate builds the catalogue from seed. Dates are counted in weeks from
// the Monday after now, so that they lie ahead.
func generate(seed int64, now time.Time) *data {
	r := rand.New(rand.NewPCG(uint64(seed), 0xda7a))
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := day.AddDate(0, 0, (8-int(day.Weekday()))%7)
	if monday.Equal(day) {
		monday = monday.AddDate(0, 0, 7)
	}
	d := &data{}

	// Courses: every template in Göteborg and Trollhättan, 1-3 occasions.
	for _, muni := range []string{"1480", "1488"} {
		n := 0
		for _, t := range courseTemplates {
			occ := 1 + r.IntN(3)
			for i := 0; i < occ; i++ {
				n++
				ps := providers[muni]
				pace := t.Paces[r.IntN(len(t.Paces))]
				weeks := t.Weeks
				if pace < 100 {
					weeks = weeks * 100 / pace
				}
				d.courses = append(d.courses, simCourse{
					Code:         fmt.Sprintf("%s-%s-%02d", muni, t.Abbrev, i+1),
					Title:        t.Title,
					Provider:     ps[r.IntN(len(ps))],
					Municipality: muni,
					Form:         t.Form,
					SUN:          t.SUN,
					StartDate:    monday.AddDate(0, 0, 7*(1+r.IntN(12))),
					PacePercent:  pace,
					Weeks:        weeks,
					Seats:        10 + r.IntN(20),
				})
			}
		}
	}

	// Employers, spread over the municipalities.
	munis := []string{"1480", "1488", "1481", "1482", "1487", "1485"}
	for i, name := range employerNames {
		d.employers = append(d.employers, simEmployer{
			ID: fmt.Sprintf("emp-%03d", i+1), Name: name, Municipality: munis[i%len(munis)],
		})
	}

	// Vacancies.
	id := 24000000 + r.IntN(1000000)
	for i := 0; i < 80; i++ {
		o := occupations[r.IntN(len(occupations))]
		e := d.employers[r.IntN(len(d.employers))]
		muni := munis[r.IntN(len(munis))]
		id += 1 + r.IntN(500)
		pub := day.AddDate(0, 0, -r.IntN(20))
		d.vacancies = append(d.vacancies, simVacancy{
			ID: fmt.Sprint(id), Headline: o.Headline[r.IntN(len(o.Headline))], Employer: e.Name,
			SSYK: o.SSYK, Label: o.Label, Municipality: muni,
			Published: pub, Deadline: pub.AddDate(0, 0, 14+r.IntN(30)).Add(23*time.Hour + 59*time.Minute + 59*time.Second),
			Positions: 1 + r.IntN(3),
		})
	}

	// Recruitment needs in shortage occupations.
	shortage := []int{0, 2, 3, 5, 7, 8} // 5321, 5311, 5120, 8332, 4111, 7111
	roles := []string{"rekryteringsansvarig", "enhetschef", "platschef", "HR-partner"}
	for i := 0; i < 14; i++ {
		o := occupations[shortage[r.IntN(len(shortage))]]
		e := d.employers[r.IntN(len(d.employers))]
		d.needs = append(d.needs, simNeed{
			ID: fmt.Sprintf("need-%03d", i+1), EmployerID: e.ID, EmployerName: e.Name, SSYK: o.SSYK,
			Municipality: e.Municipality, Positions: 1 + r.IntN(6),
			StartDate:        monday.AddDate(0, 0, 7*(2+r.IntN(16))),
			RequiredTraining: o.Training, ContactRole: roles[r.IntN(len(roles))], Title: o.Label, Status: "open",
		})
	}

	// The development seed's employers and needs (store.SeedDemo) are known
	// here too, so a need picked in the console leads to a real agreement.
	seeded := map[string]simEmployer{}
	for _, e := range store.DemoEmployers {
		se := simEmployer{ID: e.ID, Name: e.Name, Municipality: e.MunicipalityCode}
		d.employers = append(d.employers, se)
		seeded[e.ID] = se
	}
	for _, n := range store.DemoNeeds(day) {
		e := seeded[n.EmployerID]
		d.needs = append(d.needs, simNeed{ID: n.ID, EmployerID: e.ID, EmployerName: e.Name, SSYK: n.SSYK,
			Municipality: e.Municipality, Positions: n.Positions, StartDate: n.StartDate,
			RequiredTraining: n.RequiredTraining, ContactRole: n.ContactRole, Title: n.Title, CentreID: n.CentreID, Status: "open"})
	}
	return d
}
