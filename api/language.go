package api

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

func init() {
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Post("/language", s.pageLanguage)
	})
}

// withStaffLanguage makes the staff member's own choice of language the
// request's (lang.For then returns it); without one the browser's
// Accept-Language stays, else Swedish. The choice came with the session.
func (s *Server) withStaffLanguage(r *http.Request, p *auth.Principal) *http.Request {
	setting := p.Language
	if setting == "" {
		return r
	}
	l := lang.New(lang.Pick(setting, r.Header.Get("Accept-Language")))
	return r.WithContext(lang.With(r.Context(), l))
}

// POST /language: the staff member's language for the console, kept for
// every later sign-in; back to the page it was chosen on.
func (s *Server) pageLanguage(w http.ResponseWriter, r *http.Request) {
	p, choice := principal(r), r.PostFormValue("language")
	if choice != "" && !slices.Contains(lang.Supported, choice) {
		http.Error(w, lang.For(r).T("layout.language_unknown"), http.StatusBadRequest)
		return
	}
	if err := store.SetStaffLanguage(r.Context(), s.Pool, p.ID, choice); err != nil {
		s.Log.Error("staff language: " + err.Error())
		http.Error(w, lang.For(r).T("layout.language_failed"), http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, LocalNext(r.PostFormValue("next")), http.StatusSeeOther)
}
