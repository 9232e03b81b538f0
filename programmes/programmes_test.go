package programmes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/steps/catalog"
)

func TestShippedDefinitionsLoad(t *testing.T) {
	c, err := Load("definitions", catalog.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"youth", "adult", "jobtrack"} {
		if _, ok := c.Get(name); !ok {
			t.Errorf("programme %s not shipped", name)
		}
	}
	for age, want := range map[int]string{16: "youth", 24: "youth", 25: "adult", 66: "adult"} {
		if p, _ := c.ForAge(age); p.Name != want {
			t.Errorf("ForAge(%d) = %s, want %s", age, p.Name, want)
		}
	}
	if p, _ := c.Get("youth"); !p.EducationFirst || p.MinAge != 16 || p.MaxAge != 24 {
		t.Errorf("youth: %+v", p)
	}
}

const good = `name: test
version: 1
title: Test track
min_age: 25
max_age: 66
time_limit_days: 548
pause_stops_clock: true
steps:
  - id: coaching
    type: manual
    title: Coaching
    duration_days: 30
    params: {description: Weekly coaching}
  - id: praktik
    type: internship
    title: Internship
    duration_days: 60
    params: {employer: need}
`

func TestGoodDefinition(t *testing.T) {
	p, errs := Parse("test.yaml", []byte(good), catalog.Registry())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if p.Name != "test" || len(p.Steps) != 2 || p.Steps[1].Params["employer"] != "need" || !p.PauseStopsClock {
		t.Errorf("decoded %+v", p)
	}
}

// Each bad definition gives one precise error: file, line, field, message.
func TestBadDefinitions(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown type", "type: internship", "type: praktik",
			`test.yaml:15: steps[1].type: unknown step type "praktik"`},
		{"negative duration", "duration_days: 60", "duration_days: -60",
			"test.yaml:17: steps[1].duration_days: must be positive"},
		{"zero duration", "duration_days: 30", "duration_days: 0",
			"test.yaml:12: steps[0].duration_days: must be positive"},
		{"missing step field", "    duration_days: 60\n", "",
			"test.yaml:14: steps[1].duration_days: is required"},
		{"missing top-level field", "time_limit_days: 548\n", "",
			"test.yaml:1: time_limit_days: is required"},
		{"age range out of order", "max_age: 66", "max_age: 20",
			"test.yaml:5: max_age: age range 25–20 is out of order"},
		{"bad params", "params: {employer: need}", "params: {employer: \"\"}",
			"test.yaml:18: steps[1].params: params.employer is required"},
		{"unknown field", "pause_stops_clock: true", "pause_stop_clock: true",
			"test.yaml:7: pause_stop_clock: unknown field"},
		{"wrong value type", "version: 1", "version: one",
			"test.yaml:2: cannot unmarshal !!str `one` into int"},
		{"duplicate step id", "id: praktik", "id: coaching",
			`test.yaml:14: steps[1].id: "coaching" is also the id of steps[0]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(good, c.from, c.to, 1)
			if src == good {
				t.Fatal("the case changes nothing")
			}
			_, errs := Parse("test.yaml", []byte(src), catalog.Registry())
			if len(errs) != 1 {
				t.Fatalf("want one error, got %d: %v", len(errs), errs)
			}
			if got := errs.Error(); !strings.HasPrefix(got, c.want) {
				t.Errorf("got  %s\nwant %s…", got, c.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", good)
	write("b.yaml", strings.Replace(good, "duration_days: 60", "duration_days: -1", 1))
	_, err := Load(dir, catalog.Registry())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b.yaml")+":17: steps[1].duration_days: must be positive") {
		t.Fatalf("error %v", err)
	}
	write("b.yaml", good) // the same name twice
	if _, err := Load(dir, catalog.Registry()); err == nil || !strings.Contains(err.Error(), `programme "test" is already defined`) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	p, _ := Parse("test.yaml", []byte(good), catalog.Registry())
	if err := Validate(p, catalog.Registry()); err != nil {
		t.Fatal(err)
	}
	p.Steps[0].DurationDays = -3
	if err := Validate(p, catalog.Registry()); err == nil || !strings.Contains(err.Error(), "steps[0].duration_days: must be positive") {
		t.Fatalf("error %v", err)
	}
}
