package api

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

//go:embed templates/layout.html templates/login.html templates/caseload.html templates/start.html templates/pathway.html templates/stepactions.html templates/tasks.html templates/employers.html templates/outcomes.html templates/escalations.html templates/accessibility.html templates/error.html
var consoleTemplates embed.FS

//go:embed static
var staticFiles embed.FS

func staticFS() fs.FS {
	sub, _ := fs.Sub(staticFiles, "static")
	return sub
}

// consolePages holds every page once per language: language → page → template.
var consolePages = map[string]map[string]*template.Template{}

// pageFuncs are the template functions every page has beside lang.Funcs.
var pageFuncs = template.FuncMap{
	// idem is a fresh idempotency key per rendered form: a resubmitted
	// form repeats it, so the action is applied once.
	"idem": uuid.NewString,
	// daysleft counts a row's days left when the page is shown.
	"daysleft": daysLeft,
	// share is part of whole in percent, for pct.
	"share": func(part, whole int) float64 {
		if whole == 0 {
			return 0
		}
		return float64(part) * 100 / float64(whole)
	},
}

// parsePage parses page name from fsys's files in every language the
// console speaks; the files are the layout and the page's own.
func parsePage(name string, fsys fs.FS, files ...string) {
	for _, tag := range lang.Supported {
		if consolePages[tag] == nil {
			consolePages[tag] = map[string]*template.Template{}
		}
		consolePages[tag][name] = template.Must(template.New(name).Funcs(pageFuncs).Funcs(lang.Funcs(lang.New(tag))).ParseFS(fsys, files...))
	}
}

func init() {
	for _, name := range []string{"login", "caseload", "start", "pathway", "tasks", "employers", "outcomes", "escalations", "accessibility", "error"} {
		files := []string{"templates/layout.html", "templates/" + name + ".html"}
		if name == "pathway" {
			files = append(files, "templates/stepactions.html")
		}
		parsePage(name, consoleTemplates, files...)
	}
	pages = append(pages, mountConsole)
}

func mountConsole(s *Server, r chi.Router) {
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/caseload", http.StatusSeeOther) })
	r.Get("/caseload", s.pageCaseload)
	r.Get("/pathways/new", s.pageStart)
	r.Post("/pathways/new", s.pageStartSubmit)
	r.Get("/pathways/{case}", s.pagePathway)
	r.Post("/pathways/{case}/actions/{action}", s.pageAction)
	r.Get("/tasks", s.pageTasks)
	r.Get("/employers", s.pageEmployers)
	r.Get("/outcomes", s.pageOutcomes)
}

// view is what every page template gets.
type view struct {
	Lang  string // the page's language, for <html lang>
	Title string
	Me    *auth.Principal
	CSRF  string
	Flash string
	Data  any
	Path  string // the page's own address, to come back to after a change of language

	names names
}

// render writes a page in the request's language; title is a catalogue
// key or text already in that language.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	l := lang.For(r)
	if lang.Has(l.Tag(), title) {
		title = l.T(title)
	}
	v := view{Lang: l.Tag(), Title: title, Data: data, Flash: r.URL.Query().Get("flash"), Path: r.URL.RequestURI(),
		names: names{l: l}}
	if r.Method != http.MethodGet {
		v.Path = r.URL.Path
	}
	if p := principal(r); p != nil {
		v.Me, v.CSRF = p, s.Auth.CSRFToken(p.Session)
		v.names.centres, v.names.towns = s.centreNames(r.Context())
	}
	if s.Cases != nil && s.Cases.Programmes != nil {
		v.names.programmes = s.Cases.Programmes.Get
	}
	var b strings.Builder
	if err := consolePages[l.Tag()][page].ExecuteTemplate(&b, "layout", v); err != nil {
		s.Log.Error("render", zap.String("page", page), zap.Error(err))
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.Auth.Load(r); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	// The accounts named are ones that sign in (by user name, never by e-mail).
	s.render(w, r, status, "login", "login.title", map[string]any{"Error": msg, "Next": next, "DevAccounts": s.Auth.DevAccounts, "OIDC": s.Auth.OIDCEnabled(),
		"DevExamples": "coach.angered, counsellor.angered, team.angered, manager, admin", "DevPassword": store.DevPassword})
}

// pageError answers a page request that cannot be served with a page in
// the layout (one header, the page's language), saying why.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", "errorpage.title", map[string]any{"Message": msg})
}

