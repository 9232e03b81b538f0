package store_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// testNumber is a valid personal number of someone born on 1985-04-12.
func testNumber(serial int) string {
	nine := fmt.Sprintf("850412%03d", serial)
	return "19850412-" + nine[6:] + string(identity.CheckDigit(nine))
}

var birth = time.Date(1985, 4, 12, 0, 0, 0, 0, time.UTC)

// startCase writes a participant and an active pathway the way cases.Start does.
func startCase(t *testing.T, pool *pgxpool.Pool, keys *keyring.Ring, caseID string, p store.Participant) (uuid.UUID, error) {
	t.Helper()
	var pid uuid.UUID
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		if pid, err = store.UpsertParticipant(context.Background(), tx, keys, p); err != nil {
			return err
		}
		return store.InsertPathway(context.Background(), tx, store.NewPathway{CaseID: caseID, ParticipantID: pid, CentreID: "gbg-angered",
			Programme: "adult", ProgrammeVersion: 1, Track: pathway.TrackAdult, ReferralSource: pathway.SourceSocialServices, ReferredAt: time.Now()})
	})
	return pid, err
}

// rawText is every column of a table's rows as text, the way anyone with
// database access (or a backup) would read them.
func rawText(t *testing.T, pool *pgxpool.Pool, table string) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT COALESCE(string_agg(t::text, E'\n'), '') FROM `+table+` t`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// holds reports whether raw text holds secret as text or as bytea hex.
func holds(raw, secret string) bool {
	return strings.Contains(raw, secret) || strings.Contains(raw, hex.EncodeToString([]byte(secret)))
}

// Identifiers and staff free text are stored sealed only; the blind index
// finds the person and keeps one active pathway per person; a sealed value
// moved to another column does not open.
func TestIdentifiersEncryptedAtRest(t *testing.T) {
	pool, _ := testenv.Database(t)
	keys := testenv.Keyring(t)
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pnr := testNumber(123)
	in := store.Participant{PersonalNumber: pnr, GivenName: "Ingrid", FamilyName: "Lindqvist", Email: "ingrid.lindqvist@example.se",
		Phone: "+46701234567", District: "Angered", BirthDate: birth}
	pid, err := startCase(t, pool, keys, "C-ENC-1", in)
	if err != nil {
		t.Fatal(err)
	}
	note := "Says her back pain stops her lifting"
	data, _ := json.Marshal(map[string]string{"note": note})
	if err := store.ApplyProjection(ctx, pool, keys, store.Projection{CaseID: "C-ENC-1", Seq: 1, At: time.Now(),
		Status: pathway.Status{Phase: pathway.PhaseFollowUp, CentreID: "gbg-angered", Outcome: &pathway.Outcome{Kind: "work",
			FollowUps: []pathway.FollowUp{{Day: 30, StillThere: true, Note: note}}}},
		Event: &store.TimelineEvent{Kind: "follow_up", Summary: "Follow-up; " + note, Actor: "coach.angered", Data: data}}); err != nil {
		t.Fatal(err)
	}

	raw := rawText(t, pool, "participants") + rawText(t, pool, "timeline") + rawText(t, pool, "pathways")
	for _, secret := range []string{pnr, strings.ReplaceAll(pnr, "-", ""), in.GivenName, in.FamilyName, in.Email, in.Phone, note} {
		if holds(raw, secret) {
			t.Errorf("%q is stored in plain text", secret)
		}
	}

	if row, err := store.GetPathway(ctx, pool, "C-ENC-1"); err != nil || row.Outcome == nil || len(row.Outcome.FollowUps) != 1 || !row.Outcome.FollowUps[0].StillThere {
		t.Errorf("outcome without its note: %+v %v", row.Outcome, err)
	}
	got, err := store.GetParticipantByCase(ctx, pool, keys, "C-ENC-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.PersonalNumber != pnr || got.GivenName != in.GivenName || got.FamilyName != in.FamilyName || got.Email != in.Email || got.Phone != in.Phone {
		t.Errorf("read back %+v", got)
	}
	tl, err := store.Timeline(ctx, pool, keys, "C-ENC-1")
	if err != nil || len(tl) != 1 || !strings.Contains(tl[0].Summary, note) || !bytes.Contains(tl[0].Data, []byte(note)) {
		t.Fatalf("timeline %+v %v", tl, err)
	}
	if found, err := store.FindParticipant(ctx, pool, keys, pnr); err != nil || found.ID != pid {
		t.Errorf("lookup by personal number: %v %v", found.ID, err)
	}
	if _, err := store.FindParticipant(ctx, pool, keys, testNumber(124)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lookup of someone else: %v", err)
	}
	if c, err := store.ActivePathwayFor(ctx, pool, keys, pnr); err != nil || c != "C-ENC-1" {
		t.Errorf("active pathway for: %q %v", c, err)
	}
	// The same person again: the same row, and no second active pathway.
	_, err = startCase(t, pool, keys, "C-ENC-2", in)
	if !errors.Is(err, store.ErrActivePathway) {
		t.Errorf("second active pathway: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM participants`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d participants, want 1 (%v)", n, err)
	}

	// A sealed given name copied into the family name column does not open.
	if _, err := pool.Exec(ctx, `UPDATE participants SET family_name_enc = given_name_enc WHERE id = $1`, pid); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetParticipant(ctx, pool, keys, pid); err == nil {
		t.Error("a value moved to another column opened")
	}
}

