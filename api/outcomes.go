package api

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/lang"
)

// OutcomeRow is one centre and age group: ended pathways, how many went on
// to work or studies, and how many are still active (kept apart, since the
// seeds report both denominators).
type OutcomeRow struct {
	Centre  string `json:"centre_id"`
	Age     string `json:"age_group"`
	Ended   int    `json:"ended"`
	Success int    `json:"to_work_or_studies"`
	Active  int    `json:"active"`
	Pct     int    `json:"share_percent"`
}

func (s *Server) outcomeRows(r *http.Request) ([]OutcomeRow, error) {
	p := principal(r)
	rows, err := s.Pool.Query(r.Context(), `
		SELECT pw.centre_id,
			CASE WHEN a < 20 THEN '16–19' WHEN a < 25 THEN '20–24' WHEN a < 35 THEN '25–34' WHEN a < 50 THEN '35–49' ELSE '50+' END AS grp,
			count(*) FILTER (WHERE pw.status = 'closed'),
			count(*) FILTER (WHERE pw.status = 'closed' AND pw.closure_reason IN ('work', 'subsidised_work', 'studies')),
			count(*) FILTER (WHERE pw.status = 'active')
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id,
			LATERAL (SELECT extract(year FROM age(pw.referred_at, pa.birth_date))::int AS a) ag
		WHERE ($1 OR pw.centre_id = $2)
		GROUP BY 1, 2 ORDER BY 1, 2`, p.SeesAllCentres(), p.CentreID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutcomeRow
	for rows.Next() {
		var o OutcomeRow
		if err := rows.Scan(&o.Centre, &o.Age, &o.Ended, &o.Success, &o.Active); err != nil {
			return nil, err
		}
		if o.Ended > 0 {
			o.Pct = o.Success * 100 / o.Ended
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

type bar struct {
	Centre, Age string
	Y, W, TX    int
	Pct         float64
	N           int
}

func (s *Server) pageOutcomes(w http.ResponseWriter, r *http.Request) {
	rows, err := s.outcomeRows(r)
	if err != nil {
		s.Log.Error("outcomes", zap.Error(err))
		http.Error(w, lang.For(r).T("outcomes.err_read"), http.StatusInternalServerError)
		return
	}
	// A group with no ended pathway has no share: the table shows it as
	// such and the chart leaves it out (never "0 % of 0").
	var bars []bar
	for _, o := range rows {
		if o.Ended == 0 {
			continue
		}
		wd := o.Pct * 3
		bars = append(bars, bar{Centre: o.Centre, Age: o.Age, Y: len(bars) * 22, W: wd, TX: 306 + wd, Pct: float64(o.Pct), N: o.Ended})
	}
	s.render(w, r, http.StatusOK, "outcomes", "outcomes.title", map[string]any{"Rows": rows, "Bars": bars, "Height": len(bars)*22 + 10})
}

func (s *Server) apiOutcomes(w http.ResponseWriter, r *http.Request) {
	rows, err := s.outcomeRows(r)
	if err != nil {
		s.internal(w, r, "outcomes", err)
		return
	}
	if rows == nil {
		rows = []OutcomeRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
}
