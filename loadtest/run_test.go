package loadtest_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/loadtest"
)

// TestLoadtestReplaysAgainstTwoAPIs runs the load generator for a few
// seconds against two API instances on one test system (as the cluster has
// two): it builds its working set through the API, replays the first three
// hours of a scaled-down day, and every request is accepted. The pathways
// it acted on are checked in the database, so a generator that sent nothing
// (or the wrong thing) fails.
func TestLoadtestReplaysAgainstTwoAPIs(t *testing.T) {
	ts := testsystem.New(t, testsystem.Options{})
	// One session secret, as the cluster gives its APIs: a session opened
	// on one instance is good on the other.
	ts.Config.Auth.SessionSecret = "loadtest-session-secret-0123456789abcdef"
	var bases []string
	for range 2 {
		s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), UpdateTimeout: 30 * time.Second,
			Keys: ts.Keys, Cases: ts.Cases(0), Outside: api.OutsideClients{Employers: ts.Clients.Employers, Employment: ts.Clients.Employment}}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		bases = append(bases, srv.URL)
	}
	ts.SetPublicURL(bases[0])
	var out testenv.SyncBuffer
	cfg := loadtest.Config{Bases: bases, Accounts: []string{"coach.angered", "coach.hisingen"}, Password: "pathways-dev",
		Model: loadtest.LargeMunicipality(), Seed: 3, Scale: 0.02, Speed: 3600, Duration: 3 * time.Hour,
		StepsPerPlan: 3, Concurrency: 16, Progress: time.Second, Out: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, cfg)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.ErrorCount(); n != 0 {
		t.Errorf("%d requests ended in an error: %v", n, rep.Errors)
	}
	if rep.Sent != rep.Scheduled || rep.Scheduled == 0 {
		t.Errorf("%d of %d scheduled requests sent", rep.Sent, rep.Scheduled)
	}
	day := cfg.Model.Plan(cfg.Seed, cfg.Scale).Until(cfg.Duration)
	for _, k := range loadtest.Kinds {
		kr := rep.Kinds[k]
		want := day.Counts[k]
		if k == loadtest.FollowUp {
			if rep.Skipped[k] != want {
				t.Errorf("follow-ups: %d counted as not sent, %d scheduled", rep.Skipped[k], want)
			}
			continue
		}
		if kr.Count != want || kr.OK+kr.Pending != want || rep.Skipped[k] != 0 {
			t.Errorf("%s: %d sent, %d ok, %d pending, %d skipped; %d scheduled", k, kr.Count, kr.OK, kr.Pending, rep.Skipped[k], want)
		}
	}
	for _, k := range []loadtest.Kind{loadtest.Step, loadtest.Caseload, loadtest.View} {
		if day.Counts[k] == 0 {
			t.Errorf("the scaled day has no %s: the test checks too little", k)
		}
	}
	// What the database says was done: every step action a confirmed step.
	var confirmed int
	if err := ts.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE detail->>'action' = 'confirm-step' AND detail->>'result' = 'ok'`).Scan(&confirmed); err != nil {
		t.Fatal(err)
	}
	if confirmed < day.Counts[loadtest.Step] {
		t.Errorf("%d confirmed steps in the audit log, %d step actions sent", confirmed, day.Counts[loadtest.Step])
	}
	for _, want := range []string{"loadtest: summary", "achieved", "lag behind schedule", "errors: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}
