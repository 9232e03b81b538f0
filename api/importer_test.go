package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/store"
)

// postFile posts a file form as the console does (multipart, with the
// form's CSRF token).
func (c *client) postFile(path, csrf, name string, file []byte, fields map[string]string) *http.Response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *client) submit(path string, v url.Values) *http.Response {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, v)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestConsoleImportDryRunConfirmProgressReport(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	coach := e.signIn(t, "coach.angered")
	csrf := coach.csrf()
	already := personalNumber()
	startNamed(t, coach, already, "Redan", "Igång", false)
	a, b, elsewhere := personalNumber(), personalNumber(), personalNumber()
	file := strings.Join([]string{
		"personal_number,given_name,family_name,district,source,consent",
		a + ",Anna,Importsson,Angered,social_services,yes",              // 2: starts
		b + ",Bo,Importsson,Angered,employment_service,ja",              // 3: starts
		"19851332-1234,Cia,Importsson,Angered,social_services,yes",      // 4: bad number
		personalNumber() + ",Dan,Importsson,Angered,social_services,no", // 5: no consent
		elsewhere + ",Eva,Importsson,Hisingen,social_services,yes",      // 6: another centre's: the console's rule
		already + ",Redan,Igång,Angered,social_services,yes",            // 7: already has a pathway
	}, "\n") + "\n"

	// The form.
	form := coach.must(coach.get("/import"), http.StatusOK)
	if !contains(form.Body, `enctype="multipart/form-data"`) || !contains(form.Body, "Importera remisser") {
		t.Fatalf("no upload form: %s", form.Body)
	}
	// 1. Upload: the dry run, nothing started.
	resp := coach.postFile("/import", csrf, "remisser.csv", []byte(file), map[string]string{"encoding": "utf-8"})
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/import/[0-9a-f-]{36}$`).MatchString(loc) {
		t.Fatalf("upload: %d %q", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/import/")
	var sealed []byte
	if err := e.pool.QueryRow(ctx, `SELECT file_enc FROM import_uploads WHERE id = $1`, id).Scan(&sealed); err != nil || len(sealed) == 0 {
		t.Fatalf("the file is not kept: %v", err)
	}
	if bytes.Contains(sealed, []byte("Importsson")) || bytes.Contains(sealed, []byte(a)) {
		t.Fatal("the uploaded file is stored in plain text")
	}
	dry := coach.must(coach.get(loc), http.StatusOK)
	for _, want := range []string{"2 rader startar", "1 person har redan", "3 rader har fel", "personal_number", "consent", "centre_id",
		`action="/import/` + id + `/confirm"`} {
		if !contains(dry.Body, want) {
			t.Errorf("the dry run lacks %q: %s", want, dry.Body)
		}
	}
	for _, line := range []string{"<td>4</td><td>personal_number</td>", "<td>5</td><td>consent</td>", "<td>6</td><td>centre_id</td>"} {
		if !contains(dry.Body, line) {
			t.Errorf("the dry run does not name %s", line)
		}
	}
	for _, pnr := range []string{a, b} {
		if _, err := store.ActivePathwayFor(ctx, e.pool, e.api.Keys, canonical(t, pnr)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the dry run started a pathway: %v", err)
		}
	}
	// Someone else cannot see or run it.
	other := e.signIn(t, "coach.hisingen")
	other.must(other.get(loc), http.StatusNotFound)
	if r := other.submit(loc+"/confirm", url.Values{"csrf": {other.csrf()}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another coach confirms: %d", r.StatusCode)
	}

	// 2. Confirm; the first start waits until the progress page was seen.
	release := make(chan struct{})
	e.api.Cases.Hooks.BeforeRow = func(ctx context.Context, _ string) error {
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
		return nil
	}
	if r := coach.submit(loc+"/confirm", url.Values{"csrf": {csrf}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != loc {
		t.Fatalf("confirm: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodGet, coach.base+loc, nil)
	progress, err := coach.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(progress.Body)
	progress.Body.Close()
	if progress.Header.Get("Refresh") == "" || !contains(body, "<progress") || !contains(body, `max="3"`) {
		t.Errorf("no self-refreshing progress page: %v %s", progress.Header, body)
	}
	close(release)
	// A second confirmation while it runs starts nothing twice.
	coach.submit(loc+"/confirm", url.Values{"csrf": {csrf}})

	// 3. Done: the result and the report; the file is gone.
	var done []byte
	waitFor(t, "the import done", func() bool {
		done = coach.must(coach.get(loc), http.StatusOK).Body
		return contains(done, `id="import-report"`)
	})
	for _, want := range []string{"2 deltagarspår startades", "1 person hade redan", "0 rader kunde inte startas"} {
		if !contains(done, want) {
			t.Errorf("the result lacks %q: %s", want, done)
		}
	}
	if err := e.pool.QueryRow(ctx, `SELECT file_enc FROM import_uploads WHERE id = $1`, id).Scan(&sealed); err != nil || sealed != nil {
		t.Errorf("the file was not deleted when done: %v", err)
	}
	rep := coach.must(coach.get(loc+"/report"), http.StatusOK)
	recs, err := csv.NewReader(bytes.NewReader(rep.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[0]] += r[1] + "/" + r[2] + ";"
	}
	want := map[string]string{"2": "startad/;", "3": "startad/;", "4": "fel i raden/personal_number;", "5": "fel i raden/consent;",
		"6": "fel i raden/centre_id;", "7": "har redan ett pågående deltagarspår/;"}
	if strings.Join(recs[0], ",") != "Rad,Resultat,Fält,Orsak" {
		t.Errorf("report header %v", recs[0])
	}
	for line, w := range want {
		if got[line] != w {
			t.Errorf("report line %s: %q, want %q (%v)", line, got[line], w, recs)
		}
	}
	if contains(rep.Body, "Importsson") || contains(rep.Body, a[:8]) {
		t.Error("the report holds personal data")
	}

	// The same path as the CLI: started through the case service, audited as an import by the coach.
	for _, pnr := range []string{a, b} {
		caseID, err := store.ActivePathwayFor(ctx, e.pool, e.api.Keys, canonical(t, pnr))
		if err != nil {
			t.Fatalf("not started: %v", err)
		}
		row, _ := store.GetPathway(ctx, e.pool, caseID)
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE case_id = $1 AND action = $2 AND staff_id = 'coach.angered'
			AND detail->>'via' = 'import'`, caseID, store.AuditImport).Scan(&n); err != nil || n != 1 || row.CentreID != "gbg-angered" {
			t.Errorf("case %s: %d import audit rows, centre %s, %v", caseID, n, row.CentreID, err)
		}
	}
	if _, err := store.ActivePathwayFor(ctx, e.pool, e.api.Keys, canonical(t, elsewhere)); !errors.Is(err, store.ErrNotFound) {
		t.Error("the other centre's row was started")
	}
	// Confirming a finished import does nothing.
	coach.submit(loc+"/confirm", url.Values{"csrf": {csrf}})
	var started int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, store.AuditImport).Scan(&started); err != nil || started != 2 {
		t.Errorf("%d imports audited, want 2", started)
	}
	// An unreadable file is refused at the upload, naming the problem.
	bad := coach.postFile("/import", csrf, "x.csv", []byte("name;nope\n1;2\n"), nil)
	badBody, _ := io.ReadAll(bad.Body)
	bad.Body.Close()
	if bad.StatusCode != http.StatusUnprocessableEntity || !contains(badBody, `id="import-file-error"`) {
		t.Errorf("a bad header: %d %s", bad.StatusCode, badBody)
	}
}

func canonical(t *testing.T, pnr string) string {
	t.Helper()
	n, err := identity.Parse(pnr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n.Canonical
}
