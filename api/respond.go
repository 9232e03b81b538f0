package api

import (
	"encoding/json"
	"errors"
	"net/http"
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

func writeProblem(w http.ResponseWriter, status int, p Problem) {
	writeJSON(w, status, map[string]Problem{"error": p})
}
