package jsonbody

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The shapes of the API's request types (api.StartRequest embeds
// cases.Referral, NeedRequest has counts and dates, the escalation body
// lists, the actions carry an actor, optional numbers and free params).
type (
	referral struct {
		PersonalNumber string    `json:"personal_number"`
		GivenName      string    `json:"given_name"`
		ReferredAt     time.Time `json:"referred_at,omitempty"`
		Consent        bool      `json:"consent"`
	}
	startRequest struct {
		referral
		ConsentScope []string `json:"consent_scope,omitempty"`
	}
	needRequest struct {
		ID        string `json:"id"`
		Positions int    `json:"positions"`
		StartDate string `json:"start_date"`
	}
	escalateBody struct {
		CaseIDs []string `json:"case_ids"`
		Limit   int      `json:"limit"`
		Reason  string   `json:"reason"`
	}
	actor     struct{ StaffID string }
	actionMsg struct {
		Note  string         `json:"note"`
		Actor actor          `json:"actor"`
		Day   *int           `json:"day,omitempty"`
		Extra map[string]any `json:"extra,omitempty"`
	}
	planMsg struct {
		Params map[string]any `json:"params"`
		Steps  []struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
			N     uint8   `json:"n"`
		} `json:"steps"`
	}
)

// FuzzDecode: no body panics the decoder, whatever the request type; it
// accepts (valid JSON, no NUL in the result), or answers 400, or 413 over
// the limit, and its message never shows Go's words. The limit is 4 KiB
// here so that an oversized seed stays small; the seed corpus
// (testdata/fuzz/FuzzDecode) holds every refusal issue 12 names.
func FuzzDecode(f *testing.F) {
	const limit = 4 << 10
	targets := []func() any{
		func() any { return &startRequest{} }, func() any { return &needRequest{} }, func() any { return &escalateBody{} },
		func() any { return &actionMsg{} }, func() any { return &planMsg{} },
	}
	goWords := []string{"jsonbody.", "startRequest", "referral.", "Go struct", "Go value", "unmarshal", "json: ", "time.Time", "reflect", "int64", "float64", "uint8"}
	f.Fuzz(func(t *testing.T, body []byte, target uint8) {
		v := targets[int(target)%len(targets)]()
		err := Decode(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(body)), limit), v)
		switch {
		case len(body) > limit:
			if err == nil || err.Status != http.StatusRequestEntityTooLarge || err.Code != "too_large" {
				t.Fatalf("%d bytes: %+v", len(body), err)
			}
		case err == nil:
			if !json.Valid(body) {
				t.Fatalf("accepted %q", body)
			}
			if out, merr := json.Marshal(v); merr != nil || bytes.Contains(out, []byte(`\u0000`)) {
				t.Fatalf("accepted %q: %s %v", body, out, merr)
			}
		case err.Status == http.StatusBadRequest:
			if err.Message == "" {
				t.Fatalf("400 without a message")
			}
			for _, w := range goWords {
				if strings.Contains(err.Message, w) || strings.Contains(err.Field, w) {
					t.Fatalf("%q: the message shows Go's %q: %s (field %q)", body, w, err.Message, err.Field)
				}
			}
		default:
			t.Fatalf("%q: %+v", body, err)
		}
	})
}
