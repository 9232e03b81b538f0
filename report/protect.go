package report

// Small-number suppression. Primary: every count of 1–4 people is shown as
// "<5", so no one can be singled out (a zero singles out no one and is
// shown, or a year with nobody still active would hide its headline). Secondary: where shown cells
// add up to a shown total (the rows of a dimension to the total, centres to
// their municipality, active + ended to participants, work + studies to
// those who went on), a single suppressed cell could be worked out by
// subtraction, so the smallest other cell of that sum is suppressed too,
// until no sum has exactly one hidden part. A share is suppressed when its
// numerator or denominator is.

// sum is a shown total and the shown cells that add up to it.
type sum struct {
	total *Cell
	parts []*Cell
}

func primary(cs ...*Cell) {
	for _, c := range cs {
		if c.N > 0 && c.N < MinCell {
			c.Suppressed = true
		}
	}
}

// secondary hides cells until no sum reveals a hidden part.
func secondary(sums []sum) {
	for changed := true; changed; {
		changed = false
		for _, s := range sums {
			hidden := 0
			for _, p := range s.parts {
				if p.Suppressed {
					hidden++
				}
			}
			if hidden != 1 || s.total.Suppressed {
				continue
			}
			var pick *Cell
			for _, p := range s.parts {
				if !p.Suppressed && (pick == nil || p.N < pick.N) {
					pick = p
				}
			}
			if pick == nil { // the only part: hide the total instead
				if !s.total.Suppressed {
					s.total.Suppressed, changed = true, true
				}
				continue
			}
			pick.Suppressed, changed = true, true
		}
	}
}

func rowCells(r *Row) []*Cell {
	return []*Cell{&r.Participants, &r.Active, &r.Ended, &r.Work, &r.Studies, &r.Success}
}

// inRow are the sums within one row.
func inRow(r *Row) []sum {
	return []sum{
		{&r.Participants, []*Cell{&r.Active, &r.Ended}},
		{&r.Success, []*Cell{&r.Work, &r.Studies}},
	}
}

// across are the sums of rows that partition a total, column by column.
func across(total *Row, rows []*Row) []sum {
	col := func(f func(*Row) *Cell) sum {
		s := sum{total: f(total)}
		for _, r := range rows {
			s.parts = append(s.parts, f(r))
		}
		return s
	}
	return []sum{
		col(func(r *Row) *Cell { return &r.Participants }),
		col(func(r *Row) *Cell { return &r.Active }),
		col(func(r *Row) *Cell { return &r.Ended }),
		col(func(r *Row) *Cell { return &r.Work }),
		col(func(r *Row) *Cell { return &r.Studies }),
		col(func(r *Row) *Cell { return &r.Success }),
	}
}

func shareOf(s *Share, num, den Cell) {
	if num.Suppressed || den.Suppressed {
		s.Suppressed = true
	}
}

func protectReport(r *Report) {
	var all []*Row
	all = append(all, &r.Total)
	var sums []sum
	for di := range r.Dimensions {
		var rows []*Row
		for i := range r.Dimensions[di].Rows {
			rows = append(rows, &r.Dimensions[di].Rows[i])
		}
		all = append(all, rows...)
		sums = append(sums, across(&r.Total, rows)...)
	}
	// Places: municipalities add up to the total, centres to their municipality.
	var munis []*Row
	for i := 0; i < len(r.Places); {
		m := &r.Places[i]
		munis = append(munis, m)
		all = append(all, m)
		j := i + 1
		var centres []*Row
		for ; j < len(r.Places) && r.Places[j].Level == "centre"; j++ {
			centres = append(centres, &r.Places[j])
		}
		all = append(all, centres...)
		sums = append(sums, across(m, centres)...)
		i = j
	}
	sums = append(sums, across(&r.Total, munis)...)
	for _, row := range all {
		primary(rowCells(row)...)
		sums = append(sums, inRow(row)...)
	}
	// Each centre's steps over time add up to its ended in the period.
	for si := range r.Series {
		s := &r.Series[si]
		var parts []*Cell
		for pi := range s.Points {
			primary(&s.Points[pi].Ended)
			parts = append(parts, &s.Points[pi].Ended)
		}
		for ri := range r.Places {
			if row := &r.Places[ri]; row.Level == "centre" && row.Label == s.Label {
				sums = append(sums, sum{total: &row.Ended, parts: parts})
			}
		}
	}
	secondary(sums)
	for _, row := range all {
		shareOf(&row.OfEnded, row.Success, row.Ended)
		shareOf(&row.OfAll, row.Success, row.Participants)
	}
	for si := range r.Series {
		for pi := range r.Series[si].Points {
			pt := &r.Series[si].Points[pi]
			shareOf(&pt.Share, Cell{N: pt.Share.Num, Suppressed: pt.Share.Num > 0 && pt.Share.Num < MinCell}, pt.Ended)
		}
	}
	for i := range r.Flow {
		primary(&r.Flow[i].Cell)
	}
}
