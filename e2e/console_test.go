// Package e2e drives the web console in headless Chromium against the real
// router, PostgreSQL, Temporal and an in-process worker.
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	// Not skipped: CI installs Chromium, and a missing browser is a failure.
	t.Fatal("no Chromium found (set CHROMIUM or install /usr/bin/chromium)")
	return ""
}

func console(t *testing.T) string {
	base, _ := consoleWithCases(t)
	return base
}

// consoleWithCases is the console and the case service behind it.
func consoleWithCases(t *testing.T) (string, *cases.Service) {
	ts := testsystem.New(t, testsystem.Options{})
	svc := ts.Cases(0)
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Cases: svc, Keys: ts.Keys,
		Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, svc
}

func browser(t *testing.T) context.Context { return browserWithin(t, 3*time.Minute) }

// browserWithin is a headless Chromium whose whole use must end within d.
func browserWithin(t *testing.T, d time.Duration) context.Context {
	opts := []cd.ExecAllocatorOption{
		cd.ExecPath(chromium(t)), cd.NoSandbox, cd.Headless, cd.DisableGPU,
		cd.Flag("disable-background-networking", true), cd.Flag("disable-component-update", true),
		cd.Flag("disable-sync", true), cd.NoFirstRun, cd.NoDefaultBrowserCheck,
		cd.UserDataDir(t.TempDir()), cd.WindowSize(1366, 900),
		// A Swedish member of staff's browser: the console answers in Swedish.
		cd.Flag("accept-lang", "sv-SE,sv"), cd.Flag("lang", "sv-SE"),
	}
	actx, cancel := cd.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := cd.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, d)
	t.Cleanup(cancel3)
	return ctx
}

func validPNR() string {
	n := time.Now().UnixNano() % 900
	nine := fmt.Sprintf("850412%03d", 100+n)
	return "19850412-" + nine[6:] + string(identity.CheckDigit(nine))
}

// submit clicks a form's submit button and waits for the page that answers
// it: a reload before it would abandon the form's request.
func submit(ctx context.Context, t *testing.T, sel string) {
	t.Helper()
	if _, err := cd.RunResponse(ctx, cd.Click(cd.CSS(sel))); err != nil {
		t.Fatalf("submit %s: %v", sel, err)
	}
}

// waitText reloads until the selector's text contains want.
func waitText(ctx context.Context, t *testing.T, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var text string
	for time.Now().Before(deadline) {
		if v, err := cd.Run(ctx, cd.Text(cd.CSS(sel))); err == nil && strings.Contains(v, want) {
			return
		} else {
			text = v
		}
		if false {
			return
		}
		time.Sleep(300 * time.Millisecond)
		_ = cd.Do(ctx, cd.Reload())
	}
	t.Fatalf("%s never showed %q; last: %q", sel, want, text)
}

