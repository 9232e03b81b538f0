package api

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// Finding the person: the caseload (console and API) takes q, a name, an
// identity number in any accepted form, or a case ID. Names are encrypted,
// so a name goes through the blind index of name-word prefixes and the
// page's candidates are confirmed by decrypting them. Every search is
// audited before its answer is shown: its kind, never its text.

// AuditSearch records a search for a participant (detail: kind and via).
const AuditSearch = "search_participants"

var (
	caseIDPattern = regexp.MustCompile(`^[0-9]{4}-[0-9A-Za-z]{7,12}$`)
	numberPattern = regexp.MustCompile(`^[0-9]{6,8}[-+]?[0-9]{4}$`)
)

// Search kinds, as the audit log records them.
const (
	searchName   = "name"
	searchNumber = "personal_number"
	searchCase   = "case_id"
)

// applySearch narrows f to what q finds and audits the search. It returns
// the kind of search ("" without q) and a problem naming field q.
func (s *Server) applySearch(r *http.Request, q, via string, f *store.PathwayFilter) (string, int, *Problem) {
	q = strings.TrimSpace(q)
	if q == "" {
		return "", http.StatusOK, nil
	}
	l := lang.For(r)
	if !principal(r).Can(auth.ActReadPersonal) {
		return "", http.StatusForbidden, &Problem{Code: "forbidden", Field: "q", Message: l.T("search.err_role")}
	}
	invalid := func(msg string) (string, int, *Problem) {
		return "", http.StatusBadRequest, &Problem{Code: "invalid", Field: "q", Message: msg,
			Fields: []FieldProblem{{Field: "q", Code: "invalid", Message: msg}}}
	}
	if len(q) > 200 {
		return invalid(l.T("search.err_long"))
	}
	var kind string
	switch {
	case caseIDPattern.MatchString(q):
		kind, f.CaseIDs = searchCase, []string{strings.ToUpper(q)}
	case numberPattern.MatchString(q):
		num, err := identity.Parse(q, time.Now())
		if err != nil {
			// identity's errors never repeat the number.
			return invalid(l.T("search.err_number", "Reason", err.Error()))
		}
		kind = searchNumber
		id, err := store.ParticipantIDByNumber(r.Context(), s.Pool, s.Keys, num.Canonical)
		switch {
		case errors.Is(err, store.ErrNotFound):
			id = uuid.Nil // nobody: the list is empty
		case err != nil:
			s.Log.Error("search by number", zap.Error(err))
			return "", http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: l.T("search.err_unavailable")}
		}
		f.ParticipantIDs = []string{id.String()}
	default:
		toks, err := store.NameSearchTokens(s.Keys, q)
		if err != nil {
			return invalid(l.T("search.err_short", "Min", store.MinNameSearch))
		}
		kind, f.NameTokens = searchName, toks
	}
	// Audited before anything is looked up or shown; no audit row, no search.
	if err := s.mustAudit(r, store.AuditEntry{Action: AuditSearch, Detail: map[string]any{"kind": kind, "via": via}}); err != nil {
		s.Log.Error("audit search", zap.Error(err))
		return "", http.StatusServiceUnavailable, &Problem{Code: "unavailable", Message: l.T("search.err_unavailable")}
	}
	return kind, http.StatusOK, nil
}

// confirmNames drops from a name search's page the rows whose decrypted
// names do not match (a blind index only proposes candidates).
func confirmNames(items []store.PathwayRow, names map[string]store.CaseName, q string) []store.PathwayRow {
	out := items[:0]
	for _, it := range items {
		if n, ok := names[it.CaseID]; ok && store.NameMatches(n.GivenName, n.FamilyName, q) {
			out = append(out, it)
		}
	}
	return out
}

