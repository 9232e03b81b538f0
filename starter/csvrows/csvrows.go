// Package csvrows reads a CSV file of named columns for the import: the
// header, then each row's trimmed values by column, or the row's problems
// with their line and column. It never panics on a malformed file, reports
// text that is not UTF-8 (or holds control characters) as bad input with
// how to fix the file, and reads a single-byte file only when told its
// character set. It depends on the standard library and x/text only, so its
// fuzz target runs fast.
package csvrows

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/pathways-se/pathways/internal/plaintext"
)

// RowError is one problem of one row. It never carries the row's values.
type RowError struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (e RowError) String() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// Row is one well-formed row: its line and its trimmed values by column
// (a column the file lacks reads as "").
type Row struct {
	Line   int
	Values map[string]string
}

// FixEncoding says how to repair a file that is not UTF-8: Excel's plain
// "CSV" is Windows-1252, its "CSV UTF-8" is what the import reads.
const FixEncoding = `save the file as UTF-8 (in Excel: Save As, "CSV UTF-8"), or import it with --encoding windows-1252 if it was saved as Windows-1252 or Latin-1`

// Encodings are the single-byte character sets Read accepts, by name.
var Encodings = map[string]*charmap.Charmap{"windows-1252": charmap.Windows1252, "cp1252": charmap.Windows1252,
	"iso-8859-1": charmap.ISO8859_1, "latin1": charmap.ISO8859_1}

// Aliases are other names a header may give a column (the Swedish names
// staff use, personnummer for personal_number), lower-case.
var Aliases = map[string]string{}

// Read reads the header, which must name only known columns and every
// required one, then the rows. A malformed row, a wrong field count or a
// field that is not clean text is a row error; a bad header or an unreadable
// file is the returned error. encoding is "" or "utf-8" (read as it is,
// never guessed), or a name in Encodings.
func Read(in io.Reader, encoding string, known, required []string) ([]Row, []RowError, error) {
	in, err := decode(in, encoding)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("the file is empty: it needs a header line with " + strings.Join(required, ","))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("line 1: malformed CSV header: %s", reason(err))
	}
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, nil, errors.New("line 1: the header is not UTF-8 text; " + FixEncoding)
		}
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if c, ok := Aliases[h]; ok && contains(known, c) {
			h = c
		}
		if !contains(known, h) {
			return nil, nil, fmt.Errorf("line 1: unknown column %q (known: %s)", h, strings.Join(known, ", "))
		}
		if seen[h] {
			return nil, nil, fmt.Errorf("line 1: the column %q appears twice", h)
		}
		seen[h], names[i] = true, h
	}
	for _, c := range required {
		if !seen[c] {
			return nil, nil, fmt.Errorf("line 1: the column %q is missing", c)
		}
	}
	var rows []Row
	var bad []RowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("read the file: %w", err)
			}
			bad = append(bad, RowError{Line: pe.StartLine, Reason: "malformed CSV: " + reason(err) +
				` (a field that starts with " must end with "; write a " inside it as "")`})
			continue
		}
		line, _ := cr.FieldPos(0) // only after a successful Read: FieldPos panics otherwise
		if len(rec) != len(header) {
			bad = append(bad, RowError{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		row := Row{Line: line, Values: make(map[string]string, len(rec))}
		ok := true
		for i, v := range rec {
			v = strings.TrimSpace(v)
			if msg := plaintext.Problem(v); msg != "" {
				if !utf8.ValidString(v) {
					msg += "; " + FixEncoding
				}
				bad = append(bad, RowError{Line: line, Field: names[i], Reason: msg})
				ok = false
			}
			row.Values[names[i]] = v
		}
		if ok {
			rows = append(rows, row)
		}
	}
	return rows, bad, nil
}

func decode(in io.Reader, encoding string) (io.Reader, error) {
	switch e := strings.ToLower(strings.TrimSpace(encoding)); e {
	case "", "utf-8", "utf8":
		return in, nil
	default:
		cm, ok := Encodings[e]
		if !ok {
			return nil, fmt.Errorf("unknown encoding %q: use utf-8 (the default), windows-1252 or iso-8859-1", encoding)
		}
		return cm.NewDecoder().Reader(in), nil
	}
}

// reason is the parser's complaint without the line's content.
func reason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
