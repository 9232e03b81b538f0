package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cd "github.com/chromedp/chromedp"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/store"
)

// TestScreenshots writes the console's main pages, in Swedish, to
// PATHWAYS_SCREENSHOTS (make screenshots: docs/screenshots). Without it the
// test has nothing to write and is skipped.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("PATHWAYS_SCREENSHOTS")
	if dir == "" {
		t.Skip("PATHWAYS_SCREENSHOTS is not set (make screenshots sets it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base, svc := consoleWithCases(t)
	people := [][2]string{{"Alva", "Berg"}, {"Omar", "Haddad"}, {"Sara", "Lindqvist"}, {"Juan", "Pérez"}, {"Maja", "Nyström"}}
	var first string
	for _, p := range people {
		st, err := svc.Start(context.Background(), cases.Referral{PersonalNumber: validPNR(), GivenName: p[0], FamilyName: p[1],
			District: "Angered", Source: "social_services", Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = st.CaseID
		}
	}
	ctx := browserWithin(t, 5*time.Minute)
	if _, err := cd.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cd.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "sv-SE"}}); err != nil {
		t.Fatal(err)
	}
	signInAs := func(who string) {
		if _, err := cd.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		if err := cd.Do(ctx,
			cd.Navigate(base+"/login"),
			cd.WaitVisible(cd.CSS("#username")),
			cd.SendKeys(cd.CSS("#username"), who),
			cd.SendKeys(cd.CSS("#password"), store.DevPassword),
			cd.Submit(cd.CSS("#password")),
			cd.WaitNotPresent(cd.CSS("#password")),
		); err != nil {
			t.Fatal(err)
		}
	}
	shoot := func(name, path string) {
		if err := cd.Do(ctx, cd.Navigate(base+path), cd.WaitVisible(cd.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		png, err := cd.Run(ctx, cd.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signInAs("coach.angered")
	shoot("caseload", "/caseload")
	shoot("tasks", "/tasks")
	shoot("case", "/pathways/"+first)
	shoot("plan-builder", "/pathways/"+first+"/plan")
	shoot("import", "/import")
	signInAs("manager")
	shoot("outcomes", "/outcomes")
}
