package integrations

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EducationClient is the adult-education (Komvux) adapter over HTTP JSON:
//
//	GET  {base}/courses?municipality=&form=&sun=&q=     course occasions (Susa-navet style)
//	POST {base}/enrolments                               enrol (Idempotency-Key)
//	GET  {base}/enrolments/{id}                          status
//	POST {base}/enrolments/{id}/withdraw                 withdraw (Idempotency-Key)
type EducationClient struct{ c *httpClient }

// NewEducationClient builds the client; timeout 0 means DefaultTimeout.
func NewEducationClient(baseURL string, timeout time.Duration) *EducationClient {
	return &EducationClient{c: newHTTPClient("education", baseURL, timeout)}
}

var _ Education = (*EducationClient)(nil)

// CourseList is the answer of GET /courses.
type CourseList struct {
	Total   int      `json:"total"`
	Courses []Course `json:"courses"`
}

// SearchCourses lists course occasions matching q.
func (e *EducationClient) SearchCourses(ctx context.Context, q CourseQuery) ([]Course, error) {
	v := url.Values{}
	set(v, "municipality", q.Municipality)
	set(v, "form", q.Form)
	set(v, "sun", q.SUN)
	set(v, "q", q.Text)
	var out CourseList
	if err := e.c.do(ctx, http.MethodGet, "/courses", v, "", nil, &out); err != nil {
		return nil, err
	}
	return out.Courses, nil
}

// EnrolBody is the JSON of POST /enrolments.
type EnrolBody struct {
	CaseID      string     `json:"case_id"`
	CourseCode  string     `json:"course_code"`
	Person      personJSON `json:"person"`
	CallbackURL string     `json:"callback_url,omitempty"`
}

// Enrol asks for a place; the same key returns the same enrolment.
func (e *EducationClient) Enrol(ctx context.Context, key string, req EnrolRequest) (Enrolment, error) {
	if err := requireKey("education", key); err != nil {
		return Enrolment{}, err
	}
	body := EnrolBody{CaseID: req.CaseID, CourseCode: req.CourseCode, Person: toPersonJSON(req.Person), CallbackURL: req.CallbackURL}
	var out Enrolment
	if err := e.c.do(ctx, http.MethodPost, "/enrolments", nil, key, body, &out); err != nil {
		return Enrolment{}, err
	}
	return out, nil
}

// Status reads an enrolment.
func (e *EducationClient) Status(ctx context.Context, enrolmentID string) (Enrolment, error) {
	var out Enrolment
	err := e.c.do(ctx, http.MethodGet, "/enrolments/"+url.PathEscape(enrolmentID), nil, "", nil, &out)
	return out, err
}

// Withdraw ends an active enrolment; withdrawing twice is harmless.
func (e *EducationClient) Withdraw(ctx context.Context, key, enrolmentID, reason string) error {
	if err := requireKey("education", key); err != nil {
		return err
	}
	return e.c.do(ctx, http.MethodPost, "/enrolments/"+url.PathEscape(enrolmentID)+"/withdraw", nil, key,
		map[string]string{"reason": reason}, nil)
}

func set(v url.Values, k, val string) {
	if s := strings.TrimSpace(val); s != "" {
		v.Set(k, s)
	}
}