type option struct{ V, L string }

func (s *Server) pageCaseload(w http.ResponseWriter, r *http.Request) {
	p, l := principal(r), lang.For(r)
	q := r.URL.Query()
	data := map[string]any{
		"Phases":   []string{pathway.PhaseReferral, pathway.PhaseMapping, pathway.PhasePlanning, pathway.PhaseSteps, pathway.PhaseOutcome, pathway.PhaseFollowUp, pathway.PhaseClosed},
		"Tracks":   []string{pathway.TrackYouth, pathway.TrackAdult},
		"Statuses": []string{"active", "closed"},
		"Sorts": []option{{"-started_at", "caseload.sort.started_desc"}, {"started_at", "caseload.sort.started_asc"}, {"last_progress_at", "caseload.sort.progress_asc"},
			{"days_left", "caseload.sort.days_left"}, {"time_limit_at", "caseload.sort.time_limit"}, {"phase", "caseload.sort.phase"}, {"centre_id", "caseload.sort.centre"}, {"case_id", "caseload.sort.case"}},
		"Q": map[string]string{"centre": q.Get("centre"), "phase": q.Get("phase"), "track": q.Get("track"), "status": q.Get("status"),
			"assignee": q.Get("assignee"), "stalled": q.Get("stalled"), "overdue": q.Get("overdue"), "sort": q.Get("sort"), "q": q.Get("q")},
		"ShowNames": p.Can(auth.ActReadPersonal),
		"Page":      store.Page[store.PathwayRow]{},
	}
	centres, err := store.ListCentres(r.Context(), s.Pool)
	s.partial(r.Context(), "centres", err)
	var visible []store.Centre
	for _, c := range centres {
		if p.CanSeeCentre(c.ID) {
			visible = append(visible, c)
		}
	}
	data["Centres"] = visible
	f, prob := caseloadFilter(q)
	status, kind := http.StatusOK, ""
	if prob == nil && !(len(f.CentreIDs) == 1 && !p.CanSeeCentre(f.CentreIDs[0])) {
		kind, status, prob = s.applySearch(r, q.Get("q"), "console", &f)
	}
	switch {
	case prob != nil && prob.Field == "q":
		data["Error"], data["SearchError"] = prob.Message, prob.Message
	case prob != nil:
		data["Error"], status = problemText(l, prob), http.StatusBadRequest
	case len(f.CentreIDs) == 1 && !p.CanSeeCentre(f.CentreIDs[0]):
		data["Error"], status = l.T("caseload.err_centre"), http.StatusForbidden
	default:
		page, err := store.ListVisiblePathways(r.Context(), s.Pool, p.Viewer(), f)
		// Names are audited, then decrypted, for this page's rows only; a
		// name search keeps the rows whose decrypted names match.
		list := map[bool]string{true: "search", false: "caseload"}[kind != ""]
		names := s.shownNames(r, list, "console", caseIDsOf(page.Items))
		if kind == searchName {
			page.Items = confirmNames(page.Items, names, q.Get("q"))
		}
		data["Names"] = nameLabels(r, names)
		if errors.Is(err, store.ErrBadCursor) {
			data["Error"], status = l.T("caseload.err_cursor"), http.StatusBadRequest
		} else if err != nil {
			s.Log.Error("caseload", zap.Error(err))
			data["Error"], status = l.T("caseload.err_read"), http.StatusInternalServerError
		}
		data["Page"] = page
		data["From"] = page.Offset + 1
		// Next pages by cursor (offset only numbers the rows); Previous by
		// offset.
		link := func(off int, after string) string {
			qq := url.Values{}
			for k, v := range q {
				qq[k] = v
			}
			qq.Set("offset", strconv.Itoa(off))
			qq.Del("after")
			if after != "" {
				qq.Set("after", after)
			}
			return "/caseload?" + qq.Encode()
		}
		if page.Offset > 0 {
			data["Prev"] = link(max(0, page.Offset-page.Limit), "")
		}
		if page.Next != "" {
			data["Next"] = link(page.Offset+page.Limit, page.Next)
		}
	}
	s.render(w, r, status, "caseload", "caseload.title", data)
}

// --- start ---

type input struct{ ID, Label, Type, Value, Hint, Err string }

