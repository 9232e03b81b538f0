package api

import (
	"embed"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/plans"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

// The plan builder (/pathways/{case}/plan): choose any step type the
// programme allows, order the steps, set their days, pick a course found by
// search in the participant's municipality and, for agreements, an employer
// or the linked recruitment need. It sends the plan through runAction, the
// API's own path, so the plan service checks it as a whole and its
// problems come back on their fields.

//go:embed templates/layout.html templates/plan.html
var planTemplate embed.FS

func init() {
	parsePage("plan", planTemplate, "templates/layout.html", "templates/plan.html")
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/pathways/{case}/plan", s.pagePlan)
		r.Post("/pathways/{case}/plan", s.pagePlanSubmit)
	})
}

// planRow is one row of the builder's form.
type planRow struct {
	N          int // row number in the form
	Order      int
	ID, Type   string
	Title      string
	Days       string
	Course     string
	Employer   string
	Education  bool
	Agreement  bool
	Params     map[string]string // the rest, kept as hidden fields
	Errs       map[string]string // by part: id, type, days, course, employer, params
	TypeChoice []string
}

// blankRows are the empty rows a builder offers for more steps.
const blankRows = 3

func isAgreement(p map[string]string) bool { _, ok := p["employer"]; return ok }

func (s *Server) planRows(prog pathway.Programme, steps []pathway.StepSpec) []planRow {
	allowed := plans.Allowed(prog)
	reg := catalog.Registry()
	var rows []planRow
	for i, st := range steps {
		r := planRow{N: i, Order: i + 1, ID: st.ID, Type: st.Type, Title: st.Title, Days: strconv.Itoa(st.DurationDays),
			Course: st.Params["course_code"], Employer: st.Params["employer"], Params: map[string]string{}, TypeChoice: allowed}
		for k, v := range st.Params {
			if k != "course_code" && k != "employer" {
				r.Params[k] = v
			}
		}
		r.Education = isEducation(reg, st.Type)
		r.Agreement = isAgreement(st.Params)
		rows = append(rows, r)
	}
	for i := 0; i < blankRows; i++ {
		n := len(rows)
		rows = append(rows, planRow{N: n, Order: n + 1, Params: map[string]string{}, TypeChoice: allowed, Education: true, Agreement: true})
	}
	return rows
}

func isEducation(reg *steps.Registry, name string) bool { return steps.IsEducation(reg, name) }

// planForm reads the builder's form into a plan; rowOf maps each plan step
// back to its form row, for the errors.
func planForm(r *http.Request, prog pathway.Programme) (pathway.Plan, []planRow, []int) {
	f := r.PostFormValue
	plan := pathway.Plan{TargetSSYK: strings.TrimSpace(f("target_ssyk")), RecruitmentNeedID: strings.TrimSpace(f("recruitment_need_id"))}
	reg := catalog.Registry()
	allowed := plans.Allowed(prog)
	var rows []planRow
	for n := 0; n < 40; n++ {
		p := func(k string) string { return strings.TrimSpace(f("step_" + strconv.Itoa(n) + "_" + k)) }
		if _, ok := r.PostForm["step_"+strconv.Itoa(n)+"_type"]; !ok {
			break
		}
		order, err := strconv.Atoi(p("order"))
		if err != nil {
			order = 1000 + n
		}
		row := planRow{N: n, Order: order, ID: p("id"), Type: p("type"), Title: p("title"), Days: p("days"), Course: strings.ToUpper(p("course")),
			Employer: p("employer"), Params: map[string]string{}, Errs: map[string]string{}, TypeChoice: allowed}
		for k, v := range r.PostForm {
			prefix := "step_" + strconv.Itoa(n) + "_p_"
			if strings.HasPrefix(k, prefix) && len(v) > 0 {
				row.Params[strings.TrimPrefix(k, prefix)] = v[0]
			}
		}
		row.Education, row.Agreement = isEducation(reg, row.Type), row.Employer != "" || row.Type == ""
		rows = append(rows, row)
	}
	// Order by the order column, form order breaking ties; unused rows
	// (no type) are left out.
	idx := make([]int, 0, len(rows))
	for i, row := range rows {
		if row.Type != "" && f("step_"+strconv.Itoa(row.N)+"_drop") != "on" {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return rows[idx[a]].Order < rows[idx[b]].Order })
	var rowOf []int
	for _, i := range idx {
		row := rows[i]
		params := map[string]string{}
		if t, ok := reg.Get(row.Type); ok && len(row.Params) == 0 {
			if c, ok := t.(steps.Conformable); ok {
				for k, v := range c.Example() {
					params[k] = v
				}
			}
		}
		for k, v := range row.Params {
			params[k] = v
		}
		if row.Course != "" {
			params["course_code"] = row.Course
		} else if row.Education {
			delete(params, "course_code")
		}
		if row.Employer != "" {
			params["employer"] = row.Employer
		}
		days, _ := strconv.Atoi(row.Days)
		plan.Steps = append(plan.Steps, pathway.StepSpec{ID: row.ID, Type: row.Type, Title: row.Title, DurationDays: days, Params: params})
		rowOf = append(rowOf, i)
	}
	return plan, rows, rowOf
}

