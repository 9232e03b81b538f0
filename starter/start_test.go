package starter

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// The CLI start and the CSV import both record the consent and the audit
// row, through the one case service (the API's is tested in api/).
func TestStartPathsRecordConsentAndAudit(t *testing.T) {
	ctx := context.Background()
	pool, url := testenv.Database(t)
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database.URL, cfg.Temporal.Address, cfg.Temporal.TaskQueue = url, testenv.TemporalAddress(t), testenv.TaskQueue(t)
	cfg.Programs.Dir = "../programmes/definitions"
	setup := func(*cobra.Command) (*config.Config, *zap.Logger, error) { return cfg, zap.NewNop(), nil }

	cli := startCmd(setup)
	var out strings.Builder
	cli.SetOut(&out)
	cli.SetArgs([]string{"--personal-number", pnr(1), "--given-name", "Alva", "--family-name", "Berg", "--district", "Angered",
		"--source", "social_services", "--consent", "--staff", "coach.angered", "--json"})
	if err := cli.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	svc := service(t)
	svc.Pool = pool
	svc.TaskQueue = cfg.Temporal.TaskQueue
	csv := "personal_number,given_name,family_name,district,source,consent\n" + pnr(2) + ",Bo,Ek,Angered,social_services,yes\n"
	if _, err := Import(ctx, svc, strings.NewReader(csv), ImportOptions{StaffID: "coach.angered"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ pnr, action string }{{pnr(1), store.AuditStartPathway}, {pnr(2), store.AuditImport}} {
		caseID, err := store.ActivePathwayFor(ctx, pool, svc.Keys, c.pnr)
		if err != nil {
			t.Fatalf("%s: no case: %v", c.action, err)
		}
		row, err := store.GetPathway(ctx, pool, caseID)
		if err != nil {
			t.Fatal(err)
		}
		consents, err := store.Consents(ctx, pool, uuid.MustParse(row.ParticipantID))
		if err != nil || len(consents) != 1 || consents[0].RegisteredBy != "coach.angered" {
			t.Errorf("%s: consents %+v %v", c.action, consents, err)
		}
		audit, err := store.ListAudit(ctx, pool, store.AuditFilter{CaseID: caseID})
		if err != nil || len(audit) != 1 || audit[0].Action != c.action || audit[0].StaffID != "coach.angered" || audit[0].ParticipantID == nil {
			t.Errorf("%s: audit %+v %v", c.action, audit, err)
		}
	}
}
