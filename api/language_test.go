package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/api"
)

// getLang fetches a console page as a browser asking for acceptLanguage.
func (c *client) getLang(path, acceptLanguage string) reply {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}
}

// postFormTo posts a form and answers where it redirects.
func (c *client) postFormTo(path string, v url.Values) (reply, string) {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, v)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{Status: resp.StatusCode, Body: b}, resp.Header.Get("Location")
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)">`)

// pageLang is the page's language and whether its header, footer and
// heading speak it.
func pageLang(t *testing.T, r reply) string {
	t.Helper()
	m := htmlLang.FindSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("page %d without <html lang>: %.300s", r.Status, r.Body)
	}
	words := map[string][]string{"sv": {"Ärenden", "Logga ut", "Tillgänglighetsredogörelse"}, "en": {"Caseload", "Sign out", "Accessibility statement"}}
	for _, w := range words[string(m[1])] {
		if !contains(r.Body, w) {
			t.Errorf("the %s page lacks %q", m[1], w)
		}
	}
	return string(m[1])
}

// The console speaks Swedish unless the browser asks for English; a staff
// member's own setting (the form in the header) wins over the browser, on
// every page, until they clear it.
func TestConsoleLanguage(t *testing.T) {
	e := newEnv(t, false)
	coach := e.signIn(t, "coach.angered")

	if got := pageLang(t, coach.getLang("/caseload", "")); got != "sv" {
		t.Errorf("no Accept-Language: %s, want sv", got)
	}
	if got := pageLang(t, coach.getLang("/caseload", "en-GB,en;q=0.9")); got != "en" {
		t.Errorf("Accept-Language en-GB: %s, want en", got)
	}
	if got := pageLang(t, coach.getLang("/caseload", "de-DE,de;q=0.9")); got != "sv" {
		t.Errorf("Accept-Language de: %s, want Swedish", got)
	}

	// The header's form keeps the choice and goes back to the page.
	page := coach.getLang("/tasks", "")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page.Body)
	if csrf == nil || !contains(page.Body, `action="/language"`) || !contains(page.Body, `name="next" value="/tasks"`) {
		t.Fatalf("no language form in the header: %s", page.Body)
	}
	set := func(language string) {
		t.Helper()
		r, loc := coach.postFormTo("/language", url.Values{"csrf": {string(csrf[1])}, "language": {language}, "next": {"/tasks"}})
		if r.Status != http.StatusSeeOther || loc != "/tasks" {
			t.Fatalf("set language %q: %d %s %s", language, r.Status, loc, r.Body)
		}
	}
	set("en")
	for _, path := range []string{"/caseload", "/tasks", "/employers", "/escalations", "/pathways/new", "/tillganglighet"} {
		if got := pageLang(t, coach.getLang(path, "sv-SE,sv;q=0.9")); got != "en" {
			t.Errorf("%s after choosing English, browser asking for Swedish: %s", path, got)
		}
	}
	// Another staff member's pages are not affected.
	other := e.signIn(t, "team.angered")
	if got := pageLang(t, other.getLang("/caseload", "")); got != "sv" {
		t.Errorf("a colleague's page after the coach chose English: %s", got)
	}
	// An unknown language is refused, naming the choice; the setting stays.
	if r := coach.postForm("/language", url.Values{"csrf": {string(csrf[1])}, "language": {"xx"}}); r.Status != http.StatusBadRequest {
		t.Errorf("language xx: %d", r.Status)
	}
	set("sv")
	if got := pageLang(t, coach.getLang("/caseload", "en")); got != "sv" {
		t.Errorf("after choosing Swedish, browser asking for English: %s", got)
	}
	// Clearing the choice hands it back to the browser.
	set("")
	if got := pageLang(t, coach.getLang("/caseload", "en")); got != "en" {
		t.Errorf("after clearing, browser asking for English: %s", got)
	}

	// The API keeps its English codes and says its message in the language
	// asked for; a client that asks for none gets English as before.
	ref := referral(personalNumber(), "Angered")
	ref["consent"] = false
	for _, c := range []struct{ accept, want string }{{"sv", "samtycke"}, {"", "consent is required"}} {
		req, _ := http.NewRequest(http.MethodPost, coach.base+"/api/v1/pathways", bytes.NewReader(mustJSON(ref)))
		req.Header.Set("Content-Type", "application/json")
		if c.accept != "" {
			req.Header.Set("Accept-Language", c.accept)
		}
		resp, err := coach.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p := reply{Status: resp.StatusCode, Body: b}.problem(t)
		var consent *api.FieldProblem
		for i := range p.Fields {
			if p.Fields[i].Field == "consent" {
				consent = &p.Fields[i]
			}
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || consent == nil || consent.Code != "required" || !strings.Contains(consent.Message, c.want) {
			t.Errorf("API refusal with Accept-Language %q: %d %s", c.accept, resp.StatusCode, b)
		}
	}

	// Signed out, the sign-in page and the accessibility statement follow
	// the browser, and the statement is public and linked from the footer.
	anon := e.anon(t)
	login := anon.getLang("/login", "")
	if !contains(login.Body, `<html lang="sv">`) || !contains(login.Body, "Logga in") || !contains(login.Body, `href="/tillganglighet"`) {
		t.Errorf("sign-in page: %s", login.Body)
	}
	// The dev accounts it names are ones that sign in.
	for _, id := range []string{"coach.angered", "team.angered", "manager", "admin"} {
		if !contains(login.Body, id) {
			t.Errorf("the sign-in page does not name %s", id)
		}
		e.signIn(t, id)
	}
	if contains(login.Body, "@pathways.test") {
		t.Error("the sign-in page names an e-mail address, which does not sign in")
	}
	a11y := anon.getLang("/tillganglighet", "en")
	if a11y.Status != http.StatusOK || !contains(a11y.Body, `<html lang="en">`) || !contains(a11y.Body, "Accessibility statement") || !contains(a11y.Body, "digg.se") {
		t.Errorf("accessibility statement: %d %s", a11y.Status, a11y.Body)
	}
}
