package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/pathways-se/pathways/lang"
)

var errNoPollers = errors.New("no worker is polling the pathway task queue")

// Problem is the structured error every endpoint returns.
type Problem struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Field   string         `json:"field,omitempty"`
	Fields  []FieldProblem `json:"fields,omitempty"`
}

// FieldProblem is one bad input field.
type FieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers a refusal: its code stays English, its message is
// in the caller's language (see apiLanguage).
func writeProblem(w http.ResponseWriter, status int, p Problem) {
	if lw, ok := w.(*langWriter); ok && lw.l.Tag() != lang.English {
		p.Message = lw.l.Message(p.Message)
		for i := range p.Fields {
			p.Fields[i].Message = lw.l.Message(p.Fields[i].Message)
		}
	}
	writeJSON(w, status, map[string]Problem{"error": p})
}

// langWriter carries the API caller's language to writeProblem.
type langWriter struct {
	http.ResponseWriter
	l *lang.Localizer
}

func (w *langWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
