package api

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/store"
)

// requireAPISession answers 401 JSON without a valid session. A state-changing
// API call with the cookie must be JSON (a cross-site form cannot send that
// without a CORS preflight), which keeps the API free of CSRF.
func (s *Server) requireAPISession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Auth.Load(r)
		if !ok {
			writeProblem(w, http.StatusUnauthorized, Problem{Code: "unauthenticated", Message: "sign in first"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeProblem(w, http.StatusUnsupportedMediaType, Problem{Code: "json_required", Message: "send the body as application/json"})
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// requirePageSession redirects to the sign-in page without a session, and
// checks the CSRF token of every form post.
func (s *Server) requirePageSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Auth.Load(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !s.Auth.CheckCSRF(p.Session, r.PostFormValue("csrf")) {
			http.Error(w, "the form has expired; go back, reload the page and try again", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
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
			s.renderLogin(w, r, http.StatusBadGateway, "The sign-in service cannot be reached. Try again shortly.")
		}
	})
	r.Get("/auth/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Auth.OIDCCallback(w, r)
		if err != nil {
			s.Log.Warn("oidc sign-in refused", zap.Error(err))
			s.audit(r, store.AuditEntry{StaffID: "-", Action: store.AuditSignInFailed, Detail: map[string]any{"method": "oidc"}})
			s.renderLogin(w, r, http.StatusForbidden, "Sign-in failed: "+err.Error())
			return
		}
		s.finishSignIn(w, r, st, "oidc", "/")
	})
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(staticFS())))
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	id, pw := r.PostFormValue("username"), r.PostFormValue("password")
	st, err := s.Auth.PasswordSignIn(r.Context(), id, pw)
	if err != nil {
		msg := err.Error()
		if !errors.Is(err, auth.ErrBadCredentials) && s.Auth.DevAccounts {
			s.Log.Error("sign-in", zap.Error(err))
			msg = "Sign-in is not available right now."
		}
		s.audit(r, store.AuditEntry{StaffID: "-", Action: store.AuditSignInFailed, Detail: map[string]any{"method": "password"}})
		s.renderLogin(w, r, http.StatusUnauthorized, msg)
		return
	}
	s.finishSignIn(w, r, st, "password", r.PostFormValue("next"))
}

func (s *Server) finishSignIn(w http.ResponseWriter, r *http.Request, st store.Staff, method, next string) {
	if err := s.Auth.SetSession(w, st.ID); err != nil {
		s.Log.Error("session", zap.Error(err))
		http.Error(w, "could not sign in", http.StatusInternalServerError)
		return
	}
	s.audit(r, store.AuditEntry{StaffID: st.ID, Action: store.AuditSignIn, Detail: map[string]any{"method": method}})
	// Only local paths: never an open redirect.
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.Auth.Load(r); ok && !s.Auth.CheckCSRF(p.Session, r.PostFormValue("csrf")) {
		http.Error(w, "the form has expired", http.StatusForbidden)
		return
	}
	s.Auth.ClearSession(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// audit writes one audit row; a failure is logged, and callers that return
// personal data use mustAudit instead.
func (s *Server) audit(r *http.Request, e store.AuditEntry) {
	if err := s.mustAudit(r, e); err != nil {
		s.Log.Error("audit write failed", zap.String("action", e.Action), zap.Error(err))
	}
}

func (s *Server) mustAudit(r *http.Request, e store.AuditEntry) error {
	if e.StaffID == "" {
		if p := auth.From(r.Context()); p != nil {
			e.StaffID = p.ID
		}
	}
	e.RequestID = middleware.GetReqID(r.Context())
	return store.WriteAudit(r.Context(), s.Pool, e)
}
