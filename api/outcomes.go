package api

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/report"
	"github.com/pathways-se/pathways/store"
)

// The outcome report, the annual statistics and the equal-treatment monitor:
// one reading of the read model (store.ReportParticipants) and the report
// package's figures, for the page, the API and the exports alike.

//go:embed templates/layout.html templates/monitor.html
var reportTemplates embed.FS

func init() {
	parsePage("monitor", reportTemplates, "templates/layout.html", "templates/monitor.html")
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Get("/outcomes/annual", s.apiAnnual)
		r.Get("/monitor", s.apiMonitor)
	})
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/monitor", s.pageMonitor)
	})
}

// reportRequest is what a report is asked for: a period and a centre ("" =
// every centre the caller sees).
type reportRequest struct {
	Period report.Period
	Centre string
}

// errField is a bad query parameter, named.
type errField struct{ field, msg string }

func (e errField) Error() string { return e.msg }

// readRequest reads period and centre. Staff who see one centre get their
// own; asking for another is refused.
func (s *Server) readRequest(r *http.Request) (reportRequest, error) {
	q := r.URL.Query()
	var rr reportRequest
	if v := q.Get("period"); v != "" {
		per, err := report.ParsePeriod(v)
		if err != nil {
			return rr, errField{"period", err.Error()}
		}
		rr.Period = per
	} else {
		rr.Period = report.Year(time.Now().In(lang.Zone()).Year())
	}
	p := principal(r)
	rr.Centre = q.Get("centre")
	if !p.SeesAllCentres() {
		if rr.Centre != "" && rr.Centre != p.CentreID {
			return rr, errForbiddenCentre
		}
		rr.Centre = p.CentreID
	}
	return rr, nil
}

var errForbiddenCentre = errors.New("you see your own centre's figures only")

func (s *Server) comparison() *report.Comparison {
	c := s.Config.Report
	if strings.TrimSpace(c.ComparisonLabel) == "" {
		return nil
	}
	return &report.Comparison{Value: c.ComparisonValue, Label: c.ComparisonLabel, Source: c.ComparisonSource, Year: c.ComparisonYear}
}

func (s *Server) participants(r *http.Request, rr reportRequest) ([]report.Participant, error) {
	return store.ReportParticipants(r.Context(), s.Pool, store.ReportScope{Centre: rr.Centre, From: rr.Period.From, To: rr.Period.To})
}

func (s *Server) buildReport(r *http.Request, rr reportRequest) (*report.Report, error) {
	ps, err := s.participants(r, rr)
	if err != nil {
		return nil, err
	}
	return report.Build(ps, report.Query{Period: rr.Period, Comparison: s.comparison()}), nil
}

// requestError answers a bad request for the API.
func requestError(w http.ResponseWriter, err error) bool {
	var fe errField
	switch {
	case errors.As(err, &fe):
		badRequest(w, fe.field, fe.msg)
	case errors.Is(err, errForbiddenCentre):
		forbidden(w, err.Error())
	default:
		return false
	}
	return true
}

// download writes an export with a file name.
func download(w http.ResponseWriter, name, contentType string, write func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// apiOutcomes is the report as JSON, or as CSV or Excel (format=csv|xlsx).
func (s *Server) apiOutcomes(w http.ResponseWriter, r *http.Request) {
	rr, err := s.readRequest(r)
	if requestError(w, err) {
		return
	}
	rep, err := s.buildReport(r, rr)
	if err != nil {
		s.internal(w, r, "outcomes", err)
		return
	}
	name := "outcomes-" + rr.Period.Label
	if rr.Centre != "" {
		name += "-" + rr.Centre
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
		return
	case "csv":
		err = download(w, name+".csv", "text/csv; charset=utf-8", func(b *bytes.Buffer) error { return rep.WriteCSV(b) })
	case "xlsx":
		err = download(w, name+".xlsx", xlsxType, func(b *bytes.Buffer) error { return rep.WriteExcel(b) })
	default:
		badRequest(w, "format", fmt.Sprintf("format %q is not one of json, csv, xlsx", f))
		return
	}
	s.audit(r, store.AuditEntry{Action: "report_export", Detail: map[string]any{"report": "outcomes", "period": rr.Period.Label, "centre": rr.Centre, "format": r.URL.Query().Get("format")}})
	if err != nil {
		s.Log.Warn("outcomes export")
	}
}

// apiAnnual is the annual statistics of ?year= (default this year) as
// JSON, CSV or Excel.
func (s *Server) apiAnnual(w http.ResponseWriter, r *http.Request) {
	year := time.Now().In(lang.Zone()).Year()
	if v := r.URL.Query().Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 1900 || y > 2200 {
			badRequest(w, "year", fmt.Sprintf("year %q is not a year such as 2026", v))
			return
		}
		year = y
	}
	q := r.URL.Query()
	q.Set("period", strconv.Itoa(year))
	r.URL.RawQuery = q.Encode()
	rr, err := s.readRequest(r)
	if requestError(w, err) {
		return
	}
	ps, err := s.participants(r, rr)
	if err != nil {
		s.internal(w, r, "annual statistics", err)
		return
	}
	a := report.BuildAnnual(ps, year)
	name := fmt.Sprintf("annual-statistics-%d", year)
	if rr.Centre != "" {
		name += "-" + rr.Centre
	}
	switch f := q.Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, a)
		return
	case "csv":
		err = download(w, name+".csv", "text/csv; charset=utf-8", func(b *bytes.Buffer) error { return a.WriteCSV(b) })
	case "xlsx":
		err = download(w, name+".xlsx", xlsxType, func(b *bytes.Buffer) error { return a.WriteExcel(b) })
	default:
		badRequest(w, "format", fmt.Sprintf("format %q is not one of json, csv, xlsx", f))
		return
	}
	s.audit(r, store.AuditEntry{Action: "report_export", Detail: map[string]any{"report": "annual", "year": year, "centre": rr.Centre, "format": q.Get("format")}})
	if err != nil {
		s.Log.Warn("annual statistics export")
	}
}

