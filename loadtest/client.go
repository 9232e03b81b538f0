package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pathways-se/pathways/integrations"
)

// staff is one signed-in staff account. Sessions live in the database, so
// the one cookie opens every API instance; requests go round-robin over
// them, and a request that finds no API goes again, with the same
// Idempotency-Key, to the next (as scenarios' chaosStaff does).
type staff struct {
	account  string
	centre   string
	district string
	bases    []string
	next     *atomic.Uint64
	http     *http.Client
}

// answer is what came back from one request after its retries.
type answer struct {
	status int // the last HTTP status (0: no API answered)
	body   []byte
	header http.Header
	tries  int
	err    error
}

// retryFor bounds how long a request is sent again after 5xx answers and
// broken connections; a 202 is an answer (the action was accepted).
const retryFor = 60 * time.Second

func signIn(ctx context.Context, bases []string, next *atomic.Uint64, account, password string) (*staff, error) {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	s := &staff{account: account, bases: bases, next: next, http: &http.Client{Jar: jar, Transport: tr, Timeout: 90 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	form := url.Values{"username": {account}, "password": {password}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bases[0]+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", account, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in as %s at %s: status %d (dev accounts on? password right?)", account, bases[0], resp.StatusCode)
	}
	var me struct {
		Staff struct {
			CentreID string `json:"centre_id"`
		} `json:"staff"`
	}
	if a := s.do(ctx, http.MethodGet, "/api/v1/me", "", nil); a.status != http.StatusOK {
		return nil, fmt.Errorf("sign in as %s: /api/v1/me: %d %s", account, a.status, a.body)
	} else if err := json.Unmarshal(a.body, &me); err != nil {
		return nil, fmt.Errorf("sign in as %s: /api/v1/me: %w", account, err)
	}
	s.centre = me.Staff.CentreID
	var centres struct {
		Items []struct {
			ID        string   `json:"id"`
			Districts []string `json:"districts"`
		} `json:"items"`
	}
	if a := s.do(ctx, http.MethodGet, "/api/v1/centres", "", nil); a.status == http.StatusOK {
		_ = json.Unmarshal(a.body, &centres)
	}
	for _, c := range centres.Items {
		if c.ID == s.centre && len(c.Districts) > 0 {
			s.district = c.Districts[0]
		}
	}
	if s.district == "" {
		return nil, fmt.Errorf("sign in as %s: centre %q has no district to refer to", account, s.centre)
	}
	return s, nil
}

// do sends one request until an API answers it with anything but a 5xx,
// every attempt with the same Idempotency-Key (key "" sends none).
func (s *staff) do(ctx context.Context, method, path, key string, body any) answer {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	deadline := time.Now().Add(retryFor)
	var a answer
	for {
		a.tries++
		base := s.bases[int(s.next.Add(1))%len(s.bases)]
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(raw))
		if err != nil {
			a.err = err
			return a
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set(integrations.IdempotencyHeader, key)
		}
		resp, err := s.http.Do(req)
		if err == nil {
			a.body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			a.status, a.header, a.err = resp.StatusCode, resp.Header, nil
			if resp.StatusCode < 500 {
				return a
			}
		} else {
			a.status, a.err = 0, err
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			if a.err == nil && a.status >= 500 {
				a.err = fmt.Errorf("%s %s: %d %s", method, path, a.status, bytes.TrimSpace(a.body))
			}
			return a
		}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// follow polls a pending action's status link until the pathway has applied
// it, so the next action on the same pathway finds it in its new phase.
func (s *staff) follow(ctx context.Context, location string, within time.Duration) (string, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		a := s.do(ctx, http.MethodGet, location, "", nil)
		var res struct {
			State string `json:"state"`
		}
		_ = json.Unmarshal(a.body, &res)
		if a.status == http.StatusOK && res.State != "pending" && res.State != "unknown" {
			return res.State, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		time.Sleep(300 * time.Millisecond)
	}
	return "", errors.New("still pending at " + location)
}
