package escalation

import "testing"

// A team lead of centre "gbg" must not read the sweeps of "gbg-angered".
func TestCentreOfSweep(t *testing.T) {
	id := CentreSweepWorkflowID(CentreSweep{CentreID: "gbg-angered", StaffID: "team.angered", Key: "k1"})
	if got := CentreOfSweep(id); got != "gbg-angered" {
		t.Fatalf("CentreOfSweep(%q) = %q", id, got)
	}
	for _, other := range []string{"gbg", "gbg-angered-x", ""} {
		if CentreOfSweep(id) == other {
			t.Errorf("%q read as centre %q", id, other)
		}
	}
	if got := CentreOfSweep("escalation-sweep-daily"); got != "" {
		t.Errorf("a scheduled sweep read as centre %q", got)
	}
}
