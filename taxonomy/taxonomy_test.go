package taxonomy

import "testing"

func TestCodesAndConceptsRoundTrip(t *testing.T) {
	if got := OccupationGroup("5321"); got != "jY19_knH_MJp" {
		t.Errorf("5321 → %q", got)
	}
	if got := SSYK("jY19_knH_MJp"); got != "5321" {
		t.Errorf("jY19_knH_MJp → %q", got)
	}
	if got := Municipality("1488"); got != "CSy8_41F_YvX" {
		t.Errorf("1488 → %q", got)
	}
	if got := MunicipalityCode("PVZL_BQT_XtL"); got != "1480" {
		t.Errorf("PVZL_BQT_XtL → %q", got)
	}
	// Concept IDs and unknown codes pass through; unknown concepts have no code.
	for _, v := range []string{"jY19_knH_MJp", "9999", ""} {
		if got := OccupationGroup(v); got != v {
			t.Errorf("%q → %q, want it unchanged", v, got)
		}
	}
	if SSYK("5321") != "" || MunicipalityCode("nope") != "" {
		t.Error("a code was read as a concept ID")
	}
	// Every table maps one to one.
	for name, m := range map[string]map[string]string{"occupation groups": occupationGroups, "municipalities": municipalities} {
		if len(invert(m)) != len(m) {
			t.Errorf("%s: two codes share a concept ID", name)
		}
	}
}
