package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// The team-lead view of escalated cases, and manual escalation.

func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Get("/escalations", s.apiEscalations)
		r.Post("/escalations", s.apiEscalate)
		r.Get("/escalations/manual/{id}", s.apiManualStatus)
		r.Get("/escalations/stats", s.apiEscalationStats)
		r.Post("/escalations/sweeps", s.apiSweepCentre)
		r.Get("/escalations/sweeps/{id}", s.apiSweepStatus)
	})
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/escalations", s.pageEscalations)
		r.Post("/escalations", s.pageEscalate)
		r.Post("/escalations/sweep", s.pageSweepCentre)
	})
}

// escalators may escalate by hand.
var escalators = []string{store.RoleJobCoach, store.RoleTeamLead, store.RoleUnitManager, store.RoleAdministrator}

// visibleCentres narrows a requested centre list to what the principal sees.
func visibleCentres(r *http.Request, requested []string) []string {
	p := principal(r)
	if p == nil || p.SeesAllCentres() {
		return requested
	}
	return []string{p.CentreID}
}

// ownEscalations is true when the page shows the viewer's own open
// escalations: a team lead's, unless they ask for every role (role=all).
func ownEscalations(r *http.Request) bool {
	p := principal(r)
	return p != nil && p.HasRole(store.RoleTeamLead) && !p.SeesAllCentres() && r.URL.Query().Get("role") == ""
}

func (s *Server) listEscalated(r *http.Request, own bool) ([]store.EscalatedCase, error) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	f := store.EscalatedFilter{CentreIDs: visibleCentres(r, splitCSV(q.Get("centre"))), Role: q.Get("role"), Limit: limit, Viewer: viewer(r)}
	// A team lead's page lists their own open escalations: the level-2
	// task is theirs even when the case has since reached level 3.
	if own {
		f.Role = store.RoleTeamLead
	}
	if f.Role == "all" {
		f.Role = ""
	}
	return store.ListEscalated(r.Context(), s.Pool, f, time.Now())
}

// sweepCentre runs the sweep over a centre now, as the request's
// principal: the service behind `pathways schedule trigger --centre`.
func (s *Server) sweepCentre(r *http.Request, centre, key string) (string, int, *Problem) {
	p := principal(r)
	l := lang.For(r)
	if centre == "" {
		centre = p.CentreID
	}
	if !p.SeesAllCentres() && !(p.HasRole(store.RoleTeamLead) && p.CentreID == centre) {
		return "", http.StatusForbidden, &Problem{Code: "forbidden", Message: l.T("escalation_ladder.sweep_forbidden")}
	}
	if key == "" {
		return "", http.StatusBadRequest, &Problem{Code: "bad_request", Field: "Idempotency-Key", Message: l.T("escalation_ladder.sweep_needs_key")}
	}
	rules, err := escalation.ParseRules(s.Config.Escalate.Rules)
	if err != nil {
		rules = escalation.DefaultRules() // the worker logs the bad setting
	}
	id, err := escalation.SweepCentre(r.Context(), s.Pool, s.Temporal, s.Config.Temporal.TaskQueue,
		escalation.CentreSweep{CentreID: centre, StaffID: p.ID, Key: key, Rules: rules})
	switch {
	case errors.Is(err, escalation.ErrNotAllowed):
		return "", http.StatusForbidden, &Problem{Code: "forbidden", Message: l.T("escalation_ladder.sweep_forbidden")}
	case err != nil:
		s.Log.Error("centre sweep", zap.String("centre_id", centre), zap.Error(err))
		return "", http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: l.T("escalation_ladder.sweep_not_started")}
	}
	return id, http.StatusAccepted, nil
}

func sweepStatusURL(id string) string { return "/api/v1/escalations/sweeps/" + id }

// POST /api/v1/escalations/sweeps {"centre_id": "..."} with an
// Idempotency-Key: sweep the centre now. 202 with a link to the sweep.
func (s *Server) apiSweepCentre(w http.ResponseWriter, r *http.Request) {
	var b struct {
		CentreID string `json:"centre_id"`
	}
	if !decodeJSON(w, r, &b) {
		return
	}
	id, status, prob := s.sweepCentre(r, b.CentreID, r.Header.Get("Idempotency-Key"))
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	w.Header().Set("Location", sweepStatusURL(id))
	writeJSON(w, status, map[string]string{"id": id, "status_url": sweepStatusURL(id)})
}

