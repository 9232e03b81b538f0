package cases_test

import (
	"context"
	"testing"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

func service(t *testing.T) *cases.Service {
	t.Helper()
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	progs, err := programmes.Load("../programmes/definitions", catalog.Registry())
	if err != nil {
		t.Fatal(err)
	}
	// No worker: these tests only need the workflows to exist.
	return &cases.Service{Pool: pool, Temporal: testenv.TemporalClient(t), TaskQueue: testenv.TaskQueue(t), Programmes: progs, Keys: testenv.Keyring(t)}
}

// A person already registered keeps their name and contact details when a
// centre (any centre) starts a new pathway for them; the audit row says the
// referral's details differed, without the values.
func TestStartKeepsRegisteredDetails(t *testing.T) {
	svc := service(t)
	ctx := context.Background()
	first := referral(1)
	first.GivenName, first.FamilyName, first.Email, first.Phone = "Alva", "Berg", "alva@example.se", "0701234567"
	one, err := svc.Start(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	// The first pathway ended; another centre refers the same person with other details.
	if _, err := svc.Pool.Exec(ctx, `UPDATE pathways SET status = 'closed', phase = 'closed' WHERE case_id = $1`, one.CaseID); err != nil {
		t.Fatal(err)
	}
	second := first
	second.GivenName, second.FamilyName, second.Email, second.Phone, second.District = "Someone", "Else", "other@example.se", "0709999999", "Hisingen"
	two, err := svc.Start(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if two.CentreID == one.CentreID {
		t.Fatalf("both cases at %s; the test wants another centre", two.CentreID)
	}
	p, err := store.GetParticipantByCase(ctx, svc.Pool, svc.Keys, two.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if p.GivenName != "Alva" || p.FamilyName != "Berg" || p.Email != "alva@example.se" || p.Phone != "0701234567" || p.District != "Angered" {
		t.Errorf("registered details overwritten: %s %s %s %s %s", p.GivenName, p.FamilyName, p.Email, p.Phone, p.District)
	}
	audit, err := store.ListAudit(ctx, svc.Pool, store.AuditFilter{CaseID: two.CaseID})
	if err != nil || len(audit) != 1 {
		t.Fatalf("audit rows %+v %v", audit, err)
	}
	if audit[0].Detail["existing_participant"] != true || audit[0].Detail["details_differ"] != true {
		t.Errorf("audit detail %v", audit[0].Detail)
	}
}
