package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// The statements every staff action or projection runs for one case find
// the case's rows through an index condition on case_id, however many cases
// the tables hold. The generic plan is checked with sequential scans priced
// out, so a small test table cannot hide a missing index.
func TestPerChangeStatementsUseIndexes(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, set := range []string{"SET enable_seqscan = off", "SET plan_cache_mode = force_generic_plan"} {
		if _, err := conn.Exec(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	args := map[string]string{
		"repair lost placeholders": "('c-1', 1, '{}')",
		"repair lost task changes": "('c-1', 1, '{}', now())",
		"action applied before":    "('c-1', 'pause:k')",
	}
	i := 0
	for name, sql := range store.PerChangeStatements {
		i++
		a, ok := args[name]
		if !ok {
			t.Errorf("%s: no arguments to plan it with", name)
			continue
		}
		stmt := "plan_" + strings.ReplaceAll(name, " ", "_")
		if _, err := conn.Exec(ctx, "PREPARE "+stmt+" AS "+sql); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+stmt+a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "Index Cond: ((case_id =") {
			t.Errorf("%s reads the case's rows without an index on case_id:\n%s", name, text)
		}
	}
}
