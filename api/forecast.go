package api

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/forecast"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// The lever page: a manager changes one lever of a calibration and sees the
// cohort forecast beside the calibration's own, both run through the
// production workflow (package forecast).

//go:embed templates/layout.html templates/forecast.html
var forecastTemplates embed.FS

func init() {
	parsePage("forecast", forecastTemplates, "templates/layout.html", "templates/forecast.html")
	pages = append(pages, func(s *Server, r chi.Router) { r.Get("/forecast", s.pageForecast) })
}

// forecastRoles may run forecasts: managers read outcomes across centres
// and plan the service; a run costs seconds of CPU, so not every caseworker.
var forecastRoles = []string{store.RoleUnitManager, store.RoleAdministrator}

// forecasts runs one cohort at a time and keeps each run's result, so a
// manager comparing levers pays for the calibration's own run once.
var forecasts = struct {
	sync.Mutex
	runs map[string]*forecast.Result
	slot chan struct{}
}{runs: map[string]*forecast.Result{}, slot: make(chan struct{}, 1)}

const maxCachedForecasts = 64

func cachedForecast(ctx context.Context, cal *forecast.Calibration, key string, opt forecast.Options) (*forecast.Result, error) {
	forecasts.Lock()
	res, ok := forecasts.runs[key]
	forecasts.Unlock()
	if ok {
		return res, nil
	}
	select {
	case forecasts.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-forecasts.slot }()
	res, err := forecast.Run(ctx, cal, opt)
	if err != nil {
		return nil, err
	}
	forecasts.Lock()
	if len(forecasts.runs) >= maxCachedForecasts {
		clear(forecasts.runs)
	}
	forecasts.runs[key] = res
	forecasts.Unlock()
	return res, nil
}

// forecastRow is one figure of the two runs side by side.
type forecastRow struct {
	Label       string
	Base, Lever string
	Diff        string
	share       bool
	base, lever float64
}

// forecastBar draws one share of both runs (widths of 300 for 100 %).
type forecastBar struct {
	forecastRow
	Y, BaseW, LeverW, BaseTX, LeverTX int
}

func forecastBars(rows []forecastRow) []forecastBar {
	var out []forecastBar
	for _, r := range rows {
		if !r.share {
			continue
		}
		b := forecastBar{forecastRow: r, Y: len(out) * 50, BaseW: int(r.base * 3), LeverW: int(r.lever * 3)}
		b.BaseTX, b.LeverTX = 306+b.BaseW, 306+b.LeverW
		out = append(out, b)
	}
	return out
}

func (s *Server) pageForecast(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	l := lang.For(r)
	if !p.HasRole(forecastRoles...) {
		http.Error(w, l.T("forecast.forbidden"), http.StatusForbidden)
		return
	}
	q := r.URL.Query()
	data := map[string]any{"Calibrations": forecast.Calibrations(), "Levers": forecast.Levers,
		"Calibration": orDefault(q.Get("calibration"), "goteborg"), "Lever": orDefault(q.Get("lever"), forecast.LeverNeedShare),
		"Value": q.Get("value"), "Seed": orDefault(q.Get("seed"), "1"), "Participants": q.Get("participants")}
	title := l.T("forecast.title")
	fail := func(field, msg string) {
		data["Field"], data["Error"] = field, msg
		s.render(w, r, http.StatusUnprocessableEntity, "forecast", title, data)
	}
	cal, err := forecast.Load(data["Calibration"].(string))
	if err != nil {
		fail("calibration", l.T("forecast.bad_calibration"))
		return
	}
	data["Title"] = cal.Title
	if q.Get("value") == "" {
		data["Value"] = strconv.FormatFloat(cal.LeverValue(data["Lever"].(string)), 'f', -1, 64)
		s.render(w, r, http.StatusOK, "forecast", title, data)
		return
	}
	seed, err := strconv.ParseUint(data["Seed"].(string), 10, 64)
	if err != nil {
		fail("seed", l.T("forecast.bad_seed"))
		return
	}
	n := cal.Participants
	if v := q.Get("participants"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 10 || n > cal.Participants {
			fail("participants", l.T("forecast.bad_participants", "Max", cal.Participants))
			return
		}
	}
	value, err := strconv.ParseFloat(q.Get("value"), 64)
	if err != nil {
		fail("value", l.T("forecast.bad_value"))
		return
	}
	changed, err := cal.WithLever(data["Lever"].(string), value)
	if err != nil {
		field, msg, ok := strings.Cut(err.Error(), ": ")
		if !ok {
			field, msg = "value", err.Error()
		}
		fail(field, msg)
		return
	}
	opt := forecast.Options{Seed: seed, Participants: n}
	key := fmt.Sprintf("%s|%d|%d", cal.Name, seed, n)
	base, err := cachedForecast(r.Context(), cal, key, opt)
	if err == nil {
		var lever *forecast.Result
		if lever, err = cachedForecast(r.Context(), changed, fmt.Sprintf("%s|%s=%v", key, data["Lever"], value), opt); err == nil {
			rows := forecastRows(l, base.Summary(), lever.Summary())
			data["Rows"], data["Bars"] = rows, forecastBars(rows)
			data["Seconds"] = fmt.Sprintf("%.1f + %.1f", base.Elapsed.Seconds(), lever.Elapsed.Seconds())
			data["BaseValue"] = strconv.FormatFloat(cal.LeverValue(data["Lever"].(string)), 'f', -1, 64)
		}
	}
	if err != nil {
		s.Log.Error("forecast", zap.Error(err))
		http.Error(w, l.T("forecast.failed"), http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "forecast", title, data)
}

func forecastRows(l *lang.Localizer, a, b forecast.Summary) []forecastRow {
	count := func(label string, x, y int) forecastRow {
		return forecastRow{Label: l.T(label), Base: l.Number(x), Lever: l.Number(y), Diff: signed(l.Number(y-x), y-x)}
	}
	share := func(label string, x, y float64) forecastRow {
		return forecastRow{Label: l.T(label), Base: l.Percent(x, 1), Lever: l.Percent(y, 1),
			Diff: signed(l.Percent(y-x, 1), int((y-x)*10)), share: true, base: x, lever: y}
	}
	return []forecastRow{
		count("forecast.participants", a.Participants, b.Participants),
		count("forecast.ended", a.Ended, b.Ended),
		count("forecast.active", a.Active, b.Active),
		count("forecast.to_work_or_studies", a.ToWorkOrStudies(), b.ToWorkOrStudies()),
		count("forecast.work", a.Work, b.Work),
		count("forecast.studies", a.Studies, b.Studies),
		share("forecast.share_of_ended", a.ShareOfEnded(), b.ShareOfEnded()),
		share("forecast.share_of_all", a.ShareOfAll(), b.ShareOfAll()),
		share("forecast.work_share_of_ended", a.WorkShareOfEnded(), b.WorkShareOfEnded()),
		count("forecast.refused", a.Refused, b.Refused),
	}
}

func signed(s string, sign int) string {
	if sign > 0 {
		return "+" + s
	}
	return s
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