func (s *Server) startData(ctx context.Context, ref cases.Referral, errs map[string]string, msg string) map[string]any {
	in := func(id, label, typ, val, hint string) input {
		return input{ID: id, Label: label, Type: typ, Value: val, Hint: hint, Err: errs[id]}
	}
	centres, err := store.ListCentres(ctx, s.Pool)
	s.partial(ctx, "centres", err)
	var progs []pathway.Programme
	if s.Cases != nil && s.Cases.Programmes != nil {
		progs = s.Cases.Programmes.All()
	}
	return map[string]any{
		"Inputs": []input{
			in("personal_number", "start.personal_number", "text", ref.PersonalNumber, "start.personal_number_hint"),
			in("given_name", "start.given_name", "text", ref.GivenName, ""),
			in("family_name", "start.family_name", "text", ref.FamilyName, ""),
			in("email", "start.email", "email", ref.Email, ""),
			in("phone", "start.phone", "text", ref.Phone, ""),
			in("district", "start.district", "text", ref.District, "start.district_hint"),
			in("assignee", "start.assignee", "text", ref.Assignee, ""),
		},
		"Errs": errs, "Error": msg, "Source": ref.Source, "CentreID": ref.CentreID, "Programme": ref.Programme,
		"Consent": ref.Consent, "Protected": ref.ProtectedIdentity, "Centres": centres, "Programmes": progs,
	}
}

func (s *Server) pageStart(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "start", "start.title", s.startData(r.Context(), cases.Referral{Source: pathway.SourceSocialServices}, map[string]string{}, ""))
}

func (s *Server) pageStartSubmit(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	ref := cases.Referral{PersonalNumber: strings.TrimSpace(f("personal_number")), GivenName: f("given_name"), FamilyName: f("family_name"),
		Email: strings.TrimSpace(f("email")), Phone: strings.TrimSpace(f("phone")), District: strings.TrimSpace(f("district")),
		CentreID: f("centre_id"), Programme: f("programme"), Source: f("source"), Consent: f("consent") == "true",
		ProtectedIdentity: f("protected_identity") == "true", Assignee: strings.TrimSpace(f("assignee"))}
	started, status, prob := s.startPathway(r, StartRequest{Referral: ref}, "console")
	l := lang.For(r)
	if prob != nil {
		errs := map[string]string{}
		for _, fp := range prob.Fields {
			if errs[fp.Field] == "" {
				errs[fp.Field] = l.Message(fp.Message)
			} else {
				errs[fp.Field] += "; " + l.Message(fp.Message)
			}
		}
		if len(prob.Fields) == 0 && prob.Field != "" {
			errs[prob.Field] = l.Message(prob.Message)
		}
		msg := l.T("start.correct")
		if len(errs) == 0 {
			msg = l.Message(prob.Message)
		}
		s.render(w, r, status, "start", "start.title", s.startData(r.Context(), ref, errs, msg))
		return
	}
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/caseload?flash="+url.QueryEscape(l.T("start.received")), http.StatusSeeOther)
		return
	}
	centre, _ := s.centreNames(r.Context())
	name := centre[started.CentreID]
	if name == "" {
		name = started.CentreID
	}
	http.Redirect(w, r, "/pathways/"+started.CaseID+"?flash="+url.QueryEscape(l.T("start.started", "Centre", name)), http.StatusSeeOther)
}

// --- the participant page ---

func (s *Server) pagePathway(w http.ResponseWriter, r *http.Request) {
	s.showPathway(w, r, chi.URLParam(r, "case"), http.StatusOK, nil, "")
}

