package api

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/starter"
	"github.com/pathways-se/pathways/store"
)

// The CSV import in the console: upload → dry run (the rows that would
// start, the errors by line and field) → confirm → progress → report. It is
// the CLI's starter.Import, with the console's access rules on every row
// (referralRules; a person whose active pathway the importer may not see is
// passed on, as the API does). The file waits between the steps sealed
// under the keyring and is deleted once the import is done or discarded.

//go:embed templates/layout.html templates/import.html
var importTemplates embed.FS

const (
	// maxImportBytes bounds an uploaded file (about 50,000 rows).
	maxImportBytes = 8 << 20
	// importStale is how long a running import may go without progress
	// before it counts as stopped (the server restarted) and may run again.
	importStale = 2 * time.Minute
	// importFileAge is how long an unconfirmed upload's file is kept.
	importFileAge = 24 * time.Hour
	// AuditImportChecked records an upload and its dry run (counts only).
	AuditImportChecked = "import_checked"
)

func init() {
	parsePage("import", importTemplates, "templates/layout.html", "templates/import.html")
	pages = append(pages, func(s *Server, r chi.Router) {
		r.Get("/import", s.pageImport)
		r.Post("/import", s.pageImportUpload)
		r.Get("/import/{id}", s.pageImportShow)
		r.Post("/import/{id}/confirm", s.pageImportConfirm)
		r.Post("/import/{id}/discard", s.pageImportDiscard)
		r.Get("/import/{id}/report", s.pageImportReport)
	})
}

// importAllowed refuses roles that do not start pathways.
func (s *Server) importAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !principal(r).Can(auth.ActStart) {
		s.pageError(w, r, http.StatusForbidden, lang.For(r).T("import.err_role"))
		return false
	}
	return true
}

// importOptions are the console's rules for each row of staff member r's import.
func (s *Server) importOptions(r *http.Request, encoding string) starter.ImportOptions {
	p := principal(r)
	return starter.ImportOptions{
		StaffID: p.ID, Encoding: encoding, GoodRows: true,
		Check: func(ctx context.Context, ref *cases.Referral) (string, string) {
			_, prob := s.referralRules(ctx, p, ref)
			if prob == nil {
				return "", ""
			}
			if len(prob.Fields) > 0 {
				return prob.Fields[0].Field, prob.Fields[0].Message
			}
			return prob.Field, prob.Message
		},
		Duplicate: func(ctx context.Context, _ cases.Referral, caseID string, dryRun bool) string {
			row, err := store.GetPathway(ctx, s.Pool, caseID)
			rr := r.WithContext(ctx)
			if err == nil && s.visible(rr, row) {
				return starter.OutcomeAlready
			}
			if err != nil {
				// Never report a row as passed on that was not: it can be run again.
				return lang.For(rr).T("import.err_row_unavailable")
			}
			if dryRun {
				return starter.OutcomePassedOn
			}
			if _, prob := s.passOn(rr, row); prob != nil {
				return prob.Message
			}
			return starter.OutcomePassedOn
		},
	}
}

func (s *Server) pageImport(w http.ResponseWriter, r *http.Request) {
	if !s.importAllowed(w, r) {
		return
	}
	s.renderImportForm(w, r, http.StatusOK, "")
}

func (s *Server) renderImportForm(w http.ResponseWriter, r *http.Request, status int, fileErr string) {
	list, err := store.ListImportUploads(r.Context(), s.Pool, principal(r).ID, 10)
	s.partial(r.Context(), "imports", err)
	s.render(w, r, status, "import", "import.title", map[string]any{"Form": true, "FileError": fileErr, "Uploads": list,
		"Columns": starter.ImportColumns})
}

