package integrations

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// EmployersClient is the employer-facing system:
//
//	GET  {base}/needs?ssyk=&municipality=     recruitment needs (see NeedRegistry)
//	POST {base}/agreements                    create an agreement (Idempotency-Key)
//	GET  {base}/agreements/{id}               read an agreement
//	POST {base}/agreements/{id}/end           end an agreement (Idempotency-Key)
type EmployersClient struct{ c *httpClient }

// NewEmployersClient builds the client; timeout 0 means DefaultTimeout.
func NewEmployersClient(baseURL string, timeout time.Duration) *EmployersClient {
	return &EmployersClient{c: newHTTPClient("employers", baseURL, timeout)}
}

var _ Employers = (*EmployersClient)(nil)

// NeedList is the answer of GET /needs.
type NeedList struct {
	Total int               `json:"total"`
	Needs []RecruitmentNeed `json:"needs"`
}

// RecruitmentNeeds lists needs, optionally by SSYK code and municipality.
func (e *EmployersClient) RecruitmentNeeds(ctx context.Context, q NeedQuery) ([]RecruitmentNeed, error) {
	v := url.Values{}
	set(v, "ssyk", q.SSYK)
	set(v, "municipality", q.Municipality)
	set(v, "employer", q.EmployerID)
	set(v, "status", q.Status)
	var out NeedList
	if err := e.c.do(ctx, http.MethodGet, "/needs", v, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Needs, nil
}

// AgreementBody is the JSON of POST /agreements.
type AgreementBody struct {
	CaseID     string    `json:"case_id"`
	EmployerID string    `json:"employer_id"`
	NeedID     string    `json:"need_id,omitempty"`
	Kind       string    `json:"kind"`
	StartDate  time.Time `json:"start_date"`
	EndDate    time.Time `json:"end_date"`
}

// CreateAgreement sets up an internship or work-training agreement.
func (e *EmployersClient) CreateAgreement(ctx context.Context, key string, req AgreementRequest) (Agreement, error) {
	if err := requireKey("employers", key); err != nil {
		return Agreement{}, err
	}
	var out Agreement
	err := e.c.do(ctx, http.MethodPost, "/agreements", nil, key,
		AgreementBody{CaseID: req.CaseID, EmployerID: req.EmployerID, NeedID: req.NeedID, Kind: req.Kind, StartDate: req.StartDate, EndDate: req.EndDate}, &out)
	return out, err
}

// Agreement reads one agreement (not part of the Employers interface).
func (e *EmployersClient) Agreement(ctx context.Context, id string) (Agreement, error) {
	var out Agreement
	err := e.c.do(ctx, http.MethodGet, "/agreements/"+url.PathEscape(id), nil, "", nil, &out)
	return out, err
}

// EndAgreement ends an agreement; ending it twice is harmless.
func (e *EmployersClient) EndAgreement(ctx context.Context, key, agreementID, reason string) error {
	if err := requireKey("employers", key); err != nil {
		return err
	}
	return e.c.do(ctx, http.MethodPost, "/agreements/"+url.PathEscape(agreementID)+"/end", nil, key,
		map[string]string{"reason": reason}, nil)
}
