package api

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"strings"

	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/report"
)

// Charts are drawn on the server as SVG: no script, readable without colour
// (each series has its own dash pattern and marker, each bar its own fill
// pattern), with a title and description for screen readers and the
// figures beside them as a table.

// chart is an SVG with its text alternative.
type chart struct {
	SVG   template.HTML
	Title string
	Desc  string
	Empty bool
}

func queryEscape(s string) string { return url.QueryEscape(s) }

// Okabe–Ito colours (distinguishable with colour-vision deficiencies); the
// dashes and markers carry the difference on their own.
var (
	palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}
	dashes  = []string{"", "8 4", "2 3", "10 3 2 3", "4 4", "12 4 2 4 2 4", "1 2"}
)

// patterns are fill patterns for bars, by id.
const patterns = `<defs>
<pattern id="pat-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#cfe3f3"/><line x1="0" y1="0" x2="0" y2="8" stroke="#0b4f8a" stroke-width="3"/></pattern>
<pattern id="pat-dots" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#fbe3d2"/><circle cx="3" cy="3" r="1.6" fill="#8a3b00"/></pattern>
<pattern id="pat-cross" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#d6f0e6"/><path d="M0 0L8 8M8 0L0 8" stroke="#00573f" stroke-width="1.5"/></pattern>
<pattern id="pat-solid" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="4" height="4" fill="#444"/></pattern>
</defs>`

func esc(s string) string { return html.EscapeString(s) }

// marker draws series i's marker at x, y.
func marker(i int, x, y float64, colour string) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, x, y, colour)
	case 1:
		return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s"/>`, x-4, y-4, colour)
	case 2:
		return fmt.Sprintf(`<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s"/>`, x, y-5, x+5, y+4, x-5, y+4, colour)
	}
	return fmt.Sprintf(`<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s"/>`, x, y-5, x+5, y, x, y+5, x-5, y, colour)
}

// trendChart is the indicator per centre over the period's steps, with the
// comparison line.
func trendChart(l *lang.Localizer, r *report.Report) chart {
	c := chart{Title: l.T("outcomes.trend_title", "Period", r.Period.Label)}
	const w, h, left, top, plotW, plotH = 720.0, 300.0, 48.0, 16.0, 640.0, 220.0
	if len(r.Series) == 0 {
		c.Empty = true
		return c
	}
	steps := len(r.Series[0].Points)
	x := func(i int) float64 {
		if steps <= 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(steps-1)
	}
	y := func(p float64) float64 { return top + plotH*(1-p) }
	b := &strings.Builder{}
	legendH := 22.0 * float64(len(r.Series)+1)
	fmt.Fprintf(b, `<svg role="img" aria-labelledby="trend-title trend-desc" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`, w, h+legendH, w, h+legendH)
	fmt.Fprintf(b, `<title id="trend-title">%s</title>`, esc(c.Title))
	var desc []string
	// Axes and grid at 0, 25, 50, 75, 100%.
	for _, g := range []float64{0, .25, .5, .75, 1} {
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ccc"/><text x="%.0f" y="%.1f" font-size="11" text-anchor="end" fill="#1b1b1b">%s</text>`,
			left, y(g), left+plotW, y(g), left-6, y(g)+4, esc(l.Percent(g*100, 0)))
	}
	for i, pt := range r.Series[0].Points {
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" font-size="11" text-anchor="middle" fill="#1b1b1b">%s</text>`, x(i), top+plotH+16, esc(pt.Period.Label))
	}
	if cmp := r.Comparison; cmp != nil {
		cy := y(cmp.Value / 100)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#000" stroke-width="2" stroke-dasharray="14 6"/>`, left, cy, left+plotW, cy)
		desc = append(desc, l.T("outcomes.trend_desc_comparison", "Label", cmp.Label, "Value", l.Percent(cmp.Value, 1)))
	}
	for si, s := range r.Series {
		colour, dash := palette[si%len(palette)], dashes[si%len(dashes)]
		var seg []string
		var said []string
		flush := func() {
			if len(seg) > 1 {
				fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2.5" stroke-dasharray="%s" points="%s"/>`, colour, dash, strings.Join(seg, " "))
			}
			seg = nil
		}
		for i, pt := range s.Points {
			if pt.Share.Suppressed {
				flush()
				said = append(said, pt.Period.Label+" <5")
				continue
			}
			seg = append(seg, fmt.Sprintf("%.1f,%.1f", x(i), y(pt.Share.P)))
			fmt.Fprint(b, marker(si, x(i), y(pt.Share.P), colour))
			said = append(said, pt.Period.Label+" "+l.Percent(pt.Share.P*100, 0))
		}
		flush()
		desc = append(desc, s.Label+": "+strings.Join(said, ", "))
		// Legend: the line's own dash and marker.
		ly := h + 22*float64(si)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>%s<text x="%.0f" y="%.1f" font-size="12" fill="#1b1b1b">%s</text>`,
			left, ly, left+40, ly, colour, dash, marker(si, left+20, ly, colour), left+50, ly+4, esc(s.Label))
	}
	if cmp := r.Comparison; cmp != nil {
		ly := h + 22*float64(len(r.Series))
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#000" stroke-width="2" stroke-dasharray="14 6"/><text x="%.0f" y="%.1f" font-size="12" fill="#1b1b1b">%s</text>`,
			left, ly, left+40, ly, left+50, ly+4, esc(fmt.Sprintf("%s %s (%s %d)", cmp.Label, l.Percent(cmp.Value, 1), cmp.Source, cmp.Year)))
	}
	b.WriteString(`<desc id="trend-desc">` + esc(strings.Join(desc, ". ")) + `</desc></svg>`)
	c.Desc = strings.Join(desc, ". ")
	c.SVG = template.HTML(b.String()) // every text in it went through esc
	return c
}

