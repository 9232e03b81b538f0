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
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/store"
)

//go:embed templates/layout.html templates/login.html templates/caseload.html templates/start.html templates/pathway.html templates/tasks.html templates/employers.html templates/outcomes.html
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
	for _, name := range []string{"login", "caseload", "start", "pathway", "tasks", "employers", "outcomes"} {
		parsePage(name, consoleTemplates, "templates/layout.html", "templates/"+name+".html")
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
	r.Post("/pathways/{case}/steps/{step}/confirm", s.pageConfirm)
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
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	l := lang.For(r)
	v := view{Lang: l.Tag(), Title: title, Data: data, Flash: r.URL.Query().Get("flash")}
	if p := principal(r); p != nil {
		v.Me, v.CSRF = p, s.Auth.CSRFToken(p.Session)
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
	s.render(w, r, status, "login", "Sign in", map[string]any{"Error": msg, "Next": next, "DevAccounts": s.Auth.DevAccounts, "OIDC": s.Auth.OIDCEnabled()})
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	http.Error(w, msg, status)
}

type option struct{ V, L string }

func (s *Server) pageCaseload(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := r.URL.Query()
	data := map[string]any{
		"Phases":   []string{pathway.PhaseReferral, pathway.PhaseMapping, pathway.PhasePlanning, pathway.PhaseSteps, pathway.PhaseOutcome, pathway.PhaseFollowUp, pathway.PhaseClosed},
		"Tracks":   []string{pathway.TrackYouth, pathway.TrackAdult},
		"Statuses": []string{"active", "closed"},
		"Sorts": []option{{"-started_at", "Started (newest)"}, {"started_at", "Started (oldest)"}, {"last_progress_at", "Last progress (oldest)"},
			{"days_left", "Days left (fewest)"}, {"time_limit_at", "Time limit (soonest)"}, {"phase", "Phase"}, {"centre_id", "Centre"}, {"case_id", "Case"}},
		"Q": map[string]string{"centre": q.Get("centre"), "phase": q.Get("phase"), "track": q.Get("track"), "status": q.Get("status"),
			"assignee": q.Get("assignee"), "stalled": q.Get("stalled"), "overdue": q.Get("overdue"), "sort": q.Get("sort")},
		"Page": store.Page[store.PathwayRow]{},
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
	status := http.StatusOK
	switch {
	case prob != nil:
		data["Error"], status = prob.Field+": "+prob.Message, http.StatusBadRequest
	case len(f.CentreIDs) == 1 && !p.CanSeeCentre(f.CentreIDs[0]):
		data["Error"], status = "You can see your own centre's pathways only.", http.StatusForbidden
	default:
		page, err := store.ListVisiblePathways(r.Context(), s.Pool, p.Viewer(), f)
		if errors.Is(err, store.ErrBadCursor) {
			data["Error"], status = "This page link no longer fits the list: start again from the first page.", http.StatusBadRequest
		} else if err != nil {
			s.Log.Error("caseload", zap.Error(err))
			data["Error"], status = "The caseload could not be read.", http.StatusInternalServerError
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
	s.render(w, r, status, "caseload", "Caseload", data)
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
			in("personal_number", "Personal identity number", "text", ref.PersonalNumber, "YYYYMMDD-NNNN"),
			in("given_name", "Given name", "text", ref.GivenName, ""),
			in("family_name", "Family name", "text", ref.FamilyName, ""),
			in("email", "E-mail (optional)", "email", ref.Email, ""),
			in("phone", "Phone (optional)", "text", ref.Phone, ""),
			in("district", "District", "text", ref.District, "e.g. Hisingen"),
			in("assignee", "Assignee, staff ID (optional)", "text", ref.Assignee, ""),
		},
		"Errs": errs, "Error": msg, "Source": ref.Source, "CentreID": ref.CentreID, "Programme": ref.Programme,
		"Consent": ref.Consent, "Protected": ref.ProtectedIdentity, "Centres": centres, "Programmes": progs,
	}
}

func (s *Server) pageStart(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "start", "Start a pathway", s.startData(r.Context(), cases.Referral{Source: pathway.SourceSocialServices}, map[string]string{}, ""))
}

func (s *Server) pageStartSubmit(w http.ResponseWriter, r *http.Request) {
	f := r.PostFormValue
	ref := cases.Referral{PersonalNumber: strings.TrimSpace(f("personal_number")), GivenName: f("given_name"), FamilyName: f("family_name"),
		Email: strings.TrimSpace(f("email")), Phone: strings.TrimSpace(f("phone")), District: strings.TrimSpace(f("district")),
		CentreID: f("centre_id"), Programme: f("programme"), Source: f("source"), Consent: f("consent") == "true",
		ProtectedIdentity: f("protected_identity") == "true", Assignee: strings.TrimSpace(f("assignee"))}
	started, status, prob := s.startPathway(r, StartRequest{Referral: ref}, "console")
	if prob != nil {
		errs := map[string]string{}
		for _, fp := range prob.Fields {
			if errs[fp.Field] == "" {
				errs[fp.Field] = fp.Message
			} else {
				errs[fp.Field] += "; " + fp.Message
			}
		}
		if len(prob.Fields) == 0 && prob.Field != "" {
			errs[prob.Field] = prob.Message
		}
		msg := "Please correct the fields marked below. Nothing was saved."
		if len(errs) == 0 {
			msg = prob.Message
		}
		s.render(w, r, status, "start", "Start a pathway", s.startData(r.Context(), ref, errs, msg))
		return
	}
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/caseload?flash="+url.QueryEscape(referralReceived.Message), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/pathways/"+started.CaseID+"?flash="+url.QueryEscape("Pathway started at "+started.CentreID+"."), http.StatusSeeOther)
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
			s.pageError(w, r, http.StatusInternalServerError, "the participant could not be read")
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
	needs, err := store.ListNeeds(r.Context(), s.Pool, store.NeedFilter{CentreID: row.CentreID})
	s.partial(r.Context(), "recruitment needs", err)
	s.addMatches(r, row, live, needs, data)
	centres, err := store.ListCentres(r.Context(), s.Pool)
	s.partial(r.Context(), "centres", err)
	data["Centres"] = centres
	if s.Cases != nil && s.Cases.Programmes != nil {
		if prog, ok := s.Cases.Programmes.Get(row.Programme); ok {
			data["DefaultSteps"] = prog.Steps
		}
	}
	s.render(w, r, status, "pathway", "Pathway "+caseID, data)
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
	a, ok := Actions[name]
	if !ok {
		s.pageError(w, r, http.StatusNotFound, "no such action")
		return
	}
	msg, err := s.formMessage(r, name, caseID)
	if err != nil {
		s.showPathway(w, r, caseID, http.StatusUnprocessableEntity, map[string]string{name: err.Error()}, "")
		return
	}
	_, _, status, prob := s.runAction(r, caseID, a, msg)
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape("Received: "+name+". The pathway has not confirmed it yet; "+
			"reload this page in a moment. Submitting the same form again is safe."), http.StatusSeeOther)
		return
	}
	if prob != nil {
		if status == http.StatusForbidden || status == http.StatusNotFound {
			s.pageError(w, r, status, prob.Message)
			return
		}
		if status == http.StatusServiceUnavailable {
			s.showPathway(w, r, caseID, status, nil, prob.Message)
			return
		}
		s.showPathway(w, r, caseID, status, map[string]string{name: prob.Message}, "")
		return
	}
	// Each Update projects its change before it answers, so the next page
	// already shows it.
	http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape("Recorded: "+name+"."), http.StatusSeeOther)
}

