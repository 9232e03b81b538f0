package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Annual is the annual municipal labour-market statistics of a year: the
// counts a municipality reports nationally (participants, ended, started
// work, started studies) by gender and age band, and by gender within each
// age band, with the indicator computed by the national definition. Small
// cells are suppressed as everywhere.
type Annual struct {
	Year   int     `json:"year"`
	Report *Report `json:"-"`
	Rows   []Row   `json:"rows"` // total, each gender, each age band, then gender × age band
}

// BuildAnnual computes the annual statistics of a year.
func BuildAnnual(ps []Participant, year int) *Annual {
	per := Year(year)
	r := Build(ps, Query{Period: per})
	a := &Annual{Year: year, Report: r}
	a.Rows = append(a.Rows, r.Total)
	a.Rows = append(a.Rows, r.Dimension("gender").Rows...)
	a.Rows = append(a.Rows, r.Dimension("age_band").Rows...)
	// Gender within each age band: the bands of a gender add up to it.
	gender := r.Dimension("gender")
	var sums []sum
	var cross []Row
	for _, g := range gender.Rows {
		for _, band := range append(append([]string(nil), AgeBands...), Unknown) {
			var t tally
			for _, p := range ps {
				pg, pb := p.Gender, p.AgeBand()
				if pg == "" {
					pg = Unknown
				}
				if pb == "" {
					pb = Unknown
				}
				if pg == g.Label && pb == band {
					t.add(p, per)
				}
			}
			if t.parts > 0 {
				cross = append(cross, t.row(g.Label+" "+band))
			}
		}
	}
	// Protect: primary everywhere, then secondary within each gender.
	for i := range cross {
		primary(rowCells(&cross[i])...)
		sums = append(sums, inRow(&cross[i])...)
	}
	gRows := a.Rows[1 : 1+len(gender.Rows)]
	for gi := range gRows {
		var rows []*Row
		for i := range cross {
			if strings.HasPrefix(cross[i].Label, gRows[gi].Label+" ") {
				rows = append(rows, &cross[i])
			}
		}
		sums = append(sums, across(&gRows[gi], rows)...)
	}
	secondary(sums)
	for i := range gRows {
		shareOf(&gRows[i].OfEnded, gRows[i].Success, gRows[i].Ended)
		shareOf(&gRows[i].OfAll, gRows[i].Success, gRows[i].Participants)
	}
	for i := range cross {
		shareOf(&cross[i].OfEnded, cross[i].Success, cross[i].Ended)
		shareOf(&cross[i].OfAll, cross[i].Success, cross[i].Participants)
	}
	a.Rows = append(a.Rows, cross...)
	return a
}

// Table is the annual statistics as rows of strings.
func (a *Annual) Table() [][]string {
	out := [][]string{{"year", "group", "participants", "ended", "started_work", "started_studies", "to_work_or_studies",
		"indicator_percent", "indicator_low", "indicator_high"}}
	for _, r := range a.Rows {
		out = append(out, append([]string{fmt.Sprint(a.Year), r.Label, r.Participants.String(), r.Ended.String(),
			r.Work.String(), r.Studies.String(), r.Success.String()}, pctCols(r.OfEnded)...))
	}
	return out
}

// WriteCSV writes the annual statistics as CSV.
func (a *Annual) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(a.Table()); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteText prints the annual statistics for a terminal.
func (a *Annual) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "annual municipal labour-market statistics %d (indicator: share of those who ended who started work or studies)\n", a.Year)
	f := "%-22s %12s %8s %8s %8s %8s %10s %14s\n"
	fmt.Fprintf(b, f, "group", "participants", "ended", "work", "studies", "to w/s", "indicator", "95% interval")
	for _, r := range a.Rows {
		fmt.Fprintf(b, f, r.Label, r.Participants, r.Ended, r.Work, r.Studies, r.Success, r.OfEnded.Pct(), r.OfEnded.Interval())
	}
	_, err := io.WriteString(w, b.String())
	return err
}
