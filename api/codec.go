package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// The codec server for the Temporal Web UI: Temporal's remote codec protocol
// (POST <endpoint>/decode and /encode with {"payloads":[...]}), endpoint
// <http.public_url>/api/v1/codec. The UI calls it from the browser, cross
// origin, so it answers CORS for the configured UI origin (temporal.ui_url)
// only, preflights included; the session cookie comes along when the UI
// includes cross-origin credentials.
//
// Who may decode: a signed-in staff member whose role reads personal data
// (auth.ActReadPersonal), for payloads of a case they may open in the
// console (their centre, or every centre for their role; a protected
// identity only for its assignee). Each encrypted payload names its workflow
// in an authenticated label, which gives the case. A payload without a label
// (encoded outside a workflow) or of a workflow that is no case's is
// decoded only for roles that see every centre. One payload refused refuses
// the whole request. Every decode is audited per case before it answers.
const (
	codecPath        = "/api/v1/codec"
	codecBodyLimit   = 8 << 20
	AuditCodecDecode = "codec_decode"
)

func mountCodec(s *Server, r chi.Router) {
	for _, op := range []string{"decode", "encode"} {
		path := codecPath + "/" + op
		r.Options(path, s.codecPreflight)
		r.Post(path, s.codecHandler(op))
	}
}

// uiOrigin is the scheme://host[:port] of the configured Temporal Web UI.
func (s *Server) uiOrigin() string {
	u, err := url.Parse(s.Config.Temporal.UIURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// codecCORS allows the UI's origin, and only it, with credentials.
func (s *Server) codecCORS(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || origin != s.uiOrigin() {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization, Authorization-Extras")
	h.Set("Access-Control-Max-Age", "600")
	return true
}

func (s *Server) codecPreflight(w http.ResponseWriter, r *http.Request) {
	if !s.codecCORS(w, r) {
		writeProblem(w, http.StatusForbidden, Problem{Code: "forbidden", Message: "origin not allowed"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) codecHandler(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.codecCORS(w, r)
		w.Header().Set("Cache-Control", "no-store")
		p, err := s.Auth.LoadErr(r)
		if errors.Is(err, auth.ErrSessionsUnavailable) {
			sessionsUnavailable(w)
			return
		}
		if err != nil {
			writeProblem(w, http.StatusUnauthorized, Problem{Code: "unauthenticated", Message: "sign in first"})
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		// JSON only: a cross-site form cannot send it without a preflight,
		// which only the UI's origin passes.
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeProblem(w, http.StatusUnsupportedMediaType, Problem{Code: "json_required", Message: "send the body as application/json"})
			return
		}
		if ns := r.Header.Get("X-Namespace"); ns != "" && ns != s.Config.Temporal.Namespace {
			forbidden(w, "this codec server serves namespace "+s.Config.Temporal.Namespace)
			return
		}
		if s.Keys == nil {
			writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "unavailable", Message: "the codec server has no keys"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, codecBodyLimit))
		if err != nil {
			badRequest(w, "payloads", "the body is too large or unreadable")
			return
		}
		var in commonpb.Payloads
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &in); err != nil {
			badRequest(w, "payloads", `send {"payloads":[...]} as Temporal's codec protocol does`)
			return
		}
		c := codec.New(s.Keys)
		var out []*commonpb.Payload
		if op == "encode" {
			out, err = c.Encode(in.Payloads)
		} else {
			if !s.mayDecode(w, r, p, in.Payloads) {
				return
			}
			out, err = c.Decode(in.Payloads)
		}
		if err != nil {
			// The error names a key ID at most, never content.
			badRequest(w, "payloads", err.Error())
			return
		}
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			s.internal(w, r, "encode payloads", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

// mayDecode applies the access rules above and audits the decode; it has
// answered the request when it returns false.
func (s *Server) mayDecode(w http.ResponseWriter, r *http.Request, p *auth.Principal, payloads []*commonpb.Payload) bool {
	if !p.Can(auth.ActReadPersonal) {
		s.audit(r, store.AuditEntry{Action: store.AuditDenied, Detail: map[string]any{"reason": "role", "what": AuditCodecDecode}})
		forbidden(w, "your role does not read personal data")
		return false
	}
	perCase := map[string]int{} // "" counts payloads of no case
	for _, pl := range payloads {
		if codec.IsEncrypted(pl) {
			perCase[caseOfWorkflow(codec.WorkflowID(pl))]++
		}
	}
	for caseID := range perCase {
		if caseID == "" {
			continue
		}
		row, err := store.GetPathway(r.Context(), s.Pool, caseID)
		if errors.Is(err, store.ErrNotFound) {
			// Not a case we know (gone, or a label we did not write): the
			// same rule as unlabelled payloads.
			perCase[""] += perCase[caseID]
			delete(perCase, caseID)
			continue
		}
		if err != nil {
			s.internal(w, r, "read pathway", err)
			return false
		}
		protected, err := store.IsProtected(r.Context(), s.Pool, row.ParticipantID)
		if err != nil {
			s.internal(w, r, "read pathway", err)
			return false
		}
		reason := ""
		switch {
		case protected && row.Assignee != p.ID:
			reason = "protected_identity"
		case !p.CanSeeCentre(row.CentreID):
			reason = "other_centre"
		}
		if reason != "" {
			s.audit(r, store.AuditEntry{Action: store.AuditDenied, CaseID: caseID, Detail: map[string]any{"reason": reason, "what": AuditCodecDecode}})
			forbidden(w, "these payloads belong to a case you may not open")
			return false
		}
	}
	if perCase[""] > 0 && !p.SeesAllCentres() {
		s.audit(r, store.AuditEntry{Action: store.AuditDenied, Detail: map[string]any{"reason": "no_case", "what": AuditCodecDecode}})
		forbidden(w, "these payloads belong to no case you may open; only staff who see every centre may decode them")
		return false
	}
	for caseID, n := range perCase {
		if n == 0 {
			continue
		}
		if err := s.mustAudit(r, store.AuditEntry{Action: AuditCodecDecode, CaseID: caseID,
			Detail: map[string]any{"payloads": n, "namespace": s.Config.Temporal.Namespace}}); err != nil {
			s.internal(w, r, "audit", err)
			return false
		}
	}
	return true
}

// caseOfWorkflow is the case of a pathway's or its steps' workflow ID.
func caseOfWorkflow(workflowID string) string {
	id, ok := pathway.CaseIDFromWorkflowID(workflowID)
	if !ok {
		return ""
	}
	id, _, _ = strings.Cut(id, "-step-")
	return id
}
