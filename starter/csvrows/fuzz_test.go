package csvrows

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/internal/plaintext"
)

var (
	columns  = []string{"personal_number", "given_name", "family_name", "email", "phone", "district", "centre_id", "programme", "source", "referred_at", "consent", "protected_identity", "assignee"}
	required = []string{"personal_number", "given_name", "family_name", "district", "source", "consent"}
)

// FuzzRead: no file panics or loops; every row is either read or a row
// error with its line, never both; read values are clean UTF-8 text of
// known columns. The seed corpus (testdata/fuzz/FuzzRead) holds the files
// issue 12 names: a row that starts with an unterminated quote, Latin-1, a
// NUL in a name.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, windows1252 bool) {
		enc := ""
		if windows1252 {
			enc = "windows-1252"
		}
		rows, bad, err := Read(bytes.NewReader(data), enc, columns, required)
		if err != nil {
			if rows != nil || bad != nil {
				t.Fatalf("a whole-file error with rows: %v", err)
			}
			return
		}
		badLine := map[int]bool{}
		for _, b := range bad {
			if b.Line < 2 || b.Reason == "" {
				t.Fatalf("row error %+v", b)
			}
			if windows1252 && strings.Contains(b.Reason, "UTF-8") {
				t.Fatalf("a transcoded file has text that is not UTF-8: %+v", b)
			}
			badLine[b.Line] = true
		}
		last := 1
		for _, r := range rows {
			if r.Line <= last || badLine[r.Line] {
				t.Fatalf("row at line %d after %d (bad: %v)", r.Line, last, badLine[r.Line])
			}
			last = r.Line
			for k, v := range r.Values {
				if !contains(columns, k) {
					t.Fatalf("line %d: column %q", r.Line, k)
				}
				if msg := plaintext.Problem(v); msg != "" || v != strings.TrimSpace(v) {
					t.Fatalf("line %d: %s %s", r.Line, k, msg)
				}
			}
		}
	})
}
