package stepactions_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/stepactions"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

// Every declared action names real roles, has its words in both
// catalogues (the console renders its form from them) and builds an
// Update argument.
func TestDeclaredActionsAreWellFormed(t *testing.T) {
	n := 0
	for _, typ := range catalog.Types {
		for _, a := range steps.ActionsOf(typ) {
			n++
			if a.Name == "" || a.Message == nil || len(a.Roles) == 0 {
				t.Errorf("%s: action %+v lacks a name, roles or a message", typ.Name(), a)
			}
			for _, r := range a.Roles {
				if !slices.Contains(store.Roles, r) {
					t.Errorf("%s %s: role %q is no staff role", typ.Name(), a.Name, r)
				}
			}
			keys := []string{a.Label}
			for _, f := range a.Fields {
				keys = append(keys, f.Label)
				for _, o := range f.Options {
					keys = append(keys, "stepactions.option_"+o)
				}
			}
			for _, k := range keys {
				for _, tag := range lang.Supported {
					if !lang.Has(tag, k) {
						t.Errorf("%s %s: no %s message %q", typ.Name(), a.Name, tag, k)
					}
				}
			}
			if a.Message("s1", map[string]string{}) == nil {
				t.Errorf("%s %s: no Update argument", typ.Name(), a.Name)
			}
		}
	}
	if n == 0 {
		t.Fatal("no step type declares an action")
	}
}

// Bad input is refused before anything is sent, naming the field.
func TestCheckNamesTheField(t *testing.T) {
	a, ok := steps.FindAction(catalog.Get("internship"), "assess")
	if !ok {
		t.Fatal("internship declares no assess")
	}
	for name, c := range map[string]struct {
		in    map[string]string
		field string
	}{
		"missing":      {map[string]string{}, "outcome"},
		"not a choice": {map[string]string{"outcome": "great"}, "outcome"},
		"unknown":      {map[string]string{"outcome": "completed", "note": "x"}, "note"},
	} {
		var fe *stepactions.FieldError
		if err := stepactions.Check(a, c.in); !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: %v, want a field error on %s", name, err, c.field)
		}
	}
	if err := stepactions.Check(a, map[string]string{"outcome": "dropped_out", "reason": "moved away"}); err != nil {
		t.Errorf("valid input refused: %v", err)
	}
	svc := &stepactions.Service{Steps: catalog.Registry()}
	if svc.MayAct([]string{store.RoleUnitManager}) || !svc.MayAct([]string{store.RoleJobCoach}) {
		t.Error("unit managers may not act on steps; job coaches may")
	}
}
