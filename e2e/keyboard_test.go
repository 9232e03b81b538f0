package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// tabTo moves the keyboard focus with Tab until the element with id has it;
// the page is never clicked.
func tabTo(ctx context.Context, t *testing.T, id string) {
	t.Helper()
	last := ""
	for range 120 {
		got, err := cd.Run(ctx, cd.Evaluate[string]("document.activeElement ? document.activeElement.id : ''"))
		if err != nil {
			t.Fatalf("focus: %v", err)
		}
		if got == id {
			return
		}
		last = got
		if err := cd.Do(ctx, cd.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("Tab never reached #%s (last focus #%s)", id, last)
}

// typeInto tabs to the field and types text into it.
func typeInto(ctx context.Context, t *testing.T, id, text string) {
	t.Helper()
	tabTo(ctx, t, id)
	if err := cd.Do(ctx, cd.KeyEvent(text)); err != nil {
		t.Fatal(err)
	}
}

// press tabs to the element and presses a key on it (Space, Enter).
func press(ctx context.Context, t *testing.T, id, key string) {
	t.Helper()
	tabTo(ctx, t, id)
	if err := cd.Do(ctx, cd.KeyEvent(key)); err != nil {
		t.Fatal(err)
	}
}

// submitByEnter tabs to a submit button and presses Enter, waiting for the
// form's answer to load.
func submitByEnter(ctx context.Context, t *testing.T, id string) {
	t.Helper()
	tabTo(ctx, t, id)
	if _, err := cd.RunResponse(ctx, cd.KeyEvent("\r")); err != nil {
		t.Fatalf("Enter on #%s: %v", id, err)
	}
}

// startOver puts the focus at the top of a freshly loaded page.
func startOver(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	if err := cd.Do(ctx, cd.Navigate(url), cd.WaitReady(cd.CSS("body"))); err != nil {
		t.Fatal(err)
	}
}

// waitPhaseKeys waits for the case page's phase, reloading as a user would
// (the reload is the browser's, not a click on the page).
func waitPhaseKeys(ctx context.Context, t *testing.T, url, phase string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		startOver(ctx, t, url)
		if got = attrOf(t, ctx, "#phase", "data-phase"); got == phase {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("the phase never became %s; last %q", phase, got)
}

// TestKeyboardOnlyStartMappingPlan signs in, starts a pathway, records the
// first contact and the mapping and approves a plan with the keyboard only:
// Tab to move, typing, Space for a checkbox, Enter to submit.
func TestKeyboardOnlyStartMappingPlan(t *testing.T) {
	base := console(t)
	ctx := browserWithin(t, 5*time.Minute)

	startOver(ctx, t, base+"/login")
	typeInto(ctx, t, "username", "coach.angered")
	typeInto(ctx, t, "password", store.DevPassword)
	if _, err := cd.RunResponse(ctx, cd.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}

	startOver(ctx, t, base+"/pathways/new")
	typeInto(ctx, t, "personal_number", validPNR())
	typeInto(ctx, t, "given_name", "Kim")
	typeInto(ctx, t, "family_name", "Tangentbord")
	typeInto(ctx, t, "district", "Angered")
	press(ctx, t, "consent", " ")
	if ok, err := cd.Run(ctx, cd.Evaluate[bool]("document.getElementById('consent').checked")); err != nil || !ok {
		t.Fatalf("Space did not tick consent (%v)", err)
	}
	submitByEnter(ctx, t, "start-submit")
	if err := cd.Do(ctx, cd.WaitVisible(cd.CSS("#h-timeline"))); err != nil {
		t.Fatal(err)
	}
	loc, err := cd.Run(ctx, cd.Location())
	if err != nil {
		t.Fatal(err)
	}
	casePage := strings.SplitN(loc, "?", 2)[0]

	waitPhaseKeys(ctx, t, casePage, pathway.PhaseReferral)
	submitByEnter(ctx, t, "fc-submit")
	waitPhaseKeys(ctx, t, casePage, pathway.PhaseMapping)

	typeInto(ctx, t, "map-abilities", "truck licence")
	typeInto(ctx, t, "map-education", "3")
	typeInto(ctx, t, "map-language", "sv:B1")
	typeInto(ctx, t, "map-goals", "Drive a bus")
	submitByEnter(ctx, t, "map-submit")
	waitPhaseKeys(ctx, t, casePage, pathway.PhasePlanning)

	typeInto(ctx, t, "plan-ssyk", "8331")
	// The arrow key picks the first open recruitment need in the list.
	press(ctx, t, "plan-need", kb.ArrowDown)
	if need, err := cd.Run(ctx, cd.Evaluate[string]("document.getElementById('plan-need').value")); err != nil || need == "" {
		t.Fatalf("the arrow key chose no need (%v)", err)
	}
	submitByEnter(ctx, t, "plan-submit")
	if errs, _ := cd.Run(ctx, cd.Evaluate[string]("Array.from(document.querySelectorAll('.error')).map(e => e.textContent).join(' | ')")); errs != "" {
		t.Fatalf("the plan was refused: %s", errs)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		startOver(ctx, t, casePage)
		if phase := attrOf(t, ctx, "#phase", "data-phase"); phase != pathway.PhasePlanning && phase != pathway.PhaseMapping {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plan approved by keyboard never took effect; timeline:\n%s", textOf(t, ctx, "#timeline"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	if text := textOf(t, ctx, "#timeline"); !strings.Contains(text, "Handlingsplan version 1") && !strings.Contains(text, "Plan version 1") {
		t.Fatalf("timeline after the keyboard's plan:\n%s", text)
	}
}