func (s *Server) pageImportUpload(w http.ResponseWriter, r *http.Request) {
	if !s.importAllowed(w, r) {
		return
	}
	l := lang.For(r)
	f, hdr, err := r.FormFile("file")
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	if err != nil {
		s.renderImportForm(w, r, http.StatusBadRequest, l.T("import.err_no_file"))
		return
	}
	defer f.Close()
	if hdr.Size > maxImportBytes {
		s.renderImportForm(w, r, http.StatusRequestEntityTooLarge, l.T("import.err_too_big", "MB", maxImportBytes>>20))
		return
	}
	file, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil || len(file) > maxImportBytes {
		s.renderImportForm(w, r, http.StatusBadRequest, l.T("import.err_too_big", "MB", maxImportBytes>>20))
		return
	}
	encoding := r.PostFormValue("encoding")
	switch encoding {
	case "", "utf-8", "windows-1252", "iso-8859-1":
	default:
		s.renderImportForm(w, r, http.StatusBadRequest, l.T("import.err_encoding"))
		return
	}
	opt := s.importOptions(r, encoding)
	opt.DryRun = true
	sum, err := starter.Import(r.Context(), s.Cases, bytes.NewReader(file), opt)
	if err != nil {
		// The file's header or encoding; csvrows never repeats a value.
		s.renderImportForm(w, r, http.StatusUnprocessableEntity, l.T("import.err_file", "Reason", err.Error()))
		return
	}
	p := principal(r)
	id, err := store.CreateImportUpload(r.Context(), s.Pool, s.Keys, p.ID, encoding, file, sum, sum.Valid)
	if err != nil {
		s.Log.Error("store import upload", zap.Error(err))
		s.renderImportForm(w, r, http.StatusServiceUnavailable, l.T("import.err_unavailable"))
		return
	}
	s.audit(r, store.AuditEntry{Action: AuditImportChecked, Detail: map[string]any{"import_id": id.String(), "rows": sum.Rows,
		"valid": sum.Valid, "bad_rows": badLines(sum.Bad)}})
	if err := store.DropStaleImportFiles(r.Context(), s.Pool, importFileAge); err != nil {
		s.Log.Warn("drop stale import files", zap.Error(err))
	}
	http.Redirect(w, r, "/import/"+id.String(), http.StatusSeeOther)
}

func badLines(errs []starter.RowError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		lines[e.Line] = true
	}
	return len(lines)
}

// importOf checks the caller may import and loads their upload named in
// the path; false after answering (403, or 404 for another's upload).
func (s *Server) importOf(w http.ResponseWriter, r *http.Request) (store.ImportUpload, bool) {
	var u store.ImportUpload
	if !s.importAllowed(w, r) {
		return u, false
	}
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err == nil {
		u, err = store.GetImportUpload(r.Context(), s.Pool, principal(r).ID, id)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && id != uuid.Nil {
			s.Log.Error("read import", zap.Error(err))
		}
		s.pageError(w, r, http.StatusNotFound, lang.For(r).T("import.err_not_found"))
		return u, false
	}
	return u, true
}

// importView is what the page shows of an upload.
type importView struct {
	store.ImportUpload
	DryRun, Result *starter.ImportSummary
	WouldStart     int
	Already        int
	PassedOn       int
	BadLines       int
	Stalled        bool
}

func viewImport(u store.ImportUpload) importView {
	v := importView{ImportUpload: u}
	if len(u.DryRun) > 0 {
		v.DryRun = &starter.ImportSummary{}
		_ = json.Unmarshal(u.DryRun, v.DryRun)
		for _, p := range v.DryRun.Plan {
			switch p.Outcome {
			case starter.OutcomeStart:
				v.WouldStart++
			case starter.OutcomeAlready:
				v.Already++
			case starter.OutcomePassedOn:
				v.PassedOn++
			}
		}
		v.BadLines = badLines(v.DryRun.Bad)
	}
	if len(u.Result) > 0 {
		v.Result = &starter.ImportSummary{}
		_ = json.Unmarshal(u.Result, v.Result)
	}
	v.Stalled = u.Status == store.ImportRunning && time.Since(u.UpdatedAt) > importStale
	return v
}

func (s *Server) pageImportShow(w http.ResponseWriter, r *http.Request) {
	u, ok := s.importOf(w, r)
	if !ok {
		return
	}
	v := viewImport(u)
	if u.Status == store.ImportRunning && !v.Stalled {
		// The progress page refreshes itself until the import is done.
		w.Header().Set("Refresh", "2")
	}
	s.render(w, r, http.StatusOK, "import", "import.title", map[string]any{"Upload": v})
}

