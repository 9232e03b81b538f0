package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// requireAPISession answers 401 JSON without a valid session. A state-changing
// API call with the cookie must be JSON (a cross-site form cannot send that
// without a CORS preflight), which keeps the API free of CSRF.
func (s *Server) requireAPISession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		cr := caseRead(r)
		p, err := s.Auth.LoadCase(r, cr)
		if errors.Is(err, auth.ErrSessionsUnavailable) {
			sessionsUnavailable(w)
			return
		}
		if err != nil {
			writeProblem(w, http.StatusUnauthorized, Problem{Code: "unauthenticated", Message: "sign in first"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeProblem(w, http.StatusUnsupportedMediaType, Problem{Code: "json_required", Message: "send the body as application/json"})
			return
		}
		l := s.apiLanguage(r, p)
		ctx := lang.With(auth.WithPrincipal(r.Context(), p), l)
		if cr != nil && cr.Read {
			ctx = context.WithValue(ctx, caseReadKey{}, cr)
		}
		next.ServeHTTP(&langWriter{w, l}, r.WithContext(ctx))
	})
}

// caseRead names the case an API request is about, and a staff action's ID
// when its Idempotency-Key header names one, so the session check reads
// them in its own round trip (store.GetSessionStaffCase); nil for a
// request about no case.
func caseRead(r *http.Request) *store.CaseRead {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/pathways/")
	if !ok {
		return nil
	}
	caseID, sub, _ := strings.Cut(rest, "/")
	if caseID == "" || len(caseID) > 64 {
		return nil
	}
	cr := &store.CaseRead{CaseID: caseID}
	if a, ok := Actions[sub]; ok && r.Method == http.MethodPost && r.Header.Get(IdempotencyHeader) != "" {
		if key, prob := idempotencyKey(r); prob == nil {
			cr.ActionID = a.Name + ":" + key
		}
	}
	return cr
}

type caseReadKey struct{}

// readCase is what the session check read of caseID, if it read it.
func readCase(ctx context.Context, caseID string) *store.CaseRead {
	cr, _ := ctx.Value(caseReadKey{}).(*store.CaseRead)
	if cr == nil || cr.CaseID != caseID {
		return nil
	}
	return cr
}

// apiLanguage is the language of an API caller's messages: the staff
// member's setting, else an Accept-Language the client sent, else English
// (scripts that ask for nothing keep the messages they always had).
func (s *Server) apiLanguage(r *http.Request, p *auth.Principal) *lang.Localizer {
	setting := p.Language
	accept := r.Header.Get("Accept-Language")
	if setting == "" && accept == "" {
		return lang.New(lang.English)
	}
	return lang.New(lang.Pick(setting, accept))
}

// requirePageSession redirects to the sign-in page without a session, and
// checks the CSRF token of every form post.
func (s *Server) requirePageSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		p, err := s.Auth.LoadErr(r)
		if errors.Is(err, auth.ErrSessionsUnavailable) {
			http.Error(w, lang.For(r).T("login.sessions_unavailable"), http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		r = s.withStaffLanguage(r, p)
		if r.Method == http.MethodPost && !s.Auth.CheckCSRF(p.Session, r.PostFormValue("csrf")) {
			http.Error(w, lang.For(r).T("msg.form_expired"), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// sessionsUnavailable answers an API call whose session could not be checked.
func sessionsUnavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable",
		Message: "the session store could not be reached; nothing was done; you are still signed in, send it again"})
}

// noStore keeps answers about people out of browser and proxy caches: the
// default for the API and every console page.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// mountPublic serves the sign-in pages and the static files.
func mountPublic(s *Server, r chi.Router) {
	r.Get("/login", s.loginPage)
	r.Post("/login", s.loginSubmit)
	r.Post("/logout", s.logout)
	r.Get("/auth/oidc/start", func(w http.ResponseWriter, r *http.Request) {
		if !s.Auth.OIDCEnabled() {
			http.NotFound(w, r)
			return
		}
		if err := s.Auth.OIDCStart(w, r); err != nil {
			s.Log.Error("oidc start", zap.Error(err))
			s.renderLogin(w, r, http.StatusBadGateway, lang.For(r).T("login.oidc_unreachable"))
		}
	})
	r.Get("/auth/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		if !s.Auth.OIDCEnabled() {
			http.NotFound(w, r)
			return
		}
		st, err := s.Auth.OIDCCallback(w, r)
		if err != nil {
			s.Log.Warn("oidc sign-in refused", zap.Error(err))
			s.audit(r, store.AuditEntry{StaffID: "-", Action: store.AuditSignInFailed, Detail: map[string]any{"method": "oidc"}})
			s.renderLogin(w, r, http.StatusForbidden, lang.For(r).T("login.oidc_failed", "Reason", err.Error()))
			return
		}
		s.finishSignIn(w, r, st, "oidc", "/")
	})
	r.Method(http.MethodGet, "/static/*", http.StripPrefix("/static/", http.FileServerFS(staticFS())))
	// The accessibility statement is public, as the law asks; signed in, it
	// has the usual header.
	r.Get("/tillganglighet", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.Auth.Load(r); ok {
			r = s.withStaffLanguage(r.WithContext(auth.WithPrincipal(r.Context(), p)), p)
		}
		s.render(w, r, http.StatusOK, "accessibility", "a11y.title", nil)
	})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	id, pw := r.PostFormValue("username"), r.PostFormValue("password")
	st, err := s.Auth.PasswordSignIn(r.Context(), id, pw, auth.ClientAddress(r))
	if err != nil {
		l := lang.For(r)
		msg, status := err.Error(), http.StatusUnauthorized
		if errors.Is(err, auth.ErrBadCredentials) {
			msg = l.T("login.bad_credentials")
		}
		detail := map[string]any{"method": "password", "account": auditAccount(id)}
		var throttled *auth.ThrottledError
		switch {
		case errors.As(err, &throttled):
			w.Header().Set("Retry-After", strconv.Itoa(throttled.Seconds()))
			msg = l.T("login.throttled", "Minutes", (throttled.Seconds()+59)/60)
			status, detail["reason"] = http.StatusTooManyRequests, "throttled"
		case !errors.Is(err, auth.ErrBadCredentials) && s.Auth.DevAccounts:
			s.Log.Error("sign-in", zap.Error(err))
			msg, status = l.T("login.unavailable"), http.StatusServiceUnavailable
		}
		s.audit(r, store.AuditEntry{StaffID: "-", Action: store.AuditSignInFailed, Detail: detail})
		s.renderLogin(w, r, status, msg)
		return
	}
	s.finishSignIn(w, r, st, "password", r.PostFormValue("next"))
}

