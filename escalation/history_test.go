package escalation_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/escalation"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
)

var recordHistories = flag.Bool("record-histories", false, "write new sweep histories to workflows/testdata/escalation (existing files are kept)")

// A sweep run directly on the dev server over three overdue referrals, in
// batches of two; with -record-histories its history is kept for replay.
func TestSweepOnDevServerRecordsHistory(t *testing.T) {
	ctx := context.Background()
	ts := testsystem.New(t, testsystem.Options{Register: func(w sdkworker.Worker, ts *testsystem.System) {
		escalation.Register(w, escalation.New(ts.Pool, ts.Temporal, &mailbox{keys: map[string]integrations.Mail{}}, "", time.UTC))
	}})
	svc := ts.Cases(secondsPerDay)
	var ids []string
	for i := 0; i < 3; i++ {
		st, err := svc.Start(ctx, cases.Referral{PersonalNumber: personalNumber(), GivenName: "Test", FamilyName: "Person",
			District: "Angered", Source: pathway.SourceSocialServices, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.CaseID)
	}
	waitFor(t, "first contact overdue", func() bool {
		var n int
		_ = ts.Pool.QueryRow(ctx, `SELECT count(*) FROM pathways WHERE phase = 'referral' AND first_contact_due < now()`).Scan(&n)
		return n == 3
	})
	rules := escalation.DefaultRules()
	for i := range rules {
		rules[i].Disabled = rules[i].Name != escalation.RuleFirstContact
	}
	run, err := ts.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "escalation-sweep-history-" + ts.TaskQueue, TaskQueue: ts.TaskQueue},
		escalation.WorkflowName, escalation.SweepInput{Rules: rules, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var res escalation.SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Stalled != 3 || res.Escalated != 3 {
		t.Fatalf("sweep: %+v", res)
	}
	if *recordHistories {
		writeHistory(t, ts.Temporal, run.GetID(), run.GetRunID(), "sweep-scheduled-batches-run1.json")
	}

	// A manual escalation of all three by centre, as the API starts it.
	req := escalation.ManualRequest{Filter: escalation.ManualFilter{CentreIDs: []string{centreOf(t, ts, ids[0])}}, Reason: "no contact for days", StaffID: "s-lead"}
	id := escalation.ManualWorkflowID("s-lead", "history-"+ts.TaskQueue)
	if err := escalation.StartManual(ctx, ts.Temporal, ts.TaskQueue, id, req); err != nil {
		t.Fatal(err)
	}
	var p escalation.ManualProgress
	if err := ts.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if p.Matched != 3 || p.Escalated != 3 || p.State != "done" {
		t.Fatalf("manual escalation: %+v", p)
	}
	if *recordHistories {
		writeHistory(t, ts.Temporal, id, "", "manual-escalation-by-centre-run1.json")
	}
}

func centreOf(t *testing.T, ts *testsystem.System, caseID string) string {
	var c string
	if err := ts.Pool.QueryRow(context.Background(), `SELECT centre_id FROM pathways WHERE case_id = $1`, caseID).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// writeHistory saves one run's history under workflows/testdata/escalation,
// never over a file that exists: a committed history is never rewritten.
func writeHistory(t *testing.T, c client.Client, workflowID, runID, name string) {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	// Committed decoded: the payloads are encrypted under this run's keys.
	h := &historypb.History{Events: events}
	if err := codec.New(testenv.Keyring(t)).DecodeInPlace(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "workflows", "testdata", "escalation", name)
	if _, err := os.Stat(path); err == nil {
		t.Logf("%s exists and is kept", path)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(events))
}