// GET /api/v1/escalations/sweeps/{id}: a centre sweep's record (counts
// once it has finished); 404 until it has begun.
func (s *Server) apiSweepStatus(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !p.SeesAllCentres() && !p.HasRole(store.RoleTeamLead) {
		writeProblem(w, http.StatusForbidden, Problem{Code: "forbidden", Message: lang.For(r).T("escalation_ladder.sweep_forbidden")})
		return
	}
	id := chi.URLParam(r, "id")
	// A team lead reads their own centre's sweeps only.
	if !escalation.IsCentreSweepWorkflowID(id) || (!p.SeesAllCentres() && escalation.CentreOfSweep(id) != p.CentreID) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such sweep"})
		return
	}
	row, err := store.GetSweep(r.Context(), s.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such sweep"})
		return
	}
	if err != nil {
		s.internal(w, r, "sweep status", err)
		return
	}
	writeJSON(w, http.StatusOK, row)
}

// POST /escalations/sweep: the team lead sweeps their centre from the page.
func (s *Server) pageSweepCentre(w http.ResponseWriter, r *http.Request) {
	id, status, prob := s.sweepCentre(r, r.PostFormValue("centre_id"), r.PostFormValue("idempotency_key"))
	if prob != nil {
		s.renderEscalations(w, r, status, "", prob.Message)
		return
	}
	msg := lang.For(r).T("escalation_ladder.sweep_started", "ID", id)
	http.Redirect(w, r, "/escalations?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

// GET /api/v1/escalations: the cases with an open escalation, their reason,
// age and current level.
func (s *Server) apiEscalations(w http.ResponseWriter, r *http.Request) {
	items, err := s.listEscalated(r, false)
	if err != nil {
		s.internal(w, r, "list escalations", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(items)})
}

// escalateBody is a manual escalation: case_ids, or a filter.
type escalateBody struct {
	CaseIDs   []string `json:"case_ids"`
	CentreIDs []string `json:"centre_ids"`
	Phase     string   `json:"phase"`
	Track     string   `json:"track"`
	Assignee  string   `json:"assignee"`
	Limit     int      `json:"limit"`
	Reason    string   `json:"reason"`
	MinRole   string   `json:"min_role"`
}

const maxManualBatch = 2000

// startManual checks a manual escalation and starts its workflow (the
// worker does the signalling, never this request). The workflow ID comes
// from the caller's idempotency key (the Idempotency-Key header, or the
// form's idempotency_key), else from the request itself and the day, so a
// repeated request reports on the first run instead of climbing again.
func (s *Server) startManual(r *http.Request, b escalateBody, key string) (string, int, *Problem) {
	p := principal(r)
	if p == nil || !p.HasRole(escalators...) {
		return "", http.StatusForbidden, &Problem{Code: "forbidden", Message: "your role may not escalate cases"}
	}
	if status, prob := s.checkCases(r, b.CaseIDs); prob != nil {
		return "", status, prob
	}
	if err := escalation.CheckReason(b.Reason); err != nil {
		return "", http.StatusBadRequest, &Problem{Code: "bad_request", Field: "reason", Message: err.Error()}
	}
	f := escalation.ManualFilter{CaseIDs: b.CaseIDs, CentreIDs: b.CentreIDs, Phase: b.Phase, Track: b.Track, Assignee: b.Assignee, Limit: b.Limit}
	if v := viewer(r); v != nil {
		f.Viewer = &contract.Viewer{StaffID: v.StaffID, CentreID: v.CentreID, AllCentres: v.AllCentres}
	}
	if len(f.CaseIDs) == 0 && len(f.CentreIDs) == 0 && f.Phase == "" && f.Track == "" && f.Assignee == "" {
		return "", http.StatusBadRequest, &Problem{Code: "bad_request", Message: "name case_ids or a filter (centre_ids, phase, track, assignee)"}
	}
	if !p.SeesAllCentres() {
		f.CentreIDs = []string{p.CentreID}
	}
	if f.Limit <= 0 || f.Limit > maxManualBatch {
		f.Limit = maxManualBatch
	}
	if b.MinRole != "" && escalation.LevelOf(b.MinRole) == 0 {
		return "", http.StatusBadRequest, &Problem{Code: "bad_request", Field: "min_role", Message: "min_role is not one of " + strings.Join(escalation.Ladder, ", ")}
	}
	req := escalation.ManualRequest{Filter: f, Reason: b.Reason, MinRole: b.MinRole, StaffID: p.ID}
	if key == "" {
		key = escalation.ManualKey(req, time.Now())
	}
	id := escalation.ManualWorkflowID(p.ID, key)
	if err := escalation.StartManual(r.Context(), s.Temporal, s.Config.Temporal.TaskQueue, id, req); err != nil {
		s.Log.Error("start manual escalation", zap.String("workflow_id", id), zap.Error(err))
		return "", http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: "the escalation was not started; try again"}
	}
	return id, http.StatusAccepted, nil
}

func manualStatusURL(id string) string { return "/api/v1/escalations/manual/" + id }

// POST /api/v1/escalations: escalate one case or many by filter. The
// escalation runs as a workflow: 202 with a link to its status.
func (s *Server) apiEscalate(w http.ResponseWriter, r *http.Request) {
	var b escalateBody
	if !decodeJSON(w, r, &b) {
		return
	}
	id, status, prob := s.startManual(r, b, r.Header.Get("Idempotency-Key"))
	if prob != nil {
		writeProblem(w, status, *prob)
		return
	}
	w.Header().Set("Location", manualStatusURL(id))
	writeJSON(w, status, map[string]string{"id": id, "status_url": manualStatusURL(id)})
}

// GET /api/v1/escalations/manual/{id}: a manual escalation's progress, or
// its result once done.
func (s *Server) apiManualStatus(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p == nil || !p.HasRole(escalators...) {
		writeProblem(w, http.StatusForbidden, Problem{Code: "forbidden", Message: "your role may not escalate cases"})
		return
	}
	id := chi.URLParam(r, "id")
	if !escalation.IsManualWorkflowID(id) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such escalation"})
		return
	}
	st, err := escalation.ManualStatus(r.Context(), s.Temporal, id)
	if errors.Is(err, escalation.ErrNoEscalation) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such escalation"})
		return
	}
	if err != nil {
		s.internal(w, r, "escalation status", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// stallChart is the stalled-cases-over-time series by centre.
type stallChart struct {
	Days    []string      `json:"days"`
	Centres []string      `json:"centres"`
	Series  []stallSeries `json:"series"`
}

type stallSeries struct {
	CentreID string `json:"centre_id"`
	Stalled  []int  `json:"stalled"` // one per day; -1 where no sweep ran
	// for the SVG
	Points string `json:"-"`
	Colour string `json:"-"`
	Last   int    `json:"-"`
}

func (s *Server) stallChart(r *http.Request) (stallChart, error) {
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	if days <= 0 || days > 366 {
		days = 30
	}
	tz := s.Config.Escalate.Timezone
	if tz == "" {
		tz = "UTC"
	}
	pts, err := store.StallStats(r.Context(), s.Pool, time.Now().AddDate(0, 0, -days), tz, visibleCentres(r, splitCSV(r.URL.Query().Get("centre"))))
	if err != nil {
		return stallChart{}, err
	}
	dayIdx, byCentre := map[string]int{}, map[string]map[string]int{}
	var c stallChart
	for _, p := range pts {
		if _, ok := dayIdx[p.Day]; !ok {
			dayIdx[p.Day] = len(c.Days)
			c.Days = append(c.Days, p.Day)
		}
		if byCentre[p.CentreID] == nil {
			byCentre[p.CentreID] = map[string]int{}
			c.Centres = append(c.Centres, p.CentreID)
		}
		byCentre[p.CentreID][p.Day] = p.Stalled
	}
	sort.Strings(c.Centres)
	for _, centre := range c.Centres {
		ser := stallSeries{CentreID: centre, Stalled: make([]int, len(c.Days))}
		for i, d := range c.Days {
			v, ok := byCentre[centre][d]
			if !ok {
				v = 0 // a sweep ran that day and found nothing stalled here
			}
			ser.Stalled[i] = v
		}
		c.Series = append(c.Series, ser)
	}
	return c, nil
}

// GET /api/v1/escalations/stats: stalled cases per day by centre.
func (s *Server) apiEscalationStats(w http.ResponseWriter, r *http.Request) {
	c, err := s.stallChart(r)
	if err != nil {
		s.internal(w, r, "escalation stats", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

var chartColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"}

// chart geometry
const chartW, chartH, chartPad = 720.0, 240.0, 36.0

type chartView struct {
	stallChart
	Max           int
	Width, Height float64
	YTicks        []chartTick
	XTicks        []chartTick
	Empty         bool
}

type chartTick struct {
	Pos   float64
	Label string
}

func layoutChart(c stallChart) chartView {
	v := chartView{stallChart: c, Width: chartW, Height: chartH, Empty: len(c.Days) == 0}
	for _, s := range c.Series {
		for _, n := range s.Stalled {
			v.Max = max(v.Max, n)
		}
	}
	top := max(v.Max, 1)
	x := func(i int) float64 {
		if len(c.Days) <= 1 {
			return chartPad
		}
		return chartPad + float64(i)*(chartW-2*chartPad)/float64(len(c.Days)-1)
	}
	y := func(n int) float64 { return chartH - chartPad - float64(n)*(chartH-2*chartPad)/float64(top) }
	for i := range v.Series {
		var b strings.Builder
		for j, n := range v.Series[i].Stalled {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(j), y(n))
		}
		v.Series[i].Points = strings.TrimSpace(b.String())
		v.Series[i].Colour = chartColours[i%len(chartColours)]
		if k := len(v.Series[i].Stalled); k > 0 {
			v.Series[i].Last = v.Series[i].Stalled[k-1]
		}
	}
	for _, n := range []int{0, top / 2, top} {
		v.YTicks = append(v.YTicks, chartTick{Pos: y(n), Label: strconv.Itoa(n)})
	}
	step := max(1, len(c.Days)/6)
	for i := 0; i < len(c.Days); i += step {
		v.XTicks = append(v.XTicks, chartTick{Pos: x(i), Label: c.Days[i][5:]})
	}
	return v
}

func (s *Server) renderEscalations(w http.ResponseWriter, r *http.Request, status int, flash, errMsg string) {
	l := lang.For(r)
	items, err := s.listEscalated(r, ownEscalations(r))
	if err != nil {
		s.Log.Error("escalations page", zap.Error(err))
		errMsg = l.T("esc.err_read")
	}
	chart, err := s.stallChart(r)
	if err != nil {
		s.Log.Error("escalations chart", zap.Error(err))
	}
	sweeps, err := store.RecentSweeps(r.Context(), s.Pool, 5)
	s.partial(r.Context(), "recent sweeps", err)
	kb := make([]byte, 16)
	_, _ = rand.Read(kb)
	ladder := make([]string, len(escalation.Ladder))
	for i, role := range escalation.Ladder {
		ladder[i] = l.Code("role", role)
	}
	if flash != "" {
		q := r.URL.Query()
		q.Set("flash", flash)
		r.URL.RawQuery = q.Encode()
	}
	s.render(w, r, status, "escalations", "esc.title", map[string]any{
		"Key": base64.RawURLEncoding.EncodeToString(kb), "Items": items, "Chart": layoutChart(chart), "Error": errMsg,
		"Ladder": escalation.Ladder, "LadderText": strings.Join(ladder, " → "), "Schedule": escalation.ScheduleID, "Sweeps": sweeps,
		"Centre": sweepableCentre(r), "Own": ownEscalations(r)})
}

// sweepableCentre is the team lead's centre, which they may sweep from the
// page; "" hides the form.
func sweepableCentre(r *http.Request) string {
	if p := principal(r); p != nil && p.HasRole(store.RoleTeamLead) {
		return p.CentreID
	}
	return ""
}

// GET /escalations: the team-lead view.
func (s *Server) pageEscalations(w http.ResponseWriter, r *http.Request) {
	s.renderEscalations(w, r, http.StatusOK, r.URL.Query().Get("flash"), "")
}

// POST /escalations: escalate cases from the page. The page waits a
// little for the result; a longer batch goes on, and the flash says where
// to follow it.
func (s *Server) pageEscalate(w http.ResponseWriter, r *http.Request) {
	b := escalateBody{CaseIDs: splitCSV(r.PostFormValue("case_ids")), Reason: r.PostFormValue("reason"), MinRole: r.PostFormValue("min_role")}
	if len(b.CaseIDs) == 0 {
		s.renderEscalations(w, r, http.StatusBadRequest, "", lang.For(r).T("esc.err_no_case"))
		return
	}
	id, status, prob := s.startManual(r, b, r.PostFormValue("idempotency_key"))
	if prob != nil {
		s.renderEscalations(w, r, status, "", problemText(lang.For(r), prob))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.updateTimeout())
	defer cancel()
	var res escalation.ManualProgress
	l := lang.For(r)
	msg := l.T("esc.running", "Count", len(b.CaseIDs), "URL", manualStatusURL(id))
	if err := s.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res); err == nil {
		msg = l.T("esc.done", "Escalated", res.Escalated, "Count", len(b.CaseIDs))
		if len(res.AtTop) > 0 {
			msg += " " + l.T("esc.at_top", "Cases", strings.Join(res.AtTop, ", "))
		}
	}
	http.Redirect(w, r, "/escalations?flash="+url.QueryEscape(msg), http.StatusSeeOther)
}

func splitCSV(v string) []string {
	var out []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