func (s *Server) pageImportConfirm(w http.ResponseWriter, r *http.Request) {
	u, ok := s.importOf(w, r)
	if !ok {
		return
	}
	file, encoding, err := store.ClaimImportUpload(r.Context(), s.Pool, s.Keys, principal(r).ID, u.ID, importStale)
	if errors.Is(err, store.ErrImportNotReady) {
		// Confirmed twice (or already done): show where it stands.
		http.Redirect(w, r, "/import/"+u.ID.String(), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.Log.Error("claim import", zap.Error(err))
		s.pageError(w, r, http.StatusServiceUnavailable, lang.For(r).T("import.err_unavailable"))
		return
	}
	s.runImport(r, u.ID, file, encoding)
	http.Redirect(w, r, "/import/"+u.ID.String(), http.StatusSeeOther)
}

// runImport imports in the background, recording progress; the server's
// shutdown stops it between rows (it is then failed and may run again:
// rows already started are reported as such).
func (s *Server) runImport(r *http.Request, id uuid.UUID, file []byte, encoding string) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	rr := r.Clone(ctx)
	opt := s.importOptions(rr, encoding)
	var last time.Time
	opt.OnRow = func(done, total int) { // called one row at a time
		if time.Since(last) < 250*time.Millisecond && done < total {
			return
		}
		last = time.Now()
		if err := store.ImportProgress(ctx, s.Pool, id, done, total); err != nil {
			s.Log.Warn("import progress", zap.Error(err))
		}
	}
	stopping := s.stoppingContext()
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		defer cancel()
		go func() {
			select {
			case <-stopping.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		sum, err := starter.Import(ctx, s.Cases, bytes.NewReader(file), opt)
		if err != nil {
			s.Log.Error("console import stopped", zap.String("import_id", id.String()), zap.Error(err))
		}
		if err := store.FinishImportUpload(context.WithoutCancel(ctx), s.Pool, id, err != nil, sum); err != nil {
			s.Log.Error("finish import", zap.String("import_id", id.String()), zap.Error(err))
		}
	}()
}

func (s *Server) pageImportDiscard(w http.ResponseWriter, r *http.Request) {
	u, ok := s.importOf(w, r)
	if !ok {
		return
	}
	if err := store.DiscardImportUpload(r.Context(), s.Pool, principal(r).ID, u.ID); err != nil && !errors.Is(err, store.ErrImportNotReady) {
		s.Log.Error("discard import", zap.Error(err))
	}
	http.Redirect(w, r, "/import", http.StatusSeeOther)
}

// pageImportReport downloads the report: one line per row of the file that
// the import (or, before it, the dry run) has something to say about.
func (s *Server) pageImportReport(w http.ResponseWriter, r *http.Request) {
	u, ok := s.importOf(w, r)
	if !ok {
		return
	}
	v := viewImport(u)
	sum := v.Result
	if sum == nil {
		sum = v.DryRun
	}
	if sum == nil {
		sum = &starter.ImportSummary{}
	}
	l := lang.For(r)
	type line struct {
		n                       int
		outcome, field, message string
	}
	var lines []line
	for _, p := range sum.Plan {
		lines = append(lines, line{n: p.Line, outcome: l.T("import.outcome_" + p.Outcome)})
	}
	for _, b := range sum.Bad {
		lines = append(lines, line{b.Line, l.T("import.outcome_bad"), b.Field, b.Reason})
	}
	for _, f := range sum.Failed {
		lines = append(lines, line{f.Line, l.T("import.outcome_failed"), f.Field, f.Reason})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].n < lines[j].n })
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+u.CreatedAt.In(lang.Zone()).Format("2006-01-02-1504")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{l.T("import.col_line"), l.T("import.col_outcome"), l.T("import.col_field"), l.T("import.col_message")})
	for _, ln := range lines {
		_ = cw.Write([]string{strconv.Itoa(ln.n), ln.outcome, ln.field, ln.message})
	}
	cw.Flush()
}