func (s *Server) showPathway(w http.ResponseWriter, r *http.Request, caseID string, status int, errs map[string]string, actionErr string) {
	row, code, prob := s.check(r, caseID)
	if prob != nil {
		s.pageError(w, r, code, prob.Message)
		return
	}
	p := principal(r)
	live := s.liveStatus(r.Context(), caseID)
	phase := row.Phase
	if live != nil {
		phase = live.Phase
	}
	data := map[string]any{"Row": row, "Live": live, "Phase": phase, "TemporalURL": s.temporalURL(caseID), "Errs": errs,
		"ActionError": actionErr, "ClosureReasons": pathway.ClosureReasons}
	if errs == nil {
		data["Errs"] = map[string]string{}
	}
	if p.Can(auth.ActReadPersonal) {
		pv, err := s.readParticipant(r, row, "console")
		if err != nil {
			s.Log.Error("read participant", zap.Error(err))
			s.pageError(w, r, http.StatusInternalServerError, lang.For(r).T("pathway.err_read_participant"))
			return
		}
		data["Person"], data["Consents"] = pv.Participant, pv.Consents
	}
	// The participant read above is audited with the page; without it the
	// timeline is the page's personal data and is audited on its own.
	var tl []store.TimelineEntry
	var tlErr error
	if !p.Can(auth.ActReadPersonal) {
		tlErr = s.auditTimeline(r, row, "console")
	}
	if tlErr == nil {
		tl, tlErr = store.Timeline(r.Context(), s.Pool, s.Keys, caseID)
	}
	if tlErr != nil {
		s.Log.Error("timeline", zap.Error(tlErr))
	}
	data["Timeline"] = tl
	tasks, err := store.ListTasks(r.Context(), s.Pool, store.TaskFilter{CaseID: caseID, Limit: 100})
	s.partial(r.Context(), "tasks", err)
	data["Tasks"] = tasks.Items
	var needs []integrations.RecruitmentNeed
	if centre, err := store.GetCentre(r.Context(), s.Pool, row.CentreID); err == nil {
		needs, err = s.needs().RecruitmentNeeds(r.Context(), integrations.NeedQuery{Municipality: centre.MunicipalityCode})
		s.partial(r.Context(), "recruitment needs", err)
	}
	s.addMatches(r, row, live, needs, data)
	if live != nil && live.NeedID != "" {
		n, err := s.needs().Need(r.Context(), live.NeedID)
		s.partial(r.Context(), "linked recruitment need", err)
		if err != nil {
			n = integrations.RecruitmentNeed{ID: live.NeedID}
		}
		data["LinkedNeed"] = n
	}
	s.addStepForms(r, caseID, live, data)
	centres, err := store.ListCentres(r.Context(), s.Pool)
	s.partial(r.Context(), "centres", err)
	data["Centres"] = centres
	if s.Cases != nil && s.Cases.Programmes != nil {
		if prog, ok := s.Cases.Programmes.Get(row.Programme); ok {
			data["DefaultSteps"] = prog.Steps
		}
	}
	s.render(w, r, status, "pathway", lang.For(r).T("pathway.title", "Case", caseID), data)
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formMessage builds an action's message from the posted form.
func (s *Server) formMessage(r *http.Request, name, caseID string) (any, error) {
	f := r.PostFormValue
	switch name {
	case auth.ActFirstContact:
		return &pathway.FirstContact{Channel: f("channel")}, nil
	case auth.ActMapping:
		return &pathway.Mapping{Abilities: splitList(f("abilities")), EducationLevel: strings.TrimSpace(f("education_level")),
			Language: strings.TrimSpace(f("language")), WorkHistory: f("work_history"), Goals: f("goals"), Obstacles: splitList(f("obstacles"))}, nil
	case auth.ActPlan:
		plan := &pathway.Plan{TargetSSYK: strings.TrimSpace(f("target_ssyk")), RecruitmentNeedID: f("recruitment_need_id")}
		row, err := store.GetPathway(r.Context(), s.Pool, caseID)
		if err != nil {
			return nil, err
		}
		chosen := map[string]bool{}
		for _, id := range r.PostForm["step"] {
			chosen[id] = true
		}
		if prog, ok := s.Cases.Programmes.Get(row.Programme); ok {
			for _, st := range prog.Steps {
				if chosen[st.ID] {
					plan.Steps = append(plan.Steps, st)
				}
			}
		}
		if len(plan.Steps) == 0 {
			return nil, errors.New("choose at least one step")
		}
		return plan, nil
	case auth.ActOutcome:
		o := &outcomeBody{Kind: f("kind"), StartDate: f("start_date"), Employer: f("employer"), SSYK: strings.TrimSpace(f("ssyk"))}
		// The form shows the work fields or the study fields; only the
		// ones that belong to the kind are sent on.
		if o.Kind == pathway.OutcomeStudies {
			o.StudyForm = f("study_form")
			switch f("student_finance") {
			case "true":
				o.StudentFinance = &[]bool{true}[0]
			case "false":
				o.StudentFinance = &[]bool{false}[0]
			}
		} else {
			o.EmployerKind, o.EmploymentForm, o.Subsidy = f("employer_kind"), f("employment_form"), f("subsidy")
			if o.EmploymentForm == pathway.EmploymentUnsubsidised {
				o.Subsidy = ""
			}
		}
		return o, nil
	case auth.ActFollowUp:
		day, err := strconv.Atoi(f("day"))
		if err != nil {
			return nil, errors.New("day must be a number")
		}
		return &pathway.FollowUp{Day: day, StillThere: f("still_there") == "true", Note: f("note")}, nil
	case auth.ActPause:
		return &pathway.Pause{Reason: f("reason")}, nil
	case auth.ActResume:
		return &pathway.Actor{}, nil
	case auth.ActTransfer:
		return &pathway.Transfer{ToCentre: f("to_centre"), Reason: f("reason")}, nil
	case auth.ActClose:
		return &pathway.Close{Reason: f("reason"), Note: f("note")}, nil
	case auth.ActCompleteTask:
		return &pathway.CompleteTask{TaskKey: f("task_key")}, nil
	}
	return nil, fmt.Errorf("no action %q", name)
}

func (s *Server) pageAction(w http.ResponseWriter, r *http.Request) {
	caseID, name := chi.URLParam(r, "case"), chi.URLParam(r, "action")
	l := lang.For(r)
	a, ok := Actions[name]
	if !ok {
		s.pageError(w, r, http.StatusNotFound, l.T("pathway.no_action"))
		return
	}
	msg, err := s.formMessage(r, name, caseID)
	if err != nil {
		s.showPathway(w, r, caseID, http.StatusUnprocessableEntity, map[string]string{name: l.Message(err.Error())}, "")
		return
	}
	_, _, status, prob := s.runAction(r, caseID, a, msg)
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(l.T("pathway.received", "Action", l.Code("action", name))), http.StatusSeeOther)
		return
	}
	if prob != nil {
		// Every refusal shows its reason, next to the form it refused.
		if status == http.StatusForbidden || status == http.StatusNotFound {
			s.pageError(w, r, status, problemText(l, prob))
			return
		}
		if status == http.StatusServiceUnavailable {
			s.showPathway(w, r, caseID, status, nil, problemText(l, prob))
			return
		}
		s.showPathway(w, r, caseID, status, map[string]string{name: problemText(l, prob)}, "")
		return
	}
	// Each Update projects its change before it answers, so the next page
	// already shows it.
	http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape(l.T("pathway.recorded", "Action", l.Code("action", name))), http.StatusSeeOther)
}

