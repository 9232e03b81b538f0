package integrations

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// NeedRegistry is the employer system's list of recruitment needs: the one
// source of truth. Brokers register needs there through this adapter; the
// employer system counts positions down as agreements naming the need are
// made and up when one ends early, and marks a need filled, withdrawn or
// expired.
//
//	GET  {base}/needs?ssyk=&municipality=&employer=&status=   needs (default: open)
//	GET  {base}/needs/{id}                                    one need, any status
//	POST {base}/needs                                         register (Idempotency-Key)
//	POST {base}/needs/{id}/status                             {status, reason} (Idempotency-Key)
type NeedRegistry interface {
	RecruitmentNeeds(ctx context.Context, q NeedQuery) ([]RecruitmentNeed, error)
	Need(ctx context.Context, id string) (RecruitmentNeed, error)
	RegisterNeed(ctx context.Context, key string, n NewNeed) (RecruitmentNeed, error)
	SetNeedStatus(ctx context.Context, key, id, status, reason string) (RecruitmentNeed, error)
}

// Need states.
const (
	NeedOpen      = "open"
	NeedFilled    = "filled"
	NeedWithdrawn = "withdrawn"
	NeedExpired   = "expired"
)

// NeedGone reports whether a need in this state can no longer take anyone:
// plans tied to it must be revised.
func NeedGone(status string) bool { return status == NeedWithdrawn || status == NeedExpired }

// ErrNoNeed is matched (errors.Is) when the employer system has no such need.
var ErrNoNeed = errors.New("no such recruitment need")

// NewNeed is a need a broker registers for an employer.
type NewNeed struct {
	EmployerID       string    `json:"employer_id"`
	SSYK             string    `json:"ssyk"`
	Title            string    `json:"title"`
	Positions        int       `json:"positions"`
	StartDate        time.Time `json:"start_date"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	RequiredTraining string    `json:"required_training,omitempty"`
	ContactRole      string    `json:"contact_role,omitempty"`
	CentreID         string    `json:"centre_id,omitempty"`
}

var _ NeedRegistry = (*EmployersClient)(nil)

// Need reads one need whatever its status; a missing one is ErrNoNeed.
func (e *EmployersClient) Need(ctx context.Context, id string) (RecruitmentNeed, error) {
	var out RecruitmentNeed
	err := e.c.do(ctx, http.MethodGet, "/needs/"+url.PathEscape(id), nil, "", nil, &out)
	var rej *Rejected
	if errors.As(err, &rej) && rej.Status == http.StatusNotFound {
		return out, errors.Join(ErrNoNeed, err)
	}
	return out, err
}

// RegisterNeed registers a need; the same key returns the same need.
func (e *EmployersClient) RegisterNeed(ctx context.Context, key string, n NewNeed) (RecruitmentNeed, error) {
	if err := requireKey("employers", key); err != nil {
		return RecruitmentNeed{}, err
	}
	var out RecruitmentNeed
	err := e.c.do(ctx, http.MethodPost, "/needs", nil, key, n, &out)
	return out, err
}

// SetNeedStatus marks a need filled, withdrawn or open again.
func (e *EmployersClient) SetNeedStatus(ctx context.Context, key, id, status, reason string) (RecruitmentNeed, error) {
	if err := requireKey("employers", key); err != nil {
		return RecruitmentNeed{}, err
	}
	var out RecruitmentNeed
	err := e.c.do(ctx, http.MethodPost, "/needs/"+url.PathEscape(id)+"/status", nil, key,
		map[string]string{"status": status, "reason": reason}, &out)
	return out, err
}
