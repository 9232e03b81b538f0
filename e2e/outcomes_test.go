package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// TestOutcomesPageInChromium loads the outcomes page and the monitor as a
// manager would: the two denominators side by side, the charts drawn (with
// their text alternatives), the small centre suppressed, the exports and
// the annual statistics' button, the monitor's flagged group.
func TestOutcomesPageInChromium(t *testing.T) {
	ts := testsystem.New(t, testsystem.Options{NoWorker: true})
	s := &api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Cases: ts.Cases(0), Keys: ts.Keys}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	base := srv.URL

	// Angered: 30 ended in Q1 and 10 in Q2, 24 to lasting work, first
	// contact after a day; Hisingen: 30 ended in Q2, 6 to work, first contact after 9
	// days; Öster: 2 ended (too few to show).
	ctx := context.Background()
	i := 0
	add := func(centre string, n, success int, ended time.Time, contactDays int) {
		err := pgx.BeginFunc(ctx, ts.Pool, func(tx pgx.Tx) error {
			for k := 0; k < n; k++ {
				i++
				nine := fmt.Sprintf("850412%03d", 100+i)
				num, err := identity.Parse("19850412-"+nine[6:]+string(identity.CheckDigit(nine)), time.Now())
				if err != nil {
					return err
				}
				pid := uuid.New()
				if _, err := tx.Exec(ctx, `INSERT INTO participants (id, personal_number, given_name, family_name, district, birth_date, gender)
					VALUES ($1,$2,'Chart','Person','Angered',$3,$4)`, pid, num.Canonical, num.BirthDate, identity.Gender(num.Canonical)); err != nil {
					return err
				}
				caseID := fmt.Sprintf("2026-C%07d", i)
				referred := ended.AddDate(0, -3, 0)
				if err := store.InsertPathway(ctx, tx, store.NewPathway{CaseID: caseID, ParticipantID: pid, CentreID: centre, Programme: "adult",
					ProgrammeVersion: 1, Track: "adult", ReferralSource: "social_services", ReferredAt: referred}); err != nil {
					return err
				}
				reason, outcome := "time_limit", []byte(nil)
				if k < success {
					reason = "work"
					outcome, _ = json.Marshal(pathway.Outcome{Kind: pathway.OutcomeWork, EmployerKind: pathway.EmployerRegular,
						EmploymentForm: pathway.EmploymentUnsubsidised, FollowUps: []pathway.FollowUp{{Day: 30, StillThere: true}, {Day: 90, StillThere: true}}})
				}
				if _, err := tx.Exec(ctx, `UPDATE pathways SET status = 'closed', phase = 'closed', closed_at = $2, closure_reason = $3, outcome = $4
					WHERE case_id = $1`, caseID, ended, reason, outcome); err != nil {
					return err
				}
				// The way through: referral, first contact, mapping (plain kinds and times).
				for seq, ev := range []struct {
					kind string
					at   time.Time
				}{{"referral", referred}, {"first_contact", referred.AddDate(0, 0, contactDays)}, {"mapping", referred.AddDate(0, 0, 14)}} {
					if _, err := tx.Exec(ctx, `INSERT INTO timeline (case_id, seq, at, kind, actor, summary_enc) VALUES ($1,$2,$3,$4,'system','\x00')`,
						caseID, seq+1, ev.at, ev.kind); err != nil {
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
	add("gbg-angered", 30, 18, time.Date(2026, 2, 15, 12, 0, 0, 0, time.UTC), 1)
	add("gbg-angered", 10, 6, time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC), 1)
	add("gbg-hisingen", 30, 6, time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC), 9)
	add("gbg-oster", 2, 1, time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC), 1)

	bctx := browser(t)
	if err := cd.Do(bctx,
		cd.Navigate(base+"/outcomes?period=2026"),
		cd.WaitVisible(cd.CSS("#username")),
		cd.SendKeys(cd.CSS("#username"), "manager"),
		cd.SendKeys(cd.CSS("#password"), store.DevPassword),
		cd.Submit(cd.CSS("#password")),
		cd.WaitVisible(cd.CSS("#share-of-ended")),
	); err != nil {
		t.Fatal(err)
	}
	// 31 of 72 who ended: 43.1%; everyone took part and ended, so the share
	// of all participants is the same here, and both are labelled.
	main := textOf(t, bctx, "main")
	for _, want := range []string{"Andel av avslutade (nationella indikatorn)", "Andel av alla deltagare", "31 av 72 som avslutades",
		"Hämta som CSV", "Hämta som Excel", "Hämta årsstatistiken", "<5"} {
		if !strings.Contains(main, want) {
			t.Errorf("the outcomes page lacks %q", want)
		}
	}
	if got := textOf(t, bctx, "#share-of-ended"); !strings.HasPrefix(got, "43,1") {
		t.Errorf("share of ended %q, want 43,1 %%", got)
	}
	// The charts are drawn: a line per centre, the comparison line, bars
	// with patterns, and each has a title and description.
	for _, q := range []struct{ js, what string }{
		{`document.querySelectorAll('svg[aria-labelledby="trend-title trend-desc"] polyline').length >= 1`, "a centre's line"},
		{`document.querySelectorAll('svg[aria-labelledby="trend-title trend-desc"] line[stroke-dasharray="14 6"]').length >= 1`, "the comparison line"},
		{`document.querySelectorAll('svg[aria-labelledby="flow-title flow-desc"] rect[fill^="url(#pat-"]').length === 7`, "seven patterned flow bars"},
		{`document.querySelector('#trend-desc').textContent.includes('gbg-angered')`, "the trend chart's description"},
		{`document.querySelector('svg[aria-labelledby="flow-title flow-desc"]').getBoundingClientRect().width > 300`, "a visible flow chart"},
		{`document.querySelector('#export-xlsx').getAttribute('href').includes('format=xlsx')`, "the Excel link"},
	} {
		ok, err := cd.Run(bctx, cd.Evaluate[bool](q.js))
		if err != nil || !ok {
			t.Errorf("%s: %v %v", q.what, ok, err)
		}
	}

	// The monitor flags Hisingen's slow first contact and lower indicator.
	if err := cd.Do(bctx, cd.Navigate(base+"/monitor?period=2026"), cd.WaitVisible(cd.CSS("#flagged"))); err != nil {
		t.Fatal(err)
	}
	flagged := textOf(t, bctx, "#flagged")
	if !strings.Contains(flagged, "gbg-hisingen") || !strings.Contains(flagged, "tid till första kontakt") {
		t.Errorf("monitor flagged: %q", flagged)
	}
	if strings.Contains(textOf(t, bctx, "main"), "gbg-oster") {
		t.Errorf("Öster's 2 are shown on the monitor")
	}
	ok, err := cd.Run(bctx, cd.Evaluate[bool](`document.querySelectorAll('svg[aria-labelledby="monitor-title monitor-desc"] rect[fill="url(#pat-hatch)"]').length >= 1`))
	if err != nil || !ok {
		t.Errorf("the monitor's patterned bar chart: %v %v", ok, err)
	}
}