func (s *Server) pageTasks(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	scope := r.URL.Query().Get("scope")
	if scope == "" {
		scope = "role"
	}
	v := p.Viewer()
	f := store.TaskFilter{Limit: 200, Viewer: &v}
	role := ""
	if len(p.Roles) > 0 {
		role = p.Roles[0]
	}
	switch scope {
	case "mine":
		f.Assignee = p.ID
	case "role":
		f.Role = role
	}
	if !p.SeesAllCentres() {
		f.CentreIDs = []string{p.CentreID}
	}
	data, status := s.taskPage(r, &f, scope)
	page, err := store.ListTasks(r.Context(), s.Pool, f)
	if errors.Is(err, store.ErrBadCursor) {
		data["Error"], status = lang.For(r).T("search.err_cursor"), http.StatusBadRequest
	} else if err != nil {
		s.Log.Error("tasks", zap.Error(err))
	}
	data["Role"], data["Page"] = role, page
	s.taskPager(r, page, scope, data)
	s.render(w, r, status, "tasks", "tasks.title", data)
}

func (s *Server) pageEmployers(w http.ResponseWriter, r *http.Request) {
	es, err := store.ListEmployers(r.Context(), s.Pool)
	s.partial(r.Context(), "employers", err)
	ns, err := s.needs().RecruitmentNeeds(r.Context(), integrations.NeedQuery{Status: "all"})
	s.partial(r.Context(), "recruitment needs", err)
	open := map[string]int{}
	for _, n := range ns {
		if n.Status == integrations.NeedOpen {
			open[n.EmployerID]++
		}
	}
	for i := range es {
		es[i].OpenNeeds = open[es[i].ID]
	}
	views, err := s.needViews(r, ns)
	s.partial(r.Context(), "tied pathways", err)
	s.render(w, r, http.StatusOK, "employers", "employers.title", map[string]any{"Employers": es, "Needs": views})
}

// partial logs a failed read of a page's secondary data: the page still
// renders, with that part empty, and the failure is on record.
func (s *Server) partial(ctx context.Context, what string, err error) {
	if err != nil {
		s.Log.Warn("page rendered without "+what, zap.String("request_id", middleware.GetReqID(ctx)), zap.Error(err))
	}
}
