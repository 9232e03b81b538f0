package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/report"
	"github.com/pathways-se/pathways/store"
)

// reportRow is one pathway written straight into the read model, the way a
// projection leaves it.
type reportRow struct {
	centre, reason string
	ended          bool
	outcome        *pathway.Outcome
}

// insertReportRows writes participants (plain legacy rows without gender,
// so the gender backfill has work) and their pathways, referred in January
// 2026 and closed on 15 March 2026.
func insertReportRows(t *testing.T, e *env, rows []reportRow) {
	t.Helper()
	ctx := context.Background()
	referred := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		for i, r := range rows {
			nine := fmt.Sprintf("850412%03d", 100+i)
			num, err := identity.Parse("19850412-"+nine[6:]+string(identity.CheckDigit(nine)), time.Now())
			if err != nil {
				return err
			}
			pid := uuid.New()
			if _, err := tx.Exec(ctx, `INSERT INTO participants (id, personal_number, given_name, family_name, district, birth_date)
				VALUES ($1,$2,'Report','Person','Angered',$3)`, pid, num.Canonical, num.BirthDate); err != nil {
				return err
			}
			caseID := fmt.Sprintf("2026-R%07d", i)
			if err := store.InsertPathway(ctx, tx, store.NewPathway{CaseID: caseID, ParticipantID: pid, CentreID: r.centre, Programme: "adult",
				ProgrammeVersion: 1, Track: "adult", ReferralSource: "social_services", ReferredAt: referred}); err != nil {
				return err
			}
			var outcome []byte
			if r.outcome != nil {
				outcome, _ = json.Marshal(r.outcome)
			}
			if r.ended {
				if _, err := tx.Exec(ctx, `UPDATE pathways SET status = 'closed', phase = 'closed', closed_at = $2, closure_reason = $3, outcome = $4
					WHERE case_id = $1`, caseID, time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC), r.reason, outcome); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lastedWork(kind, employer string) *pathway.Outcome {
	o := &pathway.Outcome{Kind: kind, EmployerKind: employer, EmploymentForm: pathway.EmploymentUnsubsidised,
		FollowUps: []pathway.FollowUp{{Day: 30, StillThere: true}}}
	if kind == pathway.OutcomeSubsidisedWork {
		o.EmploymentForm, o.Subsidy = pathway.EmploymentSubsidised, "kommunal arbetsmarknadsanställning"
	}
	return o
}

func TestOutcomesPageAndExports(t *testing.T) {
	e := newEnv(t, false)
	csn := true
	var rows []reportRow
	add := func(n int, r reportRow) {
		for i := 0; i < n; i++ {
			rows = append(rows, r)
		}
	}
	// Angered: 40 ended (12 lasting jobs, 5 studies with CSN, 3 municipal
	// jobs that do not count, 20 at the time limit) and 10 still active.
	add(12, reportRow{centre: "gbg-angered", ended: true, reason: "work", outcome: lastedWork(pathway.OutcomeWork, pathway.EmployerRegular)})
	add(5, reportRow{centre: "gbg-angered", ended: true, reason: "studies", outcome: &pathway.Outcome{Kind: pathway.OutcomeStudies, StudyForm: pathway.StudyKomvux, StudentFinance: &csn}})
	add(3, reportRow{centre: "gbg-angered", ended: true, reason: "subsidised_work", outcome: lastedWork(pathway.OutcomeSubsidisedWork, pathway.EmployerMunicipalMeasure)})
	add(20, reportRow{centre: "gbg-angered", ended: true, reason: "time_limit"})
	add(10, reportRow{centre: "gbg-angered"})
	// Hisingen: 3 ended, one to work; too few to show.
	add(1, reportRow{centre: "gbg-hisingen", ended: true, reason: "work", outcome: lastedWork(pathway.OutcomeWork, pathway.EmployerRegular)})
	add(2, reportRow{centre: "gbg-hisingen", ended: true, reason: "moved"})
	insertReportRows(t, e, rows)

	// Rows registered before the gender column get it from the identity number.
	n, err := store.BackfillGender(context.Background(), e.pool, e.api.Keys, 10)
	if err != nil || n != len(rows) {
		t.Fatalf("gender backfill set %d of %d (%v)", n, len(rows), err)
	}
	if again, _ := store.BackfillGender(context.Background(), e.pool, e.api.Keys, 10); again != 0 {
		t.Errorf("a second gender backfill set %d", again)
	}

	manager := e.signIn(t, "manager")
	var rep report.Report
	manager.must(manager.get("/api/v1/outcomes?period=2026"), http.StatusOK).decode(t, &rep)
	tot := rep.Total
	if tot.Participants.N != 53 || tot.Ended.N != 43 || tot.Work.N != 13 || tot.Studies.N != 5 || tot.Success.N != 18 {
		t.Fatalf("total %+v", tot)
	}
	if p := fmt.Sprintf("%.1f", tot.OfEnded.P*100); p != "41.9" {
		t.Errorf("share of ended %s%%, want 41.9%% (18 of 43)", p)
	}
	if p := fmt.Sprintf("%.1f", tot.OfAll.P*100); p != "34.0" {
		t.Errorf("share of all participants %s%%, want 34.0%% (18 of 53)", p)
	}
	if rep.Comparison == nil || rep.Difference == nil {
		t.Errorf("no comparison line: %+v", rep.Comparison)
	}
	gender := rep.Dimension("gender")
	if len(gender.Rows) != 2 || gender.Rows[0].Participants.N+gender.Rows[1].Participants.N != 53 {
		t.Errorf("by gender %+v", gender.Rows)
	}
	for _, row := range rep.Places {
		if row.Label == "gbg-hisingen" && (!row.Ended.Suppressed || !row.OfEnded.Suppressed) {
			t.Errorf("Hisingen's 3 ended are shown: %+v", row)
		}
	}

	// The page, in Swedish: both denominators, labelled; small cells "<5".
	page := string(manager.must(manager.get("/outcomes?period=2026"), http.StatusOK).Body)
	for _, want := range []string{"Andel av avslutade (nationella indikatorn)", "Andel av alla deltagare", "41,9\u00a0%", "34,0\u00a0%",
		"18 av 43 som avslutades", "18 av 53 som deltog", "&lt;5", `<svg role="img" aria-labelledby="trend-title trend-desc"`,
		`<svg role="img" aria-labelledby="flow-title flow-desc"`, `url(#pat-hatch)`, "Västra Götaland", "Årsstatistik"} {
		if !strings.Contains(page, want) {
			t.Errorf("the outcomes page lacks %q", want)
		}
	}
	bad := manager.get("/api/v1/outcomes?period=2026-Q9")
	if bad.Status != http.StatusBadRequest || bad.problem(t).Field != "period" {
		t.Errorf("a bad period: %d %s", bad.Status, bad.Body)
	}
	if p := manager.must(manager.get("/outcomes?period=soon"), http.StatusOK).Body; !contains(p, `id="period-error"`) {
		t.Errorf("the page does not say what is wrong with the period")
	}

	// CSV: the same figures, "<5" in every small cell.
	res := manager.must(manager.get("/api/v1/outcomes?period=2026&format=csv"), http.StatusOK)
	cr := csv.NewReader(bytes.NewReader(res.Body))
	cr.FieldsPerRecord = -1 // the comparison's line is shorter
	table, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(table[0][:9], ",") != "period,grouping,group,participants,active,ended,work,studies,to_work_or_studies" ||
		strings.Join(table[1][:9], ",") != "2026,total,total,53,10,43,13,5,18" {
		t.Errorf("CSV starts %v / %v", table[0], table[1])
	}
	sawHisingen := false
	for _, line := range table[1:] {
		if line[1] == "comparison" {
			continue
		}
		if line[2] == "gbg-hisingen" {
			sawHisingen = true
			if line[5] != "<5" || line[9] != "<5" {
				t.Errorf("CSV shows Hisingen's small numbers: %v", line)
			}
		}
		for _, cell := range line[3:9] {
			var v int
			if _, err := fmt.Sscan(cell, &v); err == nil && v > 0 && v < 5 {
				t.Errorf("a count under 5 in the CSV: %v", line)
			}
		}
	}
	if !sawHisingen {
		t.Errorf("CSV has no line for Hisingen")
	}

	// Excel: the same table, numbers as numbers.
	res = manager.must(manager.get("/api/v1/outcomes?period=2026&format=xlsx"), http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("the Excel export does not open: %v", err)
	}
	if v, _ := f.GetCellValue("Outcomes", "D2"); v != "53" {
		t.Errorf("Excel total participants %q, want 53", v)
	}
	if v, _ := f.GetCellValue("Outcomes", "J2"); v != "41.9" {
		t.Errorf("Excel share of ended %q, want 41.9", v)
	}

	// The annual statistics: by gender and age band, with the indicator.
	res = manager.must(manager.get("/api/v1/outcomes/annual?year=2026&format=csv"), http.StatusOK)
	annual := string(res.Body)
	for _, want := range []string{"year,group,participants,ended,started_work,started_studies", "2026,total,53,43,13,5,18,41.9", "2026,man,", "2026,woman,", "2026,30–49,"} {
		if !strings.Contains(annual, want) {
			t.Errorf("annual statistics lack %q:\n%s", want, annual)
		}
	}
	if _, err := excelize.OpenReader(bytes.NewReader(manager.must(manager.get("/api/v1/outcomes/annual?year=2026&format=xlsx"), http.StatusOK).Body)); err != nil {
		t.Errorf("annual Excel: %v", err)
	}

	// A coach sees their own centre only, and may not ask for another.
	coach := e.signIn(t, "coach.angered")
	var own report.Report
	coach.must(coach.get("/api/v1/outcomes?period=2026"), http.StatusOK).decode(t, &own)
	if own.Total.Participants.N != 50 {
		t.Errorf("coach.angered sees %d participants, want Angered's 50", own.Total.Participants.N)
	}
	coach.must(coach.get("/api/v1/outcomes?period=2026&centre=gbg-hisingen"), http.StatusForbidden)
	coach.must(coach.get("/api/v1/monitor"), http.StatusForbidden)

	// The monitor: managers only; Hisingen's 3 are neither shown nor tested.
	var mon report.Monitor
	manager.must(manager.get("/api/v1/monitor?period=2026"), http.StatusOK).decode(t, &mon)
	for _, c := range mon.Checks {
		if c.Group == "gbg-hisingen" || c.N < 5 || c.RestN < 5 {
			t.Errorf("a group under 5 compared: %+v", c)
		}
	}
	if p := manager.must(manager.get("/monitor?period=2026"), http.StatusOK).Body; !contains(p, "Likabehandlingsmonitor") {
		t.Errorf("the monitor page: %s", p)
	}
}
