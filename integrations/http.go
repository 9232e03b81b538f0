package integrations

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pathways-se/pathways/config"
)

// Clients bundles one adapter per outside system.
type Clients struct {
	Education      Education
	Employment     Employment
	Employers      Employers
	Needs          NeedRegistry // the employer system's recruitment needs
	SocialServices SocialServices
	Notifier       Notifier
}

// NewClients builds the HTTP (and SMTP) clients from the systems.* and smtp.*
// settings. Every client has a bounded timeout.
func NewClients(cfg *config.Config) *Clients {
	timeout := cfg.Systems.Timeout
	employers := NewEmployersClient(cfg.Systems.Employers, timeout)
	return &Clients{
		Education:      NewEducationClient(cfg.Systems.Education, timeout),
		Employment:     NewEmploymentClient(cfg.Systems.Employment, cfg.Systems.JobSearch, cfg.Systems.JobSearchKey, timeout),
		Employers:      employers,
		Needs:          employers,
		SocialServices: NewSocialClient(cfg.Systems.SocialServices, timeout),
		Notifier:       NewMailer(cfg.SMTP, timeout),
	}
}

// DefaultTimeout is used when a client is built with a zero timeout: no
// request to an outside system is ever untimed.
const DefaultTimeout = 10 * time.Second

// IdempotencyHeader carries the caller's idempotency key on side effects.
const IdempotencyHeader = "Idempotency-Key"

// Unavailable is a transient failure of an outside system (5xx, 408, 429,
// timeout, connection error): the call may be retried with the same key.
type Unavailable struct {
	System string
	Status int // 0 when no response arrived
	Err    error
}

func (e *Unavailable) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s unavailable (%d): %v", e.System, e.Status, e.Err)
	}
	return fmt.Sprintf("%s unavailable: %v", e.System, e.Err)
}

func (e *Unavailable) Unwrap() error { return e.Err }

// ErrNoConsent is matched (errors.Is) by a local refusal for lack of consent.
var ErrNoConsent = errors.New("no consent")

// ConsentError is a local, non-retryable refusal: the person's registered
// consent does not cover sharing this kind of data. IsRejected is true for it.
type ConsentError struct {
	CaseID string
	Scope  string // plan or outcome
}

func (e *ConsentError) Error() string {
	return fmt.Sprintf("case %s: no registered consent to share %s with the employment service", e.CaseID, e.Scope)
}

// Unwrap makes errors.Is(err, ErrNoConsent) and IsRejected(err) true.
func (e *ConsentError) Unwrap() []error {
	return []error{ErrNoConsent, &Rejected{System: "employment", Status: 0, Reason: "no consent to share " + e.Scope}}
}

// httpClient is the shared transport of the JSON adapters.
type httpClient struct {
	system  string
	base    string
	hc      *http.Client
	headers map[string]string
}

func newHTTPClient(system, base string, timeout time.Duration) *httpClient {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &httpClient{
		system: system,
		base:   strings.TrimRight(base, "/"),
		hc:     &http.Client{Timeout: timeout},
	}
}

// do sends one request. key, when not empty, goes in the Idempotency-Key
// header. A 2xx answer is decoded into out (if not nil); 4xx other than 408
// and 429 become *Rejected; the rest become *Unavailable.
func (c *httpClient) do(ctx context.Context, method, path string, query url.Values, key string, body, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encode %s %s: %w", c.system, method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", c.system, method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// The context's own cancellation is not the system's fault, but it
		// is retryable all the same; keep the cause for errors.Is.
		return &Unavailable{System: c.system, Err: fmt.Errorf("%s %s: %w", method, path, stripURL(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &Unavailable{System: c.system, Status: resp.StatusCode, Err: fmt.Errorf("%s %s: reading answer: %w", method, path, err)}
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s: %s %s: malformed answer: %w", c.system, method, path, err)
			}
		}
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return &Rejected{System: c.system, Status: resp.StatusCode, Reason: serverMessage(data, resp.StatusCode)}
	default:
		return &Unavailable{System: c.system, Status: resp.StatusCode, Err: fmt.Errorf("%s %s: %s", method, path, serverMessage(data, resp.StatusCode))}
	}
}

// stripURL drops the URL from a *url.Error: the base URL could carry
// credentials and the query free text.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// serverMessage extracts the server's explanation: {"error": "..."} or
// {"message": "..."}, else the start of the body; personal data is scrubbed.
func serverMessage(data []byte, status int) string {
	var m struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(data, &m) == nil {
		switch e := m.Error.(type) {
		case string:
			msg = e
		case map[string]any:
			if s, ok := e["message"].(string); ok {
				msg = s
			}
		}
		if msg == "" {
			msg = m.Message
		}
		if msg == "" {
			msg = m.Detail
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(data))
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return Scrub(msg)
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	pnrRe   = regexp.MustCompile(`\b(?:\d{2})?\d{6}[-+]?\d{4}\b`)
)

// Scrub removes what looks like an e-mail address or a personal number from
// a text that came from outside, before it goes into an error or a log.
func Scrub(s string) string {
	s = emailRe.ReplaceAllString(s, "[e-mail]")
	return pnrRe.ReplaceAllString(s, "[personal number]")
}

// personJSON is how a person travels to an outside system: in the body only,
// never in a URL.
type personJSON struct {
	PersonalNumber string `json:"personal_number"`
	GivenName      string `json:"given_name,omitempty"`
	FamilyName     string `json:"family_name,omitempty"`
	Email          string `json:"email,omitempty"`
}

func toPersonJSON(p Person) personJSON {
	return personJSON{PersonalNumber: p.PersonalNumber, GivenName: p.GivenName, FamilyName: p.FamilyName, Email: p.Email}
}

func requireKey(system, key string) error {
	if strings.TrimSpace(key) == "" {
		return &Rejected{System: system, Reason: "missing idempotency key (caller bug)"}
	}
	return nil
}
