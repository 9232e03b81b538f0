package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type env struct {
	srv  *httptest.Server
	pool *pgxpool.Pool
	api  *api.Server
	sim  *simulators.Sim
	ts   *testsystem.System
}

// newEnv serves the real router against a fresh database and the dev
// Temporal server, with a real worker on the test's task queue unless
// withWorker is false.
func newEnv(t *testing.T, withWorker bool) *env {
	t.Helper()
	return newEnvWith(t, testsystem.Options{NoWorker: !withWorker})
}

func newEnvWith(t *testing.T, o testsystem.Options) *env {
	t.Helper()
	ts := testsystem.New(t, o)
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), UpdateTimeout: 5 * time.Second, Keys: ts.Keys,
		Cases: ts.Cases(0), Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ts.SetPublicURL(srv.URL)
	return &env{srv: srv, pool: ts.Pool, api: s, sim: ts.Sim, ts: ts}
}

// client is a browser-like HTTP client with a cookie jar.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (e *env) anon(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.srv.URL, http: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs in with a seeded development account.
func (e *env) signIn(t *testing.T, id string) *client {
	t.Helper()
	c := e.anon(t)
	resp, err := c.http.PostForm(e.srv.URL+"/login", url.Values{"username": {id}, "password": {store.DevPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", id, resp.StatusCode)
	}
	return c
}

type reply struct {
	Status int
	Body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

type problem struct {
	Error api.Problem `json:"error"`
}

func (r reply) problem(t *testing.T) api.Problem {
	var p problem
	r.decode(t, &p)
	return p.Error
}

func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}

func (c *client) get(path string) reply            { return c.do(http.MethodGet, path, nil) }
func (c *client) post(path string, body any) reply { return c.do(http.MethodPost, path, body) }

func (c *client) must(r reply, status int) reply {
	c.t.Helper()
	if r.Status != status {
		c.t.Fatalf("want %d, got %d: %s", status, r.Status, r.Body)
	}
	return r
}

var seq atomic.Int64

var pnrBase = time.Now().UnixNano() % 900

// personalNumber returns a valid personal number of someone born in 1985,
// not handed out before in this process (900 of them from a start picked once): a start taken from the
// clock on every call could repeat one (409, an active pathway), about one
// run in thirty of a benchmark that starts eight.
func personalNumber() string {
	n := pnrBase + seq.Add(1)
	nine := fmt.Sprintf("850412%03d", 100+n%900)
	return "19850412-" + nine[6:] + string(identity.CheckDigit(nine))
}

func referral(pnr, district string) map[string]any {
	return map[string]any{"personal_number": pnr, "given_name": "Test", "family_name": "Person", "district": district,
		"source": "social_services", "consent": true}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