func TestConsoleWalkthrough(t *testing.T) {
	base := console(t)
	ctx := browser(t)
	var text, loc string
	var invalid, href string

	// Sign-in is required, and a wrong password says so.
	if err := cd.Do(ctx,
		cd.Navigate(base+"/caseload"),
		cd.WaitVisible(cd.CSS("#username")),
		cd.SendKeys(cd.CSS("#username"), "coach.angered"),
		cd.SendKeys(cd.CSS("#password"), "wrong"),
		cd.Submit(cd.CSS("#password")),
		cd.WaitVisible(cd.CSS("#login-error")),
		cd.SendKeys(cd.CSS("#username"), "coach.angered"),
		cd.SendKeys(cd.CSS("#password"), store.DevPassword),
		cd.Submit(cd.CSS("#password")),
		cd.WaitVisible(cd.CSS("table")),
	); err != nil {
		t.Fatal(err)
	}
	loc = must(t)(cd.Run(ctx, cd.Location()))
	if !strings.Contains(loc, "/caseload") {
		t.Fatalf("after sign-in at %s", loc)
	}

	// The start form shows field errors next to the fields, and keeps input.
	if err := cd.Do(ctx,
		cd.Navigate(base+"/pathways/new"),
		cd.WaitVisible(cd.CSS("#personal_number")),
		cd.SendKeys(cd.CSS("#personal_number"), "19851332-1234"),
		cd.SendKeys(cd.CSS("#district"), "Angered"),
		cd.Click(cd.CSS("#start-submit")),
		cd.WaitVisible(cd.CSS("#personal_number-error")),
	); err != nil {
		t.Fatal(err)
	}
	text = textOf(t, ctx, "#consent-error")
	if !strings.Contains(text, "samtycke") {
		t.Fatalf("consent error: %q", text)
	}
	if invalid = attrOf(t, ctx, "#given_name", "aria-invalid"); invalid != "true" {
		t.Fatalf("given_name aria-invalid %q", invalid)
	}

	// Start for real.
	if err := cd.Do(ctx,
		cd.SetValue(cd.CSS("#personal_number"), validPNR()),
		cd.SendKeys(cd.CSS("#given_name"), "Alva"),
		cd.SendKeys(cd.CSS("#family_name"), "Berg"),
		cd.Click(cd.CSS("#consent")),
		cd.Click(cd.CSS("#start-submit")),
		cd.WaitVisible(cd.CSS("#h-timeline")),
	); err != nil {
		t.Fatal(err)
	}
	text = textOf(t, ctx, "#person-name")
	if text != "Alva Berg" {
		t.Fatalf("profile shows %q", text)
	}
	waitText(ctx, t, "#phase", "Anvisning")

	// First contact, mapping, plan: the timeline advances each time.
	if err := cd.Do(ctx,
		cd.WaitVisible(cd.CSS("#fc-channel")),
		cd.SetValue(cd.CSS("#fc-channel"), "phone"),
	); err != nil {
		t.Fatal(err)
	}
	submit(ctx, t, "#fc-submit")
	waitText(ctx, t, "#timeline", "Första kontakt via telefon")
	waitText(ctx, t, "#phase", "Kartläggning")

	// A refused mapping (no abilities) shows the validator's message.
	if err := cd.Do(ctx,
		cd.WaitVisible(cd.CSS("#map-submit")),
		cd.SendKeys(cd.CSS("#map-education"), "3"),
		cd.Click(cd.CSS("#map-submit")),
		cd.WaitVisible(cd.CSS("form[action$='/actions/mapping'] .error")),
	); err != nil {
		t.Fatal(err)
	}
	text = textOf(t, ctx, "form[action$='/actions/mapping'] .error")
	if !strings.Contains(text, "Förmågor") {
		t.Fatalf("mapping refusal: %q", text)
	}
	if err := cd.Do(ctx,
		cd.SendKeys(cd.CSS("#map-abilities"), "driving, customer service"),
		cd.SetValue(cd.CSS("#map-education"), "3"),
		cd.SendKeys(cd.CSS("#map-language"), "sv:B1"),
		cd.SendKeys(cd.CSS("#map-goals"), "Drive buses"),
		cd.SendKeys(cd.CSS("#map-obstacles"), "licence"),
	); err != nil {
		t.Fatal(err)
	}
	submit(ctx, t, "#map-submit")
	waitText(ctx, t, "#timeline", "Kartläggningen registrerad")
	waitText(ctx, t, "#phase", "Handlingsplan")

	// Staff look up openings for bus drivers before they plan.
	if err := cd.Do(ctx,
		cd.SendKeys(cd.CSS("#match-ssyk"), "8331"),
	); err != nil {
		t.Fatal(err)
	}
	submit(ctx, t, "#match-submit")
	waitText(ctx, t, "#match-needs", "need-bus-angered")
	if err := cd.Do(ctx,
		cd.WaitVisible(cd.CSS("#plan-ssyk")),
		cd.SendKeys(cd.CSS("#plan-ssyk"), "8331"),
		cd.SetValue(cd.CSS("#plan-need"), "need-bus-angered"),
	); err != nil {
		t.Fatal(err)
	}
	submit(ctx, t, "#plan-submit")
	waitText(ctx, t, "#timeline", "Handlingsplan version 1 godkänd")
	// The plan's first step starts (or, if the education system refuses it,
	// the pathway asks for a new plan): either way the case has left mapping.
	t.Logf("timeline after the plan:\n%s", textOf(t, ctx, "#timeline"))
	if text = textOf(t, ctx, "#phase"); strings.Contains(text, "Kartläggning") || strings.Contains(text, "Anvisning") {
		t.Fatalf("phase after the plan: %q", text)
	}

	// The link to Temporal is on the page; the caseload lists the case.
	href = attrOf(t, ctx, "#temporal-link", "href")
	if err := cd.Do(ctx,
		cd.Navigate(base+"/caseload?sort=-started_at"),
		cd.WaitVisible(cd.CSS("table")),
	); err != nil {
		t.Fatal(err)
	}
	text = textOf(t, ctx, "tbody")
	if !strings.Contains(text, "Kompetenscenter Angered") || !strings.Contains(href, "/namespaces/default/workflows/pathway-") {
		t.Fatalf("caseload %q, temporal link %q", text, href)
	}
	// Task inbox and employers render.
	if err := cd.Do(ctx,
		cd.Navigate(base+"/tasks?scope=role"), cd.WaitVisible(cd.CSS("h1")),
		cd.Navigate(base+"/employers"), cd.WaitVisible(cd.CSS("table")),
	); err != nil {
		t.Fatal(err)
	}
	text = textOf(t, ctx, "main")
	if !strings.Contains(text, "Västtrafik") {
		t.Fatalf("employers page: %q", text)
	}
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := cd.Run(ctx, cd.Text(cd.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

func attrOf(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := cd.Run(ctx, cd.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ""`, sel, name)))
	if err != nil {
		t.Fatalf("%s of %s: %v", name, sel, err)
	}
	return v
}

func must(t *testing.T) func(string, error) string {
	return func(v string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
