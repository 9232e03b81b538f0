package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// A request about a case reads its session, the case and a staff action's
// earlier results in one batch; a case that does not exist reads as not
// found, and a session that does not exist is an error whatever the case.
func TestSessionStaffCaseInOneBatch(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	oneCase(t, pool, "C-1", true)
	now := time.Now()
	hash := []byte("session-hash-0001")
	if err := store.CreateSession(ctx, pool, hash, "coach.angered", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteAudit(ctx, pool, store.AuditEntry{StaffID: "coach.angered", Action: store.AuditAction, CaseID: "C-1",
		Detail: map[string]any{"action": "pause", "action_id": "pause:k1", "result": "ok"}}); err != nil {
		t.Fatal(err)
	}

	cr := &store.CaseRead{CaseID: "C-1", ActionID: "pause:k1"}
	ss, err := store.GetSessionStaffCase(ctx, pool, hash, cr)
	if err != nil || ss.Staff.ID != "coach.angered" {
		t.Fatalf("session: %+v %v", ss.Staff, err)
	}
	if !cr.Read || !cr.Found || cr.Row.CaseID != "C-1" || !cr.Protected || len(cr.Prior) != 1 || cr.Prior[0] != "ok" {
		t.Errorf("case read with the session: %+v", cr)
	}

	cr = &store.CaseRead{CaseID: "C-404"}
	if _, err := store.GetSessionStaffCase(ctx, pool, hash, cr); err != nil || !cr.Read || cr.Found {
		t.Errorf("a missing case: read %v found %v, %v", cr.Read, cr.Found, err)
	}

	if _, err := store.GetSessionStaffCase(ctx, pool, []byte("no-such-session"), &store.CaseRead{CaseID: "C-1"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no session: %v, want ErrNotFound", err)
	}
}