// outcomesPage is what the outcomes template gets.
type outcomesPage struct {
	Report      *report.Report
	Request     reportRequest
	Periods     []report.Period // quick choices
	Centres     []string        // for staff who see every centre
	Query       string          // period and centre, for the export links
	Year        int
	Trend       chart
	Flow        chart
	Tables      []rowTable
	PeriodInput string // the period as typed: 2026, 2026-H1, 2026-01-01..2026-03-31
	DiffText    string
	Error       string
	IsManager   bool
}

func (s *Server) pageOutcomes(w http.ResponseWriter, r *http.Request) {
	l := lang.For(r)
	rr, err := s.readRequest(r)
	data := outcomesPage{Request: rr}
	if err != nil {
		var fe errField
		if !errors.As(err, &fe) {
			http.Error(w, l.T("outcomes.page_forbidden"), http.StatusForbidden)
			return
		}
		data.Error = fe.msg
		rr.Period = report.Year(time.Now().In(lang.Zone()).Year())
		data.Request = rr
	}
	rep, err := s.buildReport(r, rr)
	if err != nil {
		s.internal(w, r, "outcomes", err)
		return
	}
	p := principal(r)
	data.Report, data.Year = rep, rr.Period.From.In(lang.Zone()).Year()
	data.IsManager = p.Can(auth.ActReadMonitor)
	now := time.Now().In(lang.Zone()).Year()
	data.Periods = []report.Period{report.Year(now), report.Half(now, 1), report.Half(now, 2),
		report.Quarter(now, 1), report.Quarter(now, 2), report.Quarter(now, 3), report.Quarter(now, 4), report.Year(now - 1)}
	if p.SeesAllCentres() {
		centres, err := store.ListCentres(r.Context(), s.Pool)
		if err == nil {
			for _, c := range centres {
				data.Centres = append(data.Centres, c.ID)
			}
		}
	}
	v := urlValues("period", rr.Period.Label, "centre", rr.Centre)
	if rr.Period.Kind == report.PeriodRange {
		v = urlValues("period", rr.Period.From.Format(time.DateOnly)+".."+rr.Period.To.AddDate(0, 0, -1).Format(time.DateOnly), "centre", rr.Centre)
	}
	data.Query = v
	data.PeriodInput = rr.Period.Label
	if rr.Period.Kind == report.PeriodRange {
		data.PeriodInput = rr.Period.From.Format(time.DateOnly) + ".." + rr.Period.To.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	if d := rep.Difference; d != nil {
		data.DiffText = l.T("outcomes.difference", "Points", signedPoints(l, d.Points), "Low", signedPoints(l, d.Lo), "High", signedPoints(l, d.Hi))
	}
	data.Trend = trendChart(l, rep)
	data.Flow = flowChart(l, rep)
	// Centres and municipalities by name, as everywhere in the console.
	centres, towns := s.centreNames(r.Context())
	places := rowTable{ID: "places", Head: l.T("outcomes.dim.place")}
	for _, row := range rep.Places {
		if n := centres[row.Label]; n != "" {
			row.Label = n
		} else if n := towns[row.Label]; n != "" {
			row.Label = n
		}
		places.Rows = append(places.Rows, row)
	}
	data.Tables = append(data.Tables, places)
	for _, d := range rep.Dimensions {
		if d.Name == "municipality" || d.Name == "centre" {
			continue
		}
		t := rowTable{ID: d.Name, Head: l.T("outcomes.dim." + d.Name)}
		for _, row := range d.Rows {
			if d.Name == "gender" || row.Label == report.Unknown {
				row.Label = l.T("outcomes.gender." + row.Label)
			}
			t.Rows = append(t.Rows, row)
		}
		data.Tables = append(data.Tables, t)
	}
	s.render(w, r, http.StatusOK, "outcomes", l.T("outcomes.page_title"), data)
}

// rowTable is one table of rows on the page.
type rowTable struct {
	ID   string
	Head string
	Rows []report.Row
}

// decimal writes v with places decimals and the language's decimal sign.
func decimal(l *lang.Localizer, v float64, places int) string {
	s := fmt.Sprintf("%.*f", places, v)
	if v > 0 && v < math.Pow10(-places) {
		s = fmt.Sprintf("<%.*f", places, math.Pow10(-places)) // not 0.000: no test gives p = 0
	}
	if l.Tag() == lang.Swedish {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// signedPoints writes percentage points with their sign, in the page's language.
func signedPoints(l *lang.Localizer, v float64) string {
	s := strings.Replace(fmt.Sprintf("%+.1f", v), "-", "−", 1)
	if l.Tag() == lang.Swedish {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// urlValues encodes name, value pairs, leaving out empty values.
func urlValues(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			parts = append(parts, kv[i]+"="+queryEscape(kv[i+1]))
		}
	}
	return strings.Join(parts, "&")
}

// monitorPage is what the monitor template gets.
type monitorPage struct {
	Monitor *report.Monitor
	Period  report.Period
	Flagged []monitorRow
	Rows    []monitorRow
	Chart   chart
	Error   string
}

// monitorRow is a check in words and the page's number formats.
type monitorRow struct {
	Group, Measure, Value, Rest, Diff, P, Why string
	N, RestN                                  int
	Flagged                                   bool
}

func describeCheck(l *lang.Localizer, c report.Check) monitorRow {
	row := monitorRow{Group: monitorGroupLabel(l, c), Measure: l.T("monitor.measure." + c.Measure), N: c.N, RestN: c.RestN,
		Value: monitorValue(l, c, c.Value), Rest: monitorValue(l, c, c.Rest), Flagged: c.Flagged,
		P: decimal(l, c.PHolm, 3)}
	unit := "monitor.unit_points"
	if !c.Share {
		unit = "monitor.unit_days"
	}
	row.Diff = l.T(unit, "Value", signedPoints(l, c.Diff))
	row.Why = l.T("monitor.why", "Group", row.Group, "Measure", row.Measure, "Value", row.Value, "Rest", row.Rest,
		"Difference", row.Diff, "Threshold", l.T(unit, "Value", fmt.Sprintf("%g", c.Threshold)), "P", row.P, "N", c.N, "RestN", c.RestN)
	return row
}

func (s *Server) buildMonitor(r *http.Request) (*report.Monitor, reportRequest, error) {
	rr, err := s.readRequest(r)
	if err != nil {
		return nil, rr, err
	}
	ps, err := s.participants(r, rr)
	if err != nil {
		return nil, rr, err
	}
	c := s.Config.Report
	return report.BuildMonitor(ps, rr.Period, report.Thresholds{SharePoints: c.MonitorSharePoints,
		ContactDays: c.MonitorContactDays, ProgrammeDays: c.MonitorProgrammeDays}), rr, nil
}

func (s *Server) apiMonitor(w http.ResponseWriter, r *http.Request) {
	if !principal(r).Can(auth.ActReadMonitor) {
		forbidden(w, "the equal-treatment monitor is for unit managers and administrators")
		return
	}
	m, _, err := s.buildMonitor(r)
	if requestError(w, err) {
		return
	}
	if err != nil {
		s.internal(w, r, "monitor", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) pageMonitor(w http.ResponseWriter, r *http.Request) {
	l := lang.For(r)
	if !principal(r).Can(auth.ActReadMonitor) {
		http.Error(w, l.T("monitor.forbidden"), http.StatusForbidden)
		return
	}
	m, rr, err := s.buildMonitor(r)
	data := monitorPage{Period: rr.Period}
	var fe errField
	if errors.As(err, &fe) {
		data.Error = fe.msg
		rr.Period = report.Year(time.Now().In(lang.Zone()).Year())
		r.URL.RawQuery = ""
		m, rr, err = s.buildMonitor(r)
		data.Period = rr.Period
	}
	if err != nil {
		s.internal(w, r, "monitor", err)
		return
	}
	data.Monitor = m
	for _, c := range m.Checks {
		row := describeCheck(l, c)
		data.Rows = append(data.Rows, row)
		if c.Flagged {
			data.Flagged = append(data.Flagged, row)
		}
	}
	data.Chart = monitorChart(l, m)
	s.render(w, r, http.StatusOK, "monitor", l.T("monitor.title"), data)
}
