package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Pct writes a share as a percentage with one decimal, or "<5" when suppressed.
func (s Share) Pct() string {
	if s.Suppressed {
		return "<5"
	}
	return fmt.Sprintf("%.1f%%", s.P*100)
}

// Interval writes the 95% interval, or "" when suppressed.
func (s Share) Interval() string {
	if s.Suppressed {
		return ""
	}
	return fmt.Sprintf("%.1f–%.1f%%", s.Lo*100, s.Hi*100)
}

// WriteText prints the report for a terminal: the headline figures first
// (the forecast's output starts with them), then every grouping.
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	t := r.Total
	fmt.Fprintf(b, "period %s\n", r.Period.Label)
	fmt.Fprintf(b, "participants %s\n", t.Participants)
	fmt.Fprintf(b, "ended %s\n", t.Ended)
	fmt.Fprintf(b, "still active %s\n", t.Active)
	fmt.Fprintf(b, "to work or studies %s (work %s, studies %s)\n", t.Success, t.Work, t.Studies)
	fmt.Fprintf(b, "share of ended %s (95%% interval %s)  [national indicator: denominator = those who ended]\n", t.OfEnded.Pct(), t.OfEnded.Interval())
	fmt.Fprintf(b, "share of all participants %s (95%% interval %s)  [denominator = everyone who took part]\n", t.OfAll.Pct(), t.OfAll.Interval())
	if c, d := r.Comparison, r.Difference; c != nil && d != nil {
		if d.Suppressed {
			fmt.Fprintf(b, "comparison %s %.1f%% (%s %d): difference <5\n", c.Label, c.Value, c.Source, c.Year)
		} else {
			fmt.Fprintf(b, "comparison %s %.1f%% (%s %d): difference %+.1f points (95%% interval %+.1f to %+.1f)\n",
				c.Label, c.Value, c.Source, c.Year, d.Points, d.Lo, d.Hi)
		}
	}
	header := "  %-28s %12s %8s %8s %8s %8s %8s %10s %14s %10s\n"
	line := func(r Row) {
		fmt.Fprintf(b, header, r.Label, r.Participants, r.Active, r.Ended, r.Work, r.Studies, r.Success,
			r.OfEnded.Pct(), r.OfEnded.Interval(), r.OfAll.Pct())
	}
	cols := func(name string) {
		fmt.Fprintf(b, "\nby %s\n", name)
		fmt.Fprintf(b, header, "", "participants", "active", "ended", "work", "studies", "to w/s", "of ended", "95% interval", "of all")
	}
	cols("municipality and centre")
	for _, p := range r.Places {
		if p.Level == "centre" {
			p.Label = "  " + p.Label
		}
		line(p)
	}
	for _, d := range r.Dimensions {
		if d.Name == "municipality" || d.Name == "centre" {
			continue
		}
		cols(strings.ReplaceAll(d.Name, "_", " "))
		for _, row := range d.Rows {
			line(row)
		}
	}
	fmt.Fprintf(b, "\nflow\n")
	for _, s := range r.Flow {
		fmt.Fprintf(b, "  %-14s %s\n", s.Key, s.Cell)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Table is the report as rows of strings, the same for CSV and Excel: one
// line per group with both denominators labelled.
func (r *Report) Table() [][]string {
	out := [][]string{{"period", "grouping", "group", "participants", "active", "ended", "work", "studies",
		"to_work_or_studies", "share_of_ended_percent", "share_of_ended_low", "share_of_ended_high",
		"share_of_participants_percent", "share_of_participants_low", "share_of_participants_high"}}
	add := func(grouping string, row Row) {
		out = append(out, append([]string{r.Period.Label, grouping, row.Label,
			row.Participants.String(), row.Active.String(), row.Ended.String(), row.Work.String(), row.Studies.String(),
			row.Success.String()}, append(pctCols(row.OfEnded), pctCols(row.OfAll)...)...))
	}
	add("total", r.Total)
	for _, p := range r.Places {
		add(p.Level, p)
	}
	for _, d := range r.Dimensions {
		if d.Name == "municipality" || d.Name == "centre" {
			continue
		}
		for _, row := range d.Rows {
			add(d.Name, row)
		}
	}
	return out
}

func pctCols(s Share) []string {
	if s.Suppressed {
		return []string{"<5", "", ""}
	}
	return []string{fmt.Sprintf("%.1f", s.P*100), fmt.Sprintf("%.1f", s.Lo*100), fmt.Sprintf("%.1f", s.Hi*100)}
}

// WriteCSV writes Table as CSV.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(r.Table()); err != nil {
		return err
	}
	if c, d := r.Comparison, r.Difference; c != nil && d != nil {
		row := []string{r.Period.Label, "comparison", c.Label, c.Source, fmt.Sprint(c.Year), fmt.Sprintf("%.1f", c.Value)}
		if d.Suppressed {
			row = append(row, "<5")
		} else {
			row = append(row, fmt.Sprintf("%+.1f", d.Points), fmt.Sprintf("%+.1f", d.Lo), fmt.Sprintf("%+.1f", d.Hi))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Percent, LowPercent and HighPercent are the share and its interval in
// percent, for pages.
func (s Share) Percent() float64     { return s.P * 100 }
func (s Share) LowPercent() float64  { return s.Lo * 100 }
func (s Share) HighPercent() float64 { return s.Hi * 100 }

// MarshalJSON never lets a suppressed count out: {"n": null, "text": "<5"}.
func (c Cell) MarshalJSON() ([]byte, error) {
	if c.Suppressed {
		return []byte(`{"n":null,"suppressed":true,"text":"<5"}`), nil
	}
	return []byte(`{"n":` + itoa(c.N) + `,"text":"` + itoa(c.N) + `"}`), nil
}

// MarshalJSON never lets a suppressed share out (it would give its counts away).
func (s Share) MarshalJSON() ([]byte, error) {
	if s.Suppressed {
		return []byte(`{"share":null,"low":null,"high":null,"suppressed":true,"text":"<5"}`), nil
	}
	return []byte(fmt.Sprintf(`{"share":%g,"low":%g,"high":%g,"text":"%.1f%%"}`, s.P, s.Lo, s.Hi, s.P*100)), nil
}

// MarshalJSON hides a suppressed difference.
func (d Difference) MarshalJSON() ([]byte, error) {
	if d.Suppressed {
		return []byte(`{"points":null,"low":null,"high":null,"suppressed":true}`), nil
	}
	return []byte(fmt.Sprintf(`{"points":%g,"low":%g,"high":%g}`, d.Points, d.Lo, d.Hi)), nil
}
