package scenarios

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is one isolated pathways deployment: its own database, task queue,
// simulators and worker, on the shared dev server.
type system struct {
	simURL  string
	clients *integrations.Clients
	pool    *pgxpool.Pool
	tc      client.Client
	sim     *simulators.Sim
	cases   *cases.Service
	tq      string
}

func newSystem(tb testing.TB, secondsPerDay float64) *system {
	tb.Helper()
	return newSystemWith(tb, secondsPerDay, testsystem.Options{})
}

func newSystemWith(tb testing.TB, secondsPerDay float64, o testsystem.Options) *system {
	tb.Helper()
	ts := testsystem.New(tb, o)
	return &system{simURL: ts.SimURL, clients: ts.Clients, pool: ts.Pool, tc: ts.Temporal, sim: ts.Sim,
		cases: ts.Cases(secondsPerDay), tq: ts.TaskQueue}
}

var personSeq atomic.Int64

// personalNumber makes a valid, unique number for a person born in 1985.
func personalNumber() string {
	n := personSeq.Add(1)
	nine := fmt.Sprintf("850412%03d", 100+n%900)
	return "19850412-" + nine[6:] + string(identity.CheckDigit(nine))
}

func referral(pnr string) cases.Referral {
	return cases.Referral{PersonalNumber: pnr, GivenName: "Test", FamilyName: "Person", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true}
}

// update sends a staff action and fails the test on a refusal.
func (s *system) update(tb testing.TB, caseID, name string, arg any) pathway.Status {
	tb.Helper()
	var st pathway.Status
	if err := s.tryUpdate(caseID, "", name, arg, &st); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return st
}

func (s *system) tryUpdate(caseID, workflowID, name string, arg, result any) error {
	// Generous: under a loaded CI machine 40 pathways at once, each update
	// waiting for its projection, can take tens of seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if workflowID == "" {
		workflowID = pathway.WorkflowID(caseID)
	}
	// As the API sends it: under an ID of its own, resent if the task
	// carrying it is lost to a hand-over (updates.Send).
	return updates.Send(ctx, s.tc, client.UpdateWorkflowOptions{WorkflowID: workflowID, UpdateName: name,
		UpdateID: caseID + ":" + name + ":" + uuid.NewString(), Args: []any{arg}}, result)
}

// waitRow polls the read model until cond holds, as the console would.
func (s *system) waitRow(tb testing.TB, caseID string, what string, cond func(store.PathwayRow) bool) store.PathwayRow {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		row, err := store.GetPathway(context.Background(), s.pool, caseID)
		if err == nil && cond(row) {
			return row
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: last row %+v, err %v", what, row, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTask waits until the case has an open task of the kind.
func (s *system) waitTask(tb testing.TB, caseID, kind string) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		page, err := store.ListTasks(context.Background(), s.pool, store.TaskFilter{CaseID: caseID})
		if err != nil {
			tb.Fatal(err)
		}
		for _, t := range page.Items {
			if t.Kind == kind {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("no open %s task for %s", kind, caseID)
}

// csn is student finance granted, for studies outcomes.
var csn = true

// withDetails fills in what the national indicator needs of an outcome of
// its kind: regular unsubsidised work, a named subsidy, Komvux with CSN.
func withDetails(o pathway.Outcome) pathway.Outcome {
	switch o.Kind {
	case pathway.OutcomeWork:
		o.EmployerKind, o.EmploymentForm = pathway.EmployerRegular, pathway.EmploymentUnsubsidised
	case pathway.OutcomeSubsidisedWork:
		o.EmployerKind, o.EmploymentForm, o.Subsidy = pathway.EmployerRegular, pathway.EmploymentSubsidised, "nystartsjobb"
	case pathway.OutcomeStudies:
		o.StudyForm, o.StudentFinance = pathway.StudyKomvux, &csn
	}
	return o
}