// legacyParticipant writes a row the way the code before encryption did.
func legacyParticipant(t *testing.T, pool *pgxpool.Pool, caseID, pnr, given string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO participants (id, personal_number, given_name, family_name, email, phone, district, birth_date)
		VALUES ($1,$2,$3,'Legacy',$4,'0701','Angered',$5)`, id, pnr, given, strings.ToLower(given)+"@example.se", birth); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO pathways (case_id, participant_id, centre_id, workflow_id, programme, track, phase, referral_source, referred_at)
		VALUES ($1,$2,'gbg-angered',$3,'adult','adult','referral','social_services',now())`, caseID, id, "pathway-"+caseID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE pathways SET outcome = $2 WHERE case_id = $1`, caseID,
		`{"kind":"work","follow_ups":[{"day":30,"still_there":true,"note":"`+given+` likes it"},{"day":90,"still_there":true}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO timeline (case_id, seq, at, kind, summary, data) VALUES ($1, 1, now(), 'mapping', $2, $3)`,
		caseID, "Mapping recorded for "+given, `{"goals":"`+given+` wants to drive a bus"}`); err != nil {
		t.Fatal(err)
	}
	return id
}

// Rows written before encryption are converted in batches by the backfill:
// readers see them throughout, an interrupted run resumes, a second run
// changes nothing, and starting the same person again finds the old row.
func TestBackfillEncryption(t *testing.T) {
	pool, _ := testenv.Database(t)
	keys := testenv.Keyring(t)
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	const n = 7
	given := func(i int) string { return fmt.Sprintf("Legacyname%c", 'A'+i) }
	ids := map[string]uuid.UUID{}
	for i := 0; i < n; i++ {
		ids[given(i)] = legacyParticipant(t, pool, fmt.Sprintf("C-OLD-%d", i), testNumber(200+i), given(i))
	}
	check := func(when string) {
		t.Helper()
		for i := 0; i < n; i++ {
			p, err := store.GetParticipantByCase(ctx, pool, keys, fmt.Sprintf("C-OLD-%d", i))
			if err != nil || p.PersonalNumber != testNumber(200+i) || p.GivenName != given(i) || p.Email != strings.ToLower(given(i))+"@example.se" {
				t.Fatalf("%s: participant %d reads %+v %v", when, i, p, err)
			}
			tl, err := store.Timeline(ctx, pool, keys, fmt.Sprintf("C-OLD-%d", i))
			if err != nil || len(tl) != 1 || tl[0].Summary != "Mapping recorded for "+given(i) || !bytes.Contains(tl[0].Data, []byte("drive a bus")) {
				t.Fatalf("%s: timeline %d reads %+v %v", when, i, tl, err)
			}
		}
	}
	check("before")

	// Interrupted after its first batch of three.
	stop, cancel := context.WithCancel(ctx)
	var seen []store.BackfillProgress
	err := store.BackfillEncryption(stop, pool, keys, 3, func(p store.BackfillProgress) {
		seen = append(seen, p)
		cancel()
	})
	if err == nil {
		t.Fatal("the interrupted run reported success")
	}
	left, err := store.PlainRemaining(ctx, pool)
	if err != nil || left.Participants != n-3 || left.Timeline != n || left.OutcomeNotes != n {
		t.Fatalf("after the interruption: %+v plain (%v); progress %+v", left, err, seen)
	}
	check("interrupted")

	// The person of a row not yet converted is started again: the old row
	// is converted and reused, not duplicated.
	var plainPNR string
	if err := pool.QueryRow(ctx, `SELECT personal_number FROM participants WHERE personal_number_enc IS NULL LIMIT 1`).Scan(&plainPNR); err != nil {
		t.Fatal(err)
	}
	if c, err := store.ActivePathwayFor(ctx, pool, keys, plainPNR); err != nil || !strings.HasPrefix(c, "C-OLD-") {
		t.Errorf("active pathway of an unconverted row: %q %v", c, err)
	}

	var progress []store.BackfillProgress
	if err := store.BackfillEncryption(ctx, pool, keys, 3, func(p store.BackfillProgress) { progress = append(progress, p) }); err != nil {
		t.Fatal(err)
	}
	if left, err := store.PlainRemaining(ctx, pool); err != nil || left != (store.Plain{}) {
		t.Fatalf("after the resumed run: %+v plain (%v)", left, err)
	}
	converted := map[string]int{}
	for _, p := range progress {
		converted[p.Table] = p.Converted
		if p.Remaining != 0 && p.Converted%3 != 0 {
			t.Errorf("a batch ended short with rows remaining: %+v", p)
		}
	}
	if converted["participants"] != n-3 || converted["timeline"] != n || converted["pathways"] != n {
		t.Errorf("progress %+v", progress)
	}
	check("converted")
	for i := 0; i < n; i++ {
		row, err := store.GetPathway(ctx, pool, fmt.Sprintf("C-OLD-%d", i))
		if err != nil || row.Outcome == nil || len(row.Outcome.FollowUps) != 2 || row.Outcome.FollowUps[1].Day != 90 || row.Outcome.Kind != "work" {
			t.Fatalf("outcome %d after the backfill: %+v %v", i, row.Outcome, err)
		}
	}
	raw := rawText(t, pool, "participants") + rawText(t, pool, "timeline") + rawText(t, pool, "pathways")
	for i := 0; i < n; i++ {
		if holds(raw, given(i)) || holds(raw, testNumber(200+i)) {
			t.Fatalf("participant %d still in plain text", i)
		}
	}

	// A second run is a no-op: nothing is rewritten (sealing is randomised,
	// so any rewrite would change the bytes).
	before := rawText(t, pool, "participants") + rawText(t, pool, "timeline") + rawText(t, pool, "pathways")
	progress = nil
	if err := store.BackfillEncryption(ctx, pool, keys, 3, func(p store.BackfillProgress) { progress = append(progress, p) }); err != nil {
		t.Fatal(err)
	}
	if after := rawText(t, pool, "participants") + rawText(t, pool, "timeline") + rawText(t, pool, "pathways"); after != before {
		t.Error("the second run rewrote rows")
	}
	for _, p := range progress {
		if p.Converted != 0 {
			t.Errorf("second run converted %+v", p)
		}
	}
	var count int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM participants`).Scan(&count); err != nil || count != n {
		t.Errorf("%d participants, want %d", count, n)
	}
}

// A legacy row's person started again before the backfill reached them is
// the same participant, now encrypted, with their registered details kept
// (a new referral never overwrites them; a correction is its own action).
func TestUpsertConvertsLegacyRow(t *testing.T) {
	pool, _ := testenv.Database(t)
	keys := testenv.Keyring(t)
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	old := legacyParticipant(t, pool, "C-OLD-1", testNumber(301), "Oldname")
	if _, err := pool.Exec(ctx, `UPDATE pathways SET status = 'closed' WHERE case_id = 'C-OLD-1'`); err != nil {
		t.Fatal(err)
	}
	pid, err := startCase(t, pool, keys, "C-NEW-1", store.Participant{PersonalNumber: testNumber(301), GivenName: "Newname", FamilyName: "Legacy",
		District: "Angered", BirthDate: birth})
	if err != nil {
		t.Fatal(err)
	}
	if pid != old {
		t.Fatalf("a second participant %s for the person of %s", pid, old)
	}
	p, err := store.GetParticipant(ctx, pool, keys, pid)
	if err != nil || p.GivenName != "Oldname" || p.PersonalNumber != testNumber(301) {
		t.Fatalf("read %+v %v", p, err)
	}
	if left, _ := store.PlainRemaining(ctx, pool); left.Participants != 0 {
		t.Errorf("%d participants still plain", left.Participants)
	}
}

// Rows sealed under an old key still open after a new key becomes current,
// the blind index (its key does not rotate) still finds the person, and a
// rewrite seals under the new key.
func TestParticipantsAfterKeyRotation(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	if err := store.SeedDemo(ctx, pool); err != nil {
		t.Fatal(err)
	}
	f1 := keyring.Generate("k1")
	k1, err := f1.Ring()
	if err != nil {
		t.Fatal(err)
	}
	pnr := testNumber(401)
	pid, err := startCase(t, pool, k1, "C-ROT-1", store.Participant{PersonalNumber: pnr, GivenName: "Rota", FamilyName: "Tion", District: "Angered", BirthDate: birth})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := f1.Rotate("k2")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := f2.Ring()
	if err != nil {
		t.Fatal(err)
	}
	keyOf := func(col string) string {
		t.Helper()
		var sealed []byte
		if err := pool.QueryRow(ctx, `SELECT `+col+` FROM participants WHERE id = $1`, pid).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		id, err := keyring.SealedKeyID(sealed)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if keyOf("given_name_enc") != "k1" {
		t.Fatal("not written under k1")
	}
	p, err := store.FindParticipant(ctx, pool, k2, pnr)
	if err != nil || p.ID != pid || p.GivenName != "Rota" || p.PersonalNumber != pnr {
		t.Fatalf("after rotation: %+v %v", p, err)
	}
	name := "Rotad"
	if _, err := store.RectifyParticipant(ctx, pool, k2, pid, store.Rectification{GivenName: &name}); err != nil {
		t.Fatal(err)
	}
	if keyOf("given_name_enc") != "k2" || keyOf("personal_number_enc") != "k2" {
		t.Error("a rewrite did not seal under the current key")
	}
	if _, err := store.GetParticipant(ctx, pool, k1, pid); err == nil {
		t.Error("a ring without k2 opened values sealed under k2")
	}
}
