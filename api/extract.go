package api

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/extract"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

//go:embed templates/layout.html templates/register_extract.html
var extractTemplates embed.FS

// Register extracts and rectification (GDPR art. 15–16) for team leads and
// administrators; the extract package applies the centre and
// protected-identity rules and audits every extract and correction.
func init() {
	routes = append(routes, func(s *Server, r chi.Router) {
		r.Post("/register-extracts", s.apiExtract)
		r.Patch("/participants/{id}", s.apiRectify)
	})
	parsePage("register_extract", extractTemplates, "templates/layout.html", "templates/register_extract.html")
	apiOps = append(apiOps,
		apiOp{method: "post", path: "/register-extracts", summary: "Register extract (GDPR art. 15): everything held about the person, as JSON or with ?format=html a printable page; team leads of the person's centre and administrators; audited",
			params: []string{"format"}, body: "ExtractRequest", response: "anyObject", errors: []int{400, 403, 404, 422}},
		apiOp{method: "patch", path: "/participants/{id}", summary: "Correct name and contact details (GDPR art. 16); answers the changed field names; audited without values",
			body: "Rectification", response: "Rectified", errors: []int{400, 403, 404, 422}})
	schemas["ExtractRequest"] = obj(map[string]any{"personal_number": str}, "personal_number")
	schemas["Rectification"] = obj(map[string]any{"given_name": str, "family_name": str, "email": str, "phone": str})
	schemas["Rectified"] = obj(map[string]any{"changed": map[string]any{"type": "array", "items": str}})
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/register-extract", s.pageExtractForm)
		r.Post("/register-extract", s.pageExtract)
		r.Post("/register-extract/rectify", s.pageRectify)
	})
}

func (s *Server) extracts() *extract.Service {
	return &extract.Service{Pool: s.Pool, Keys: s.Keys}
}

func (s *Server) requester(r *http.Request, via string) extract.Requester {
	return extract.Requester{Staff: principal(r).Staff, Via: via, RequestID: middleware.GetReqID(r.Context())}
}

// extractProblem maps the extract package's refusals to an answer; false
// when err is none of them.
func extractProblem(w http.ResponseWriter, err error) bool {
	var fe *extract.FieldError
	switch {
	case errors.As(err, &fe):
		writeProblem(w, http.StatusUnprocessableEntity, Problem{Code: "invalid", Field: fe.Field, Message: fe.Message,
			Fields: []FieldProblem{{Field: fe.Field, Code: "invalid", Message: fe.Message}}})
	case errors.Is(err, extract.ErrNotFound):
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: err.Error()})
	case errors.Is(err, extract.ErrForbidden):
		forbidden(w, err.Error())
	default:
		return false
	}
	return true
}

type extractBody struct {
	PersonalNumber string `json:"personal_number"`
}

// apiExtract answers POST /register-extracts (the number travels in the
// body, never in a URL that proxies log): JSON, or with ?format=html the
// printable page.
func (s *Server) apiExtract(w http.ResponseWriter, r *http.Request) {
	if !s.mayExtract(w, r) {
		return
	}
	var b extractBody
	if !decodeJSON(w, r, &b) {
		return
	}
	x, err := s.extracts().Build(r.Context(), s.requester(r, "api"), b.PersonalNumber)
	if extractProblem(w, err) {
		return
	}
	if err != nil {
		s.internal(w, r, "register extract", err)
		return
	}
	if r.URL.Query().Get("format") == "html" {
		s.writeExtractPage(w, r, x, "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, x)
}

// mayExtract refuses, and audits the refusal of, a role that may make no
// register extract or correction, before any person is looked up.
func (s *Server) mayExtract(w http.ResponseWriter, r *http.Request) bool {
	if principal(r).HasRole(extract.Roles...) {
		return true
	}
	s.audit(r, store.AuditEntry{Action: store.AuditDenied, Detail: map[string]any{"reason": "register_extract", "why": "role"}})
	forbidden(w, extract.ErrForbidden.Error())
	return false
}

// apiRectify answers PATCH /participants/{id} with the fields that changed.
func (s *Server) apiRectify(w http.ResponseWriter, r *http.Request) {
	if !s.mayExtract(w, r) {
		return
	}
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		writeProblem(w, http.StatusNotFound, Problem{Code: "not_found", Message: "no such participant"})
		return
	}
	var b store.Rectification
	if !decodeJSON(w, r, &b) {
		return
	}
	changed, err := s.extracts().RectifyByID(r.Context(), s.requester(r, "api"), id, b)
	if extractProblem(w, err) {
		return
	}
	if err != nil {
		s.internal(w, r, "rectify", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"changed": changed})
}

func (s *Server) pageExtractForm(w http.ResponseWriter, r *http.Request) {
	s.renderExtractForm(w, r, http.StatusOK, "")
}

func (s *Server) renderExtractForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if !principal(r).HasRole(extract.Roles...) {
		status, msg = http.StatusForbidden, lang.For(r).T("extract.forbidden")
	}
	s.render(w, r, status, "register_extract", "extract.title", map[string]any{"Error": msg, "Allowed": principal(r).HasRole(extract.Roles...)})
}

