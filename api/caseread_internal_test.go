package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The session check names the case (and a keyed action) a request is about,
// and the access rule answers from what it read: this server has no
// database, so a second read would not get an answer at all.
func TestAccessAnswersFromTheCaseReadWithTheSession(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/pathways/2026-ABCD1234/pause", nil)
	r.Header.Set(IdempotencyHeader, "k-1")
	cr := caseRead(r)
	if cr == nil || cr.CaseID != "2026-ABCD1234" || cr.ActionID != "pause:k-1" {
		t.Fatalf("case read of a keyed action: %+v", cr)
	}
	if cr := caseRead(httptest.NewRequest(http.MethodGet, "/api/v1/tasks", nil)); cr != nil {
		t.Errorf("a request about no case read %+v", cr)
	}

	s := &Server{}
	cr.Read = true // read with the session: no such case
	r = r.WithContext(context.WithValue(r.Context(), caseReadKey{}, cr))
	w := httptest.NewRecorder()
	if _, ok := s.access(w, r, "2026-ABCD1234"); ok || w.Code != http.StatusNotFound {
		t.Errorf("a case the session check did not find: ok %v, %d", ok, w.Code)
	}
	if readCase(r.Context(), "2026-OTHER000") != nil {
		t.Error("the read of one case answered for another")
	}
}