// shownNames audits, then decrypts, the names a list page shows: one
// read_personal_data row per case whose name is shown, all written before
// any name is. A protected identity shows a neutral label (and is not
// decrypted) unless the viewer is its assignee. Nil when the viewer's role
// reads no personal data or the audit could not be written (the page then
// shows no names).
func (s *Server) shownNames(r *http.Request, list, via string, caseIDs []string) map[string]store.CaseName {
	p := principal(r)
	if !p.Can(auth.ActReadPersonal) || len(caseIDs) == 0 {
		return nil
	}
	refs, err := store.CaseRefs(r.Context(), s.Pool, caseIDs)
	if err != nil {
		s.Log.Error("names: case participants", zap.Error(err))
		return nil
	}
	var entries []store.AuditEntry
	var open []string
	out := map[string]store.CaseName{}
	for _, id := range caseIDs {
		ref, ok := refs[id]
		if !ok {
			continue
		}
		if ref.Protected && ref.Assignee != p.ID {
			out[id] = store.CaseName{Protected: true, Assignee: ref.Assignee}
			continue
		}
		pid := ref.ParticipantID
		entries = append(entries, store.AuditEntry{StaffID: p.ID, Action: store.AuditReadPersonalData, CaseID: id, ParticipantID: &pid,
			Detail: map[string]any{"via": via, "what": "name", "list": list}})
		open = append(open, id)
	}
	if err := store.WriteAuditRows(r.Context(), s.Pool, withRequestID(r, entries)); err != nil {
		s.Log.Error("names: audit", zap.Error(err))
		return nil
	}
	names, err := store.CaseNames(r.Context(), s.Pool, s.Keys, open)
	if err != nil {
		s.Log.Error("names: read", zap.Error(err))
		return nil
	}
	for id, n := range names {
		out[id] = n
	}
	return out
}

// nameLabels turns shown names into what a page prints per case.
func nameLabels(r *http.Request, names map[string]store.CaseName) map[string]string {
	if names == nil {
		return nil
	}
	l, me := lang.For(r), principal(r).ID
	out := make(map[string]string, len(names))
	for id, n := range names {
		if n.Hidden(me) {
			out[id] = l.T("search.protected")
		} else {
			out[id] = strings.TrimSpace(n.GivenName + " " + n.FamilyName)
		}
	}
	return out
}

// auditResults records, per case, that a search through the API named it
// (the answer links the person searched for to the case).
func (s *Server) auditResults(r *http.Request, kind string, items []store.PathwayRow) error {
	var es []store.AuditEntry
	for _, it := range items {
		pid, err := uuid.Parse(it.ParticipantID)
		if err != nil {
			return err
		}
		es = append(es, store.AuditEntry{StaffID: principal(r).ID, Action: store.AuditReadPersonalData, CaseID: it.CaseID, ParticipantID: &pid,
			Detail: map[string]any{"via": "api", "what": "search_result", "kind": kind}})
	}
	return store.WriteAuditRows(r.Context(), s.Pool, withRequestID(r, es))
}

func withRequestID(r *http.Request, es []store.AuditEntry) []store.AuditEntry {
	id := middleware.GetReqID(r.Context())
	for i := range es {
		es[i].RequestID = id
	}
	return es
}

func caseIDsOf(items []store.PathwayRow) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.CaseID
	}
	return out
}

// taskPage reads the inbox's page position (keyset cursor, as the
// caseload's) into f.
func (s *Server) taskPage(r *http.Request, f *store.TaskFilter, scope string) (map[string]any, int) {
	q := r.URL.Query()
	data := map[string]any{"Scope": scope, "ShowNames": principal(r).Can(auth.ActReadPersonal)}
	f.Limit = 50
	f.After = q.Get("after")
	off, prob := queryInt(q, "offset", 0, 10_000_000)
	if prob != nil {
		data["Error"] = prob.Message
		return data, http.StatusBadRequest
	}
	f.Offset = off
	if f.After != "" {
		f.Offset = 0 // the cursor places the page; offset only numbers it
	}
	data["From"] = off + 1
	return data, http.StatusOK
}

// taskPager adds the inbox page's names (audited) and its page links.
func (s *Server) taskPager(r *http.Request, page store.Page[store.TaskRow], scope string, data map[string]any) {
	off, _ := queryInt(r.URL.Query(), "offset", 0, 10_000_000)
	seen := map[string]bool{}
	var ids []string
	for _, t := range page.Items {
		if !seen[t.CaseID] {
			seen[t.CaseID] = true
			ids = append(ids, t.CaseID)
		}
	}
	data["Names"] = nameLabels(r, s.shownNames(r, "tasks", "console", ids))
	link := func(o int, after string) string {
		v := url.Values{"scope": {scope}, "offset": {strconv.Itoa(o)}}
		if after != "" {
			v.Set("after", after)
		}
		return "/tasks?" + v.Encode()
	}
	if off > 0 {
		data["Prev"] = link(max(0, off-page.Limit), "")
	}
	if page.Next != "" {
		data["Next"] = link(off+page.Limit, page.Next)
	}
}
