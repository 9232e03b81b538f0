package activities

import (
	"testing"
	"time"
)

// A notice sends the workflow's key; one scheduled by older code, without a
// key, gets one that its retries share and no other notice has.
func TestNoticeKey(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	n := Notice{CaseID: "2026-ABC", Key: "2026-ABC:notice:social:outcome:2", Event: "outcome", At: at}
	if k := noticeKey(n, "social"); k != n.Key {
		t.Errorf("key %q, want the workflow's %q", k, n.Key)
	}
	n.Key = ""
	first := noticeKey(n, "social")
	if again := noticeKey(n, "social"); again != first {
		t.Errorf("a retry's key %q differs from %q", again, first)
	}
	later := n
	later.At = at.Add(time.Hour)
	for _, other := range []string{noticeKey(later, "social"), noticeKey(n, "employment")} {
		if other == first {
			t.Errorf("two notices share the key %q", first)
		}
	}
}