var stepField = regexp.MustCompile(`^steps\[(\d+)\]\.(\w+)$`)

func (s *Server) pagePlan(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	row, code, prob := s.check(r, caseID)
	if prob != nil {
		s.pageError(w, r, code, prob.Message)
		return
	}
	live := s.liveStatus(r.Context(), caseID)
	prog, _ := s.programme(row.Programme)
	current := prog.Steps
	target, need := "", ""
	if live != nil {
		target, need = live.TargetSSYK, live.NeedID
		var pending []pathway.StepSpec
		for _, st := range live.Steps {
			if st.Status == pathway.StepPending {
				sp := st.StepSpec
				if i := strings.Index(sp.ID, "-"); i > 0 && strings.HasPrefix(sp.ID, "r") {
					sp.ID = sp.ID[i+1:] // the revision prefix is the pathway's, not the coach's
				}
				pending = append(pending, sp)
			}
		}
		if len(pending) > 0 {
			current = pending
		}
	}
	s.renderPlan(w, r, http.StatusOK, row, live, prog, target, need, s.planRows(prog, current), nil, "")
}

func (s *Server) programme(name string) (pathway.Programme, bool) {
	if s.Cases == nil || s.Cases.Programmes == nil {
		return pathway.Programme{}, false
	}
	return s.Cases.Programmes.Get(name)
}

func (s *Server) renderPlan(w http.ResponseWriter, r *http.Request, status int, row store.PathwayRow, live *pathway.Status, prog pathway.Programme,
	target, need string, rows []planRow, errs map[string]string, msg string) {
	if errs == nil {
		errs = map[string]string{}
	}
	data := map[string]any{"Row": row, "Live": live, "Programme": prog, "Target": target, "Need": need, "Rows": rows, "Errs": errs,
		"Error": msg, "Q": r.URL.Query().Get("q"), "CanPlan": principal(r).Can(auth.ActPlan)}
	if centre, err := store.GetCentre(r.Context(), s.Pool, row.CentreID); err == nil {
		data["Municipality"] = centre.Municipality
		ns, err := s.needs().RecruitmentNeeds(r.Context(), integrations.NeedQuery{Municipality: centre.MunicipalityCode})
		s.partial(r.Context(), "recruitment needs", err)
		if need != "" && !slices.ContainsFunc(ns, func(n integrations.RecruitmentNeed) bool { return n.ID == need }) {
			if n, err := s.needs().Need(r.Context(), need); err == nil {
				ns = append([]integrations.RecruitmentNeed{n}, ns...)
			}
		}
		data["Needs"] = ns
		if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
			cs, err := s.plans().SearchCourses(r.Context(), centre.MunicipalityCode, q)
			if err != nil {
				data["CourseError"] = lang.For(r).T("plan.course_search_failed")
			}
			data["Courses"] = cs[:min(len(cs), 50)]
		}
	}
	es, err := store.ListEmployers(r.Context(), s.Pool)
	s.partial(r.Context(), "employers", err)
	data["Employers"] = es
	s.render(w, r, status, "plan", lang.For(r).T("plan.title", "Case", row.CaseID), data)
}

func (s *Server) pagePlanSubmit(w http.ResponseWriter, r *http.Request) {
	caseID := chi.URLParam(r, "case")
	if !principal(r).Can(auth.ActPlan) { // before the case, as runAction does
		s.pageError(w, r, http.StatusForbidden, "your role may not plan")
		return
	}
	row, code, prob := s.check(r, caseID)
	if prob != nil {
		s.pageError(w, r, code, prob.Message)
		return
	}
	prog, _ := s.programme(row.Programme)
	plan, rows, rowOf := planForm(r, prog)
	_, _, status, prob := s.runAction(r, caseID, Actions[auth.ActPlan], &plan)
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(lang.For(r).T("plan.pending")), http.StatusSeeOther)
		return
	}
	if prob == nil {
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(lang.For(r).T("plan.approved")), http.StatusSeeOther)
		return
	}
	if status == http.StatusForbidden || status == http.StatusNotFound {
		s.pageError(w, r, status, prob.Message)
		return
	}
	l := lang.For(r)
	errs := map[string]string{}
	fields := prob.Fields
	if len(fields) == 0 {
		fields = []FieldProblem{{Field: prob.Field, Message: prob.Message}}
	}
	for _, f := range fields {
		if m := stepField.FindStringSubmatch(f.Field); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i < len(rowOf) {
				part := m[2]
				if part == "duration_days" {
					part = "days"
				}
				rows[rowOf[i]].Errs[part] = l.Message(f.Message)
				continue
			}
		}
		key := f.Field
		if key == "" || strings.HasPrefix(key, "steps") {
			key = "steps"
		}
		if errs[key] != "" {
			errs[key] += "; "
		}
		errs[key] += l.Message(f.Message)
	}
	msg := l.T("plan.refused")
	if prob.Code != "invalid_plan" && len(prob.Fields) == 0 {
		msg = l.Message(prob.Message)
	}
	s.renderPlan(w, r, status, row, s.liveStatus(r.Context(), caseID), prog, plan.TargetSSYK, r.PostFormValue("recruitment_need_id"), rows, errs, msg)
}