func (s *Server) pageConfirm(w http.ResponseWriter, r *http.Request) {
	caseID, step := chi.URLParam(r, "case"), chi.URLParam(r, "step")
	c := manual.Confirm{Outcome: r.PostFormValue("outcome"), Reason: r.PostFormValue("reason")}
	_, status, prob := s.confirmStep(r, caseID, step, c)
	if status == http.StatusAccepted {
		http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape("Received: step "+step+". The pathway has not confirmed it yet; "+
			"reload this page in a moment."), http.StatusSeeOther)
		return
	}
	if prob != nil && (status == http.StatusForbidden || status == http.StatusNotFound) {
		s.pageError(w, r, status, prob.Message)
		return
	}
	if prob != nil {
		s.showPathway(w, r, caseID, status, nil, "Step "+step+": "+prob.Message)
		return
	}
	http.Redirect(w, r, "/pathways/"+caseID+"?flash="+url.QueryEscape("Step "+step+" confirmed."), http.StatusSeeOther)
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
	page, err := store.ListTasks(r.Context(), s.Pool, f)
	if err != nil {
		s.Log.Error("tasks", zap.Error(err))
	}
	s.render(w, r, http.StatusOK, "tasks", "Tasks", map[string]any{"Scope": scope, "Role": role, "Page": page})
}

func (s *Server) pageEmployers(w http.ResponseWriter, r *http.Request) {
	es, err := store.ListEmployers(r.Context(), s.Pool)
	s.partial(r.Context(), "employers", err)
	ns, err := store.ListNeeds(r.Context(), s.Pool, store.NeedFilter{})
	s.partial(r.Context(), "recruitment needs", err)
	s.render(w, r, http.StatusOK, "employers", "Employers", map[string]any{"Employers": es, "Needs": ns})
}

// partial logs a failed read of a page's secondary data: the page still
// renders, with that part empty, and the failure is on record.
func (s *Server) partial(ctx context.Context, what string, err error) {
	if err != nil {
		s.Log.Warn("page rendered without "+what, zap.String("request_id", middleware.GetReqID(ctx)), zap.Error(err))
	}
}
