package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Stockholm on machines without a zone database
)

// zone is where periods begin and end: a municipality's year starts at
// midnight in Sweden.
var zone = func() *time.Location {
	z, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return z
}()

// Period kinds.
const (
	PeriodYear    = "year"
	PeriodHalf    = "half"
	PeriodQuarter = "quarter"
	PeriodMonth   = "month"
	PeriodRange   = "range"
)

// Period is [From, To): participation that ended at From counts, at To not.
type Period struct {
	Kind  string    `json:"kind"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Label string    `json:"label"` // 2026, 2026-H1, 2026-Q3, 2026-05, 2026-01-01–2026-03-31
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, zone) }

// Year is a calendar year.
func Year(y int) Period {
	return Period{Kind: PeriodYear, From: day(y, 1, 1), To: day(y+1, 1, 1), Label: strconv.Itoa(y)}
}

// Half is the first (1) or second (2) half of a year.
func Half(y, h int) Period {
	m := time.Month(1 + 6*(h-1))
	return Period{Kind: PeriodHalf, From: day(y, m, 1), To: day(y, m+6, 1), Label: fmt.Sprintf("%d-H%d", y, h)}
}

// Quarter is quarter q (1–4) of a year.
func Quarter(y, q int) Period {
	m := time.Month(1 + 3*(q-1))
	return Period{Kind: PeriodQuarter, From: day(y, m, 1), To: day(y, m+3, 1), Label: fmt.Sprintf("%d-Q%d", y, q)}
}

// Month is one calendar month.
func Month(y int, m time.Month) Period {
	return Period{Kind: PeriodMonth, From: day(y, m, 1), To: day(y, m+1, 1), Label: fmt.Sprintf("%d-%02d", y, int(m))}
}

// Range is first to last, both days included.
func Range(first, last time.Time) Period {
	f := day(first.Year(), first.Month(), first.Day())
	l := day(last.Year(), last.Month(), last.Day())
	return Period{Kind: PeriodRange, From: f, To: l.AddDate(0, 0, 1),
		Label: f.Format(time.DateOnly) + "–" + l.Format(time.DateOnly)}
}

// ParsePeriod reads 2026, 2026-H1, 2026-Q3, 2026-05 or 2026-01-01..2026-03-31.
// The error names what is wrong, for the "period" field.
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("period %q is not a year (2026), half-year (2026-H1), quarter (2026-Q3), month (2026-05) or range (2026-01-01..2026-03-31)", s)
	if a, b, ok := strings.Cut(s, ".."); ok {
		f, err1 := time.Parse(time.DateOnly, strings.TrimSpace(a))
		l, err2 := time.Parse(time.DateOnly, strings.TrimSpace(b))
		if err1 != nil || err2 != nil {
			return Period{}, bad
		}
		if l.Before(f) {
			return Period{}, fmt.Errorf("period %q ends before it starts", s)
		}
		return Range(f, l), nil
	}
	y, rest, _ := strings.Cut(s, "-")
	year, err := strconv.Atoi(y)
	if err != nil || len(y) != 4 || year < 1900 || year > 2200 {
		return Period{}, bad
	}
	switch {
	case rest == "":
		return Year(year), nil
	case rest == "H1" || rest == "H2":
		return Half(year, int(rest[1]-'0')), nil
	case len(rest) == 2 && rest[0] == 'Q' && rest[1] >= '1' && rest[1] <= '4':
		return Quarter(year, int(rest[1]-'0')), nil
	case len(rest) == 2:
		if m, err := strconv.Atoi(rest); err == nil && m >= 1 && m <= 12 {
			return Month(year, time.Month(m)), nil
		}
	}
	return Period{}, bad
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// Split cuts the period into the steps the chart draws over time: a year or
// half-year into quarters, a quarter into months, a range into quarters
// (months when it is shorter than half a year), each clipped to the period.
func (p Period) Split() []Period {
	months := p.Kind == PeriodQuarter || p.Kind == PeriodMonth || (p.Kind == PeriodRange && p.To.Sub(p.From) < 182*24*time.Hour)
	var out []Period
	f := p.From.In(zone)
	for cur := day(f.Year(), f.Month(), 1); cur.Before(p.To); {
		var s Period
		if months {
			s = Month(cur.Year(), cur.Month())
		} else {
			s = Quarter(cur.Year(), (int(cur.Month())-1)/3+1)
		}
		if s.From.Before(p.From) {
			s.From = p.From
		}
		if s.To.After(p.To) {
			s.To = p.To
		}
		out = append(out, s)
		if !s.To.Before(p.To) {
			break
		}
		cur = s.To // unclipped, so the first of a month
	}
	return out
}