// flowChart is how many of those who took part reached each stage.
func flowChart(l *lang.Localizer, r *report.Report) chart {
	c := chart{Title: l.T("outcomes.flow_title")}
	const w, left, barW, rowH = 720.0, 230.0, 380.0, 30.0
	max := 0
	for _, s := range r.Flow {
		if s.Cell.N > max {
			max = s.Cell.N
		}
	}
	h := rowH*float64(len(r.Flow)) + 10
	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg role="img" aria-labelledby="flow-title flow-desc" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">%s`, w, h, w, h, patterns)
	fmt.Fprintf(b, `<title id="flow-title">%s</title>`, esc(c.Title))
	var desc []string
	pats := []string{"pat-hatch", "pat-dots", "pat-cross"}
	for i, s := range r.Flow {
		name := l.T("outcomes.stage." + s.Key)
		yy := float64(i) * rowH
		bw := 0.0
		if max > 0 && !s.Cell.Suppressed {
			bw = barW * float64(s.Cell.N) / float64(max)
		}
		fmt.Fprintf(b, `<text x="0" y="%.0f" font-size="13" fill="#1b1b1b">%s</text>`, yy+19, esc(name))
		fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.1f" height="20" fill="url(#%s)" stroke="#1b1b1b"/>`, left, yy+4, bw, pats[i%len(pats)])
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" font-size="13" fill="#1b1b1b">%s</text>`, left+bw+8, yy+19, esc(s.Cell.String()))
		desc = append(desc, name+": "+s.Cell.String())
	}
	b.WriteString(`<desc id="flow-desc">` + esc(strings.Join(desc, ", ")) + `</desc></svg>`)
	c.Desc = strings.Join(desc, ", ")
	c.SVG = template.HTML(b.String())
	return c
}

// monitorChart draws each flagged comparison (or, with none flagged, the
// indicator of every group) as the group's bar beside the rest's.
func monitorChart(l *lang.Localizer, m *report.Monitor) chart {
	c := chart{Title: l.T("monitor.chart_title")}
	var checks []report.Check
	for _, ch := range m.Checks {
		if ch.Flagged {
			checks = append(checks, ch)
		}
	}
	if len(checks) == 0 {
		c.Title = l.T("monitor.chart_title_indicator")
		for _, ch := range m.Checks {
			if ch.Measure == report.MeasureIndicator {
				checks = append(checks, ch)
			}
		}
	}
	if len(checks) == 0 {
		c.Empty = true
		return c
	}
	const w, left, barW, pairH = 720.0, 260.0, 300.0, 50.0
	h := pairH*float64(len(checks)) + 40
	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg role="img" aria-labelledby="monitor-title monitor-desc" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">%s`, w, h, w, h, patterns)
	fmt.Fprintf(b, `<title id="monitor-title">%s</title>`, esc(c.Title))
	var desc []string
	for i, ch := range checks {
		yy := float64(i) * pairH
		scale := math.Max(ch.Value, ch.Rest)
		if scale == 0 {
			scale = 1
		}
		label := monitorGroupLabel(l, ch) + ": " + l.T("monitor.measure."+ch.Measure)
		fmt.Fprintf(b, `<text x="0" y="%.0f" font-size="12" fill="#1b1b1b">%s</text>`, yy+16, esc(label))
		gv, rv := monitorValue(l, ch, ch.Value), monitorValue(l, ch, ch.Rest)
		fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.1f" height="16" fill="url(#pat-hatch)" stroke="#1b1b1b"/><text x="%.1f" y="%.0f" font-size="12" fill="#1b1b1b">%s</text>`,
			left, yy+3, barW*ch.Value/scale, left+barW*ch.Value/scale+6, yy+15, esc(l.T("monitor.group")+" "+gv))
		fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.1f" height="16" fill="url(#pat-dots)" stroke="#1b1b1b"/><text x="%.1f" y="%.0f" font-size="12" fill="#1b1b1b">%s</text>`,
			left, yy+22, barW*ch.Rest/scale, left+barW*ch.Rest/scale+6, yy+34, esc(l.T("monitor.rest")+" "+rv))
		desc = append(desc, fmt.Sprintf("%s: %s %s, %s %s", label, l.T("monitor.group"), gv, l.T("monitor.rest"), rv))
	}
	ly := h - 24
	fmt.Fprintf(b, `<rect x="0" y="%.0f" width="24" height="14" fill="url(#pat-hatch)" stroke="#1b1b1b"/><text x="30" y="%.0f" font-size="12" fill="#1b1b1b">%s</text>`, ly, ly+12, esc(l.T("monitor.group")))
	fmt.Fprintf(b, `<rect x="160" y="%.0f" width="24" height="14" fill="url(#pat-dots)" stroke="#1b1b1b"/><text x="190" y="%.0f" font-size="12" fill="#1b1b1b">%s</text>`, ly, ly+12, esc(l.T("monitor.rest")))
	b.WriteString(`<desc id="monitor-desc">` + esc(strings.Join(desc, ". ")) + `</desc></svg>`)
	c.Desc = strings.Join(desc, ". ")
	c.SVG = template.HTML(b.String())
	return c
}

// monitorValue writes a share as a percentage and a duration in days.
func monitorValue(l *lang.Localizer, c report.Check, v float64) string {
	if c.Share {
		return l.Percent(v*100, 0)
	}
	return l.T("monitor.days", "Days", fmt.Sprintf("%.1f", v))
}

func monitorGroupLabel(l *lang.Localizer, c report.Check) string {
	g := c.Group
	if c.Grouping == "gender" {
		g = l.T("outcomes.gender." + g)
	}
	return l.T("outcomes.dim."+c.Grouping) + " " + g
}
