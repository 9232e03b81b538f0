package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cd "github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// axeVersion is installed by `make test` into .tools from the npm registry;
// it is a test dependency only and never committed.
const axeVersion = "4.14.1"

// axeSource reads axe-core's script: AXE_JS names it, else the tools folder.
func axeSource(t *testing.T) string {
	p := os.Getenv("AXE_JS")
	if p == "" {
		_, here, _, _ := runtime.Caller(0)
		p = filepath.Join(filepath.Dir(here), "..", ".tools", "axe-core-"+axeVersion, "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		// Not skipped: `make test` installs it, and a missing checker is a failure.
		t.Fatalf("axe-core is missing (%v): run `make axe` or set AXE_JS", err)
	}
	return string(b)
}

// axeRoles are the dev accounts of one centre, one per role, and the two
// that see every centre.
var axeRoles = []string{"coach.angered", "broker.angered", "officer.angered", "counsellor.angered", "team.angered", "manager", "admin"}

// consolePages lists every GET page the router serves (not the API, the
// health checks or static files), so a new page cannot escape the check.
func consolePageRoutes(t *testing.T, h http.Handler) []string {
	var out []string
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodGet {
			return nil
		}
		// /auth/ holds the sign-in protocol's redirects, not pages.
		for _, skip := range []string{"/api/", "/static/", "/auth/", "/healthz", "/readyz", "/metrics", "/logout"} {
			if strings.HasPrefix(route, skip) {
				return nil
			}
		}
		if route == "/" || strings.HasSuffix(route, "/*") {
			return nil
		}
		out = append(out, route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// fillRoute puts real values in a route's parameters; a parameter the test
// does not know fails it, so a new page with a new parameter is not skipped.
func fillRoute(t *testing.T, route string, values map[string]string) string {
	out := route
	for strings.Contains(out, "{") {
		i, j := strings.Index(out, "{"), strings.Index(out, "}")
		name := out[i+1 : j]
		v, ok := values[name]
		if !ok {
			t.Errorf("%s: the accessibility test cannot fill {%s}; add a value for it", route, name)
			return ""
		}
		out = out[:i] + v + out[j+1:]
	}
	return out
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// pageMarkup is the page less its per-render tokens (CSRF, form
// idempotency keys), which differ on every load.
const pageMarkup = `(() => { const d = document.documentElement.cloneNode(true);
  d.querySelectorAll('input[type=hidden]').forEach(e => e.remove());
  return d.outerHTML; })()`

const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
 .then(r => JSON.stringify(r.violations
   .filter(v => v.impact === 'serious' || v.impact === 'critical')
   .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))`

// TestAccessibilityAxe loads every console page as every role, in Swedish
// and in English, and fails on any serious or critical axe-core violation
// of WCAG 2.1 A and AA.
func TestAccessibilityAxe(t *testing.T) {
	axe := axeSource(t)
	ts := testsystem.New(t, testsystem.Options{})
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Cases: ts.Cases(0), Keys: ts.Keys,
		Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}
	h := s.Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	started, err := ts.Cases(0).Start(context.Background(), cases.Referral{PersonalNumber: validPNR(), GivenName: "Tilda", FamilyName: "Tillgänglig",
		District: "Angered", Source: "social_services", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"case": started.CaseID}
	dir := t.TempDir()
	csv := filepath.Join(dir, "remisser.csv")
	if err := os.WriteFile(csv, []byte("personal_number,given_name,family_name,district,source,consent\n"+validPNR()+",Ida,Import,Angered,social_services,yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	routes := consolePageRoutes(t, h)
	if len(routes) < 5 {
		t.Fatalf("only %d console pages found: %v", len(routes), routes)
	}

	ctx := browserWithin(t, 15*time.Minute)
	if _, err := cd.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	// The import pages need an import: the coach uploads one (its dry run).
	signIn := func(who string) {
		if _, err := cd.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if err := cd.Do(ctx,
			cd.Navigate(srv.URL+"/login"),
			cd.WaitVisible(cd.CSS("#username")),
			cd.SendKeys(cd.CSS("#username"), who),
			cd.SendKeys(cd.CSS("#password"), store.DevPassword),
			cd.Submit(cd.CSS("#password")),
			cd.WaitNotPresent(cd.CSS("#password")),
		); err != nil {
			t.Fatalf("%s: sign in: %v", who, err)
		}
	}
	signIn("coach.angered")
	if err := cd.Do(ctx,
		cd.Navigate(srv.URL+"/import"),
		cd.SetUploadFiles(cd.CSS("#import-file"), []string{csv}),
		cd.Click(cd.CSS("#import-check")),
		cd.WaitVisible(cd.CSS("#import-discard")),
	); err != nil {
		t.Fatalf("upload an import: %v", err)
	}
	loc, err := cd.Run(ctx, cd.Location())
	if err != nil {
		t.Fatal(err)
	}
	values["id"] = loc[strings.LastIndex(loc, "/")+1:]

	var failures []string
	checked, same, other := 0, 0, 0
	seen := map[string]bool{} // pages already checked, by their markup
	check := func(who, tag, route, url string) {
		err := cd.Do(ctx, cd.Navigate(url), cd.WaitReady(cd.CSS("body")))
		if err != nil && strings.Contains(err.Error(), "net::ERR_ABORTED") {
			// Chromium aborts the navigation to an attachment: a download.
			other++
			return
		}
		if err == nil {
			// A download (a CSV report) is not a page.
			var kind string
			if kind, err = cd.Run(ctx, cd.Evaluate[string]("document.contentType")); err == nil && kind != "text/html" {
				other++
				return
			}
		}
		if err == nil {
			// Roles often see the very same page: its markup, less the
			// per-render tokens, decides whether axe has seen it already.
			var markup string
			if markup, err = cd.Run(ctx, cd.Evaluate[string](pageMarkup)); err == nil {
				if seen[markup] {
					same++
					return
				}
				seen[markup] = true
			}
		}
		if err == nil {
			_, err = cd.Run(ctx, cd.Evaluate[any](axe))
		}
		var out string
		if err == nil {
			out, err = cd.Run(ctx, cd.Evaluate[string](axeRun, cd.EvalAwaitPromise))
		}
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s %s %s: %v", who, tag, route, err))
			return
		}
		checked++
		var vs []axeViolation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			t.Fatalf("axe result %q: %v", out, err)
		}
		for _, v := range vs {
			f := fmt.Sprintf("%s %s %s: %s (%s) %s at %v", who, tag, route, v.ID, v.Impact, v.Help, v.Nodes)
			t.Log(f)
			failures = append(failures, f)
		}
	}
	for _, tag := range lang.Supported {
		if _, err := cd.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": tag}}); err != nil {
			t.Fatal(err)
		}
		// Signed out: the sign-in page.
		if _, err := cd.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		check("signed out", tag, "/login", srv.URL+"/login")
		for _, who := range axeRoles {
			signIn(who)
			for _, route := range routes {
				if route == "/login" {
					continue
				}
				if url := fillRoute(t, route, values); url != "" {
					check(who, tag, route, srv.URL+url)
				}
			}
		}
	}
	t.Logf("axe-core %s: %d pages checked, %d the same as one checked already, %d downloads (%d routes × %d roles × %d languages, and sign-in)",
		axeVersion, checked, same, other, len(routes), len(axeRoles), len(lang.Supported))
	for _, f := range failures {
		t.Error(f)
	}
}