// pageExtract shows the printable extract with the correction form.
func (s *Server) pageExtract(w http.ResponseWriter, r *http.Request) {
	if !principal(r).HasRole(extract.Roles...) {
		s.renderExtractForm(w, r, http.StatusForbidden, "")
		return
	}
	l := lang.For(r)
	x, err := s.extracts().Build(r.Context(), s.requester(r, "console"), strings.TrimSpace(r.PostFormValue("personal_number")))
	var fe *extract.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderExtractForm(w, r, http.StatusUnprocessableEntity, l.Message(fe.Message))
	case errors.Is(err, extract.ErrNotFound):
		s.renderExtractForm(w, r, http.StatusNotFound, l.T("extract.not_found"))
	case errors.Is(err, extract.ErrForbidden):
		s.renderExtractForm(w, r, http.StatusForbidden, l.T("extract.forbidden"))
	case err != nil:
		s.Log.Error("register extract", zap.Error(err))
		s.renderExtractForm(w, r, http.StatusInternalServerError, l.T("extract.failed"))
	default:
		s.writeExtractPage(w, r, x, s.Auth.CSRFToken(principal(r).Session))
	}
}

func (s *Server) pageRectify(w http.ResponseWriter, r *http.Request) {
	if !principal(r).HasRole(extract.Roles...) {
		s.renderExtractForm(w, r, http.StatusForbidden, "")
		return
	}
	l := lang.For(r)
	id, err := uuid.Parse(r.PostFormValue("participant_id"))
	if err != nil {
		s.renderExtractForm(w, r, http.StatusNotFound, l.T("extract.no_participant"))
		return
	}
	f := func(k string) *string { v := r.PostFormValue(k); return &v }
	changed, err := s.extracts().RectifyByID(r.Context(), s.requester(r, "console"), id,
		store.Rectification{GivenName: f("given_name"), FamilyName: f("family_name"), Email: f("email"), Phone: f("phone")})
	var fe *extract.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderExtractForm(w, r, http.StatusUnprocessableEntity, l.T("extract.nothing_corrected", "Reason", l.Code("field", fe.Field)+": "+l.Message(fe.Message)))
	case errors.Is(err, extract.ErrNotFound):
		s.renderExtractForm(w, r, http.StatusNotFound, l.T("extract.no_participant"))
	case errors.Is(err, extract.ErrForbidden):
		s.renderExtractForm(w, r, http.StatusForbidden, l.T("extract.forbidden"))
	case err != nil && changed == nil:
		s.Log.Error("rectify", zap.Error(err))
		s.renderExtractForm(w, r, http.StatusInternalServerError, l.T("extract.save_failed"))
	case err != nil:
		// Saved, but unaudited: say exactly that.
		s.Log.Error("rectify audit", zap.Error(err))
		s.renderExtractForm(w, r, http.StatusInternalServerError, l.T("extract.unaudited", "Fields", fieldNames(l, changed)))
	case len(changed) == 0:
		http.Redirect(w, r, "/register-extract?flash="+url.QueryEscape(l.T("extract.nothing_to_correct")), http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/register-extract?flash="+url.QueryEscape(l.T("extract.corrected", "Fields", fieldNames(l, changed))), http.StatusSeeOther)
	}
}

// writeExtractPage writes the standalone printable page; csrf adds the
// correction form.
func (s *Server) writeExtractPage(w http.ResponseWriter, r *http.Request, x *extract.Extract, csrf string) {
	nb := make([]byte, 16)
	_, _ = rand.Read(nb)
	nonce := base64.StdEncoding.EncodeToString(nb)
	var b strings.Builder
	if err := extract.WriteHTML(&b, x, extract.PageOptions{Nonce: nonce, CSRF: csrf, RectifyAction: "/register-extract/rectify", Lang: lang.For(r)}); err != nil {
		s.internal(w, r, "render extract", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action 'self'; frame-ancestors 'none'")
	_, _ = w.Write([]byte(b.String()))
}

// fieldNames names changed fields in l's language.
func fieldNames(l *lang.Localizer, fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = l.Code("field", f)
	}
	return strings.Join(out, ", ")
}
