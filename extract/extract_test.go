package extract_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/pathways-se/pathways/extract"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func number(serial int) string {
	nine := fmt.Sprintf("900101%03d", serial)
	return "19900101-" + nine[6:] + string(identity.CheckDigit(nine))
}

// The service end to end on a real database: both pathways with their
// decrypted timelines, the printable page escapes what staff typed, the
// rules of Allowed, and a correction that names only the changed fields.
func TestExtractAndRectify(t *testing.T) {
	pool, _ := testenv.Database(t)
	keys := testenv.Keyring(t)
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pnr := number(42)
	var pid uuid.UUID
	for i, c := range []string{"C-X-1", "C-X-2"} {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			pid, err = store.UpsertParticipant(ctx, tx, keys, store.Participant{PersonalNumber: pnr, GivenName: "Maja<script>", FamilyName: "Ek",
				District: "Angered", BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				return err
			}
			return store.InsertPathway(ctx, tx, store.NewPathway{CaseID: c, ParticipantID: pid, CentreID: "gbg-angered", Programme: "adult",
				ProgrammeVersion: 1, Track: pathway.TrackAdult, ReferralSource: pathway.SourceSocialServices, ReferredAt: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Duration(i) * time.Minute)
		p := store.Projection{CaseID: c, Seq: 1, At: at, Status: pathway.Status{Phase: pathway.PhaseClosed, CentreID: "gbg-angered"},
			Event: &store.TimelineEvent{Kind: "closed", Summary: "Closed: moved; note " + c, Actor: "coach.angered"}}
		if err := store.ApplyProjection(ctx, pool, keys, p); err != nil {
			t.Fatal(err)
		}
	}
	svc := &extract.Service{Pool: pool, Keys: keys}
	team, err := store.GetStaff(ctx, pool, "team.angered")
	if err != nil {
		t.Fatal(err)
	}
	who := extract.Requester{Staff: team, Via: "cli"}
	x, err := svc.Build(ctx, who, strings.ReplaceAll(pnr, "-", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Pathways) != 2 || x.Pathways[0].CaseID != "C-X-1" || x.Pathways[1].CaseID != "C-X-2" {
		t.Fatalf("pathways %+v", x.Pathways)
	}
	for _, p := range x.Pathways {
		if len(p.Timeline) != 1 || p.Timeline[0].Summary != "Closed: moved; note "+p.CaseID {
			t.Errorf("%s timeline %+v", p.CaseID, p.Timeline)
		}
	}
	if len(x.Disclosures) != 2 || x.Disclosures[0].System != "social services" {
		t.Errorf("disclosures %+v", x.Disclosures)
	}
	var b strings.Builder
	if err := extract.WriteHTML(&b, x, extract.PageOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "Maja<script>") || !strings.Contains(page, "Maja&lt;script&gt;") || !strings.Contains(page, "note C-X-2") {
		t.Errorf("printable page: %s", page)
	}
	if strings.Contains(page, `name="csrf"`) {
		t.Error("the CLI's page carries the console's correction form")
	}

	// Rules: a coach may not, another centre's team lead may not, a
	// protected identity needs an assignment.
	coach, _ := store.GetStaff(ctx, pool, "coach.angered")
	other, _ := store.GetStaff(ctx, pool, "team.hisingen")
	admin, _ := store.GetStaff(ctx, pool, "admin")
	pws, _ := store.PathwaysOf(ctx, pool, pid)
	for _, c := range []struct {
		st        store.Staff
		protected bool
		ok        bool
	}{{team, false, true}, {admin, false, true}, {coach, false, false}, {other, false, false}, {team, true, false}, {admin, true, false}} {
		if err := extract.Allowed(c.st, pws, c.protected); (err == nil) != c.ok {
			t.Errorf("%s protected=%v: %v", c.st.ID, c.protected, err)
		}
	}
	if _, err := svc.Build(ctx, extract.Requester{Staff: other, Via: "cli"}, pnr); !errors.Is(err, extract.ErrForbidden) {
		t.Errorf("another centre's extract: %v", err)
	}

	name, empty := "Maja", ""
	changed, err := svc.Rectify(ctx, who, pnr, store.Rectification{GivenName: &name, Phone: &empty})
	if err != nil || strings.Join(changed, ",") != "given_name" {
		t.Fatalf("changed %v %v", changed, err)
	}
	p, err := store.GetParticipant(ctx, pool, keys, pid)
	if err != nil || p.GivenName != "Maja" || p.FamilyName != "Ek" {
		t.Errorf("after the correction %+v %v", p, err)
	}
	audit, err := store.ListAudit(ctx, pool, store.AuditFilter{ParticipantID: &pid, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, a := range audit {
		actions[a.Action]++
	}
	if actions[extract.AuditExtract] != 1 || actions[extract.AuditRectify] != 1 || actions[store.AuditDenied] != 1 {
		t.Errorf("audit actions %v", actions)
	}
}