// auditAccount is the account name a failed sign-in typed, bounded and
// printable, for the reviewer.
func auditAccount(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 100 {
		id = id[:100]
	}
	return strings.ToValidUTF8(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, id), "")
}

func (s *Server) finishSignIn(w http.ResponseWriter, r *http.Request, st store.Staff, method, next string) {
	if err := s.Auth.SetSession(r.Context(), w, st.ID); err != nil {
		s.Log.Error("session", zap.Error(err))
		http.Error(w, lang.For(r).T("login.could_not_sign_in"), http.StatusInternalServerError)
		return
	}
	s.audit(r, store.AuditEntry{StaffID: st.ID, Action: store.AuditSignIn, Detail: map[string]any{"method": method}})
	http.Redirect(w, r, LocalNext(next), http.StatusSeeOther)
}

// LocalNext returns next when it is a path on this site, and "/" otherwise:
// never an open redirect. Browsers read a backslash as a slash and drop
// tabs and newlines, so a backslash, any control or space character, a
// scheme, a host or a leading "//" refuses the whole value.
func LocalNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, c := range next {
		if c == '\\' || unicode.IsControl(c) || unicode.IsSpace(c) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// Nor may an encoded slash or backslash make "//" once a later hop decodes it.
	dec, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.Contains(dec, "\\") || strings.HasPrefix(dec, "//") {
		return "/"
	}
	return next
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.Auth.Load(r); ok && !s.Auth.CheckCSRF(p.Session, r.PostFormValue("csrf")) {
		http.Error(w, lang.For(r).T("msg.form_expired"), http.StatusForbidden)
		return
	}
	if err := s.Auth.ClearSession(r.Context(), w, r); err != nil {
		// The cookie is gone from this browser, but a copy would still work.
		s.Log.Error("end session", zap.Error(err))
		http.Error(w, lang.For(r).T("login.signout_failed"), http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Post("/staff/{staff}/sign-out-everywhere", s.apiSignOutEverywhere)
	})
}

// POST /api/v1/staff/{staff}/sign-out-everywhere: an administrator ends
// every session of a staff member, say after a lost laptop.
func (s *Server) apiSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !p.HasRole(store.RoleAdministrator) {
		forbidden(w, "only an administrator can sign someone out everywhere")
		return
	}
	id := chi.URLParam(r, "staff")
	if _, err := store.GetStaff(r.Context(), s.Pool, id); errors.Is(err, store.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such staff member"})
		return
	} else if err != nil {
		s.internal(w, r, "read staff", err)
		return
	}
	n, err := s.Auth.EndAll(r.Context(), id)
	if err != nil {
		s.internal(w, r, "end sessions", err)
		return
	}
	s.audit(r, store.AuditEntry{Action: store.AuditSignOutEverywhere, Detail: map[string]any{"staff_id": id, "sessions": n}})
	writeJSON(w, http.StatusOK, map[string]any{"staff_id": id, "sessions_ended": n})
}

// audit writes one audit row; a failure is logged, and callers that return
// personal data use mustAudit instead.
// audit records what already happened (an action the pathway accepted, a
// refusal), so it may not be lost to a short database outage: it retries for
// up to auditPatience, on a context the client's leaving does not cancel.
func (s *Server) audit(r *http.Request, e store.AuditEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditPatience)
	defer cancel()
	r = r.WithContext(ctx)
	wait := 100 * time.Millisecond
	for {
		err := s.mustAudit(r, e)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			s.Log.Error("audit write failed", zap.String("action", e.Action), zap.Error(err))
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// auditPatience bounds how long an answer waits for the audit log to take
// its row while PostgreSQL restarts.
const auditPatience = 30 * time.Second

func (s *Server) mustAudit(r *http.Request, e store.AuditEntry) error {
	if e.StaffID == "" {
		if p := auth.From(r.Context()); p != nil {
			e.StaffID = p.ID
		}
	}
	e.RequestID = middleware.GetReqID(r.Context())
	return store.WriteAudit(r.Context(), s.Pool, e)
}
