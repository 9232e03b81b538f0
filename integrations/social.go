package integrations

import (
	"context"
	"net/http"
	"time"
)

// SocialClient tells social services about outcomes and closures:
//
//	POST {base}/notices   (Idempotency-Key)
type SocialClient struct{ c *httpClient }

// NewSocialClient builds the client; timeout 0 means DefaultTimeout.
func NewSocialClient(baseURL string, timeout time.Duration) *SocialClient {
	return &SocialClient{c: newHTTPClient("social", baseURL, timeout)}
}

var _ SocialServices = (*SocialClient)(nil)

// NoticeBody is the JSON of POST /notices.
type NoticeBody struct {
	CaseID         string    `json:"case_id"`
	PersonalNumber string    `json:"personal_number"`
	Event          string    `json:"event"`
	Reason         string    `json:"reason,omitempty"`
	Outcome        string    `json:"outcome,omitempty"`
	At             time.Time `json:"at"`
}

// Notify sends one notice; the same key is delivered once.
func (s *SocialClient) Notify(ctx context.Context, key string, n SocialNotice) error {
	if err := requireKey("social", key); err != nil {
		return err
	}
	return s.c.do(ctx, http.MethodPost, "/notices", nil, key, NoticeBody{
		CaseID: n.CaseID, PersonalNumber: n.Person.PersonalNumber, Event: n.Event,
		Reason: n.Reason, Outcome: n.Outcome, At: n.At,
	}, nil)
}
