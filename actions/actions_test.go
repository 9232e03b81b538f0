package actions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/actions"
	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/stepactions"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/updates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Do sends an action once per key, answers a repeat from the audit log
// without sending (the repeat's service has no Temporal client at all),
// never sends when no worker is ready, and audits each outcome.
func TestDoOncePerKeyAndAudited(t *testing.T) {
	ctx := context.Background()
	pool, _ := testenv.Database(t)
	ts := testsystem.New(t, testsystem.Options{Pool: pool})
	started, err := ts.Cases(0).Start(ctx, cases.Referral{PersonalNumber: "19850312-123" + string(identity.CheckDigit("850312123")), GivenName: "Tjänst", FamilyName: "Test", District: "Angered",
		Source: pathway.SourceSocialServices, Consent: true, Via: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	row, err := store.GetPathway(ctx, pool, started.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	req := actions.Request{CaseID: started.CaseID, ParticipantID: row.ParticipantID, Action: auth.ActFirstContact, Update: pathway.UpdateFirstContact,
		Message: pathway.FirstContact{Actor: pathway.Actor{StaffID: "coach.angered"}, Channel: "phone"}, StaffID: "coach.angered", Key: "k-1", Via: "test"}

	// No worker: nothing is sent, and the row says so.
	noWorker := &actions.Service{Pool: pool, Ready: func(context.Context) error { return actions.ErrNoWorker }}
	if _, err := noWorker.Do(ctx, req); !errors.Is(err, actions.ErrNoWorker) {
		t.Fatalf("with no worker: %v", err)
	}

	svc := &actions.Service{Temporal: ts.Temporal, Pool: pool}
	res, err := svc.Do(ctx, req)
	if err != nil || res.Repeat || res.Pending || res.Status.Phase != pathway.PhaseMapping || res.ActionID != "first-contact:k-1" {
		t.Fatalf("first contact: %+v %v", res, err)
	}
	repeat, err := (&actions.Service{Pool: pool}).Do(ctx, req)
	if err != nil || !repeat.Repeat {
		t.Fatalf("the same key again: %+v %v", repeat, err)
	}
	// The validator's refusal is the caller's to show.
	req.Key = ""
	var refused *actions.Refused
	if _, err := svc.Do(ctx, req); !errors.As(err, &refused) {
		t.Fatalf("a second first contact: %v, want the validator's refusal", err)
	}

	var results []string
	rows, err := pool.Query(ctx, `SELECT detail->>'result' || COALESCE('/' || (detail->>'code'), '') || COALESCE('/repeat=' || (detail->>'repeat'), '')
		FROM audit_log WHERE case_id = $1 AND action = $2 AND detail->>'via' = 'test' AND staff_id = 'coach.angered' AND participant_id IS NOT NULL ORDER BY id`,
		started.CaseID, store.AuditAction)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			t.Fatal(err)
		}
		results = append(results, r)
	}
	if got := strings.Join(results, ","); got != "not_sent/worker_unavailable,ok,ok/repeat=true,refused/refused" {
		t.Fatalf("audit rows %s", got)
	}
}

// The console shows a nothing-changed answer in Swedish: each error's text
// is in the message catalogue.
func TestNothingChangedInSwedish(t *testing.T) {
	sv := lang.New(lang.Swedish)
	for _, err := range []error{actions.ErrNoWorker, actions.ErrUnreachable, updates.ErrNotApplied, stepactions.ErrWorkerUnavailable} {
		if got := sv.Message(err.Error()); !strings.Contains(got, "inget ändrades") {
			t.Errorf("%q reads %q in Swedish", err, got)
		}
	}
}
