package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

func writeAudit(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := store.WriteAudit(context.Background(), pool, store.AuditEntry{StaffID: "coach.hisingen", Action: store.AuditReadPersonalData,
			CaseID: "c-1", Detail: map[string]any{"what": "timeline", "i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditVerifyNamesTheTamperedRow(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	writeAudit(t, pool, 5)
	c, err := store.VerifyAudit(ctx, pool)
	if err != nil || !c.OK() || c.Rows != 5 || c.HeadSeq != 5 {
		t.Fatalf("untouched log: %+v, %v", c, err)
	}
	// Behind the application's back: a superuser switches the guard off.
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM audit_log WHERE seq = 3`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
		UPDATE audit_log SET staff_id = 'someone.else' WHERE seq = 3;
		ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`)
	if err != nil {
		t.Fatal(err)
	}
	c, err = store.VerifyAudit(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK() || c.BrokenSeq != 3 || c.BrokenID != id || !strings.Contains(c.Problem, "changed") {
		t.Fatalf("tampered row not named: %+v", c)
	}
}

func TestAuditVerifyFindsARemovedRow(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	writeAudit(t, pool, 4)
	_, err := pool.Exec(ctx, `SET session_replication_role = replica; DELETE FROM audit_log WHERE seq = 2; SET session_replication_role = DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.VerifyAudit(ctx, pool)
	if err != nil || c.OK() || c.BrokenSeq != 3 || !strings.Contains(c.Problem, "missing") {
		t.Fatalf("removed row not found: %+v, %v", c, err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	pool, url := testenv.Database(t)
	writeAudit(t, pool, 3)
	app, err := store.Open(ctx, testenv.AppURL(t, url), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	// The application role writes and reads...
	writeAudit(t, app, 1)
	if rows, err := store.ListAudit(ctx, app, store.AuditFilter{}); err != nil || len(rows) != 4 {
		t.Fatalf("app role reads %d rows, %v", len(rows), err)
	}
	// ...but may not change or remove, and neither may the owner.
	for _, who := range []struct {
		name string
		pool *pgxpool.Pool
	}{{"application role", app}, {"owner", pool}} {
		for _, stmt := range []string{
			`UPDATE audit_log SET staff_id = 'x' WHERE seq = 1`,
			`DELETE FROM audit_log WHERE seq = 1`,
			`TRUNCATE audit_log`,
			`INSERT INTO audit_culled (seq, hash) VALUES (99, '\x00')`,
		} {
			if _, err := who.pool.Exec(ctx, stmt); err == nil {
				t.Errorf("%s may run %q", who.name, stmt)
			}
		}
	}
	// Only the documented path: retention's audit_cull keeps the hashes.
	var id int64
	if err := app.QueryRow(ctx, `SELECT id FROM audit_log WHERE seq = 2`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if n, err := store.CullAudit(ctx, app, []int64{id}); err != nil || n != 1 {
		t.Fatalf("cull: %d, %v", n, err)
	}
	writeAudit(t, app, 1)
	c, err := store.VerifyAudit(ctx, app)
	if err != nil || !c.OK() || c.Rows != 4 || c.Culled != 1 || c.HeadSeq != 5 {
		t.Fatalf("chain after a cull: %+v, %v", c, err)
	}
}

func TestAuditChainOrdersConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	done := make(chan struct{})
	for w := 0; w < 8; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			writeAudit(t, pool, 25)
		}()
	}
	for w := 0; w < 8; w++ {
		<-done
	}
	c, err := store.VerifyAudit(ctx, pool)
	if err != nil || !c.OK() || c.Rows != 200 || c.HeadSeq != 200 {
		t.Fatalf("concurrent chain: %+v, %v", c, err)
	}
}
