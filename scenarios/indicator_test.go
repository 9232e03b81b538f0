package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/api"
	"github.com/pathways-se/pathways/internal/testsystem"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/report"
	"github.com/pathways-se/pathways/store"
)

// TestIndicatorCountsEachWayAPathwayEnds runs seven pathways through the
// real workflow and the API, each ending one way, and checks what the
// national indicator makes of each from the read model: only regular work
// that lasted a month (subsidised or not) and studies with student finance
// count; everything else that ended is in the denominator only.
func TestIndicatorCountsEachWayAPathwayEnds(t *testing.T) {
	const secondsPerDay = 0.05 // day 30 after 1.5 s, the 548-day limit after 27 s
	ts := testsystem.New(t, testsystem.Options{})
	cs := ts.Cases(secondsPerDay)
	srv := httptest.NewServer((&api.Server{Config: ts.Config, Pool: ts.Pool, Temporal: ts.Temporal, Log: zap.NewNop(), Keys: ts.Keys,
		Cases: cs, UpdateTimeout: 30 * time.Second}).Handler())
	t.Cleanup(srv.Close)
	rig := &privacyRig{ts: ts, srv: srv}
	coach := rig.signIn(t, "coach.angered")
	s := &system{pool: ts.Pool, tc: ts.Temporal}

	yes, no := true, false
	regular := map[string]any{"kind": "work", "employer": "Åkeri AB", "ssyk": "8332", "employer_kind": "regular", "employment_form": "unsubsidised"}
	type ending struct {
		name    string
		outcome map[string]any   // nil: no outcome
		answers []bool           // follow-up answers, day 30 then day 90
		close   string           // a closure staff ask for afterwards
		counts  bool             // in the numerator
		history string           // record this pathway's history under this name
		refused []map[string]any // outcomes the validator refuses first, naming the field
	}
	endings := []ending{
		{name: "regular job lasting 5 weeks", outcome: regular, answers: []bool{true, false}, counts: true},
		{name: "regular job lapsed at the 30-day follow-up", outcome: regular, answers: []bool{false}, close: "declined"},
		{name: "subsidised job with a private employer", outcome: map[string]any{"kind": "subsidised_work", "employer": "Bygg AB",
			"employer_kind": "regular", "employment_form": "subsidised", "subsidy": "nystartsjobb"}, answers: []bool{true, true}, counts: true,
			history: "outcome-details-subsidised-run%d.json",
			refused: []map[string]any{{"kind": "subsidised_work", "employer": "Bygg AB", "employer_kind": "regular", "employment_form": "subsidised"},
				{"kind": "subsidised_work", "employer": "Bygg AB", "subsidy": "nystartsjobb"}}},
		{name: "the municipality's own labour-market job", outcome: map[string]any{"kind": "subsidised_work", "employer": "Göteborgs Stad",
			"employer_kind": "municipal_measure", "employment_form": "subsidised", "subsidy": "kommunal arbetsmarknadsanställning"}, answers: []bool{true, true}},
		{name: "Komvux with student finance", outcome: map[string]any{"kind": "studies", "employer": "Komvux Göteborg", "study_form": "komvux",
			"student_finance": yes}, answers: []bool{true, true}, counts: true,
			refused: []map[string]any{{"kind": "studies", "employer": "Komvux Göteborg", "study_form": "komvux"}}},
		{name: "a course without student finance", outcome: map[string]any{"kind": "studies", "employer": "Kursgården", "study_form": "other",
			"student_finance": no}, answers: []bool{true, true}},
		{name: "time limit"},
	}
	refusedField := map[int][]string{2: {"subsidy", "employer_kind"}, 4: {"student_finance"}}

	caseOf := make([]string, len(endings))
	var wg sync.WaitGroup
	errs := make(chan error, len(endings))
	for i, e := range endings {
		// Start through the API, first contact, mapping: the case is in planning.
		p := newPerson(fmt.Sprint("i", i))
		id := rig.start(t, coach, p)
		caseOf[i] = id
		base := "/api/v1/pathways/" + id
		for j, bad := range e.refused {
			bad["start_date"] = time.Now().Format(time.DateOnly)
			status, body := coach.try(base+"/outcome", bad)
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, refusedField[i][j]) {
				t.Errorf("%s: an outcome without %s answered %d %s", e.name, refusedField[i][j], status, body)
			}
		}
		if e.outcome == nil {
			continue
		}
		e.outcome["start_date"] = time.Now().Format(time.DateOnly)
		coach.post(base+"/outcome", e.outcome, http.StatusOK, nil)
		wg.Add(1)
		go func(e ending, id string) {
			defer wg.Done()
			for n, still := range e.answers {
				day := []int{30, 90}[n]
				if err := waitForTask(ts.Pool, id, "follow_up"); err != nil {
					errs <- fmt.Errorf("%s: %w", e.name, err)
					return
				}
				if status, body := coach.try(casePath(id)+"/follow-up", map[string]any{"day": day, "still_there": still}); status != http.StatusOK {
					errs <- fmt.Errorf("%s: follow-up day %d: %d %s", e.name, day, status, body)
					return
				}
			}
			if e.close != "" {
				if status, body := coach.try(casePath(id)+"/close", map[string]any{"reason": e.close}); status != http.StatusOK {
					errs <- fmt.Errorf("%s: close: %d %s", e.name, status, body)
				}
			}
		}(e, id)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, e := range endings {
		row := s.waitRow(t, caseOf[i], e.name+" closed", func(r store.PathwayRow) bool { return r.Status == "closed" })
		if e.name == "time limit" && row.ClosureReason != pathway.CloseTimeLimit {
			t.Errorf("time limit: closed as %q", row.ClosureReason)
		}
	}
	for i, e := range endings {
		if e.history != "" && *updateHistories {
			for n, r := range histories(t, s, pathway.WorkflowID(caseOf[i])) {
				writeHistory(t, fmt.Sprintf(e.history, n+1), r)
			}
		}
	}

	// What the indicator makes of each, from the read model.
	now := time.Now()
	ps, err := store.ReportParticipants(context.Background(), ts.Pool, store.ReportScope{From: now.AddDate(0, 0, -1), To: now.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	byCase := map[string]report.Participant{}
	for _, p := range ps {
		byCase[p.CaseID] = p
	}
	want := 0
	for i, e := range endings {
		p, ok := byCase[caseOf[i]]
		if !ok {
			t.Errorf("%s: not in the report's participants", e.name)
			continue
		}
		c := p.Counts()
		if !c.Ended || c.ToWorkOrStudies() != e.counts {
			t.Errorf("%s: counted %+v (closure %s, outcome %+v), want ended and to work or studies = %v", e.name, c, p.ClosureReason, p.Outcome, e.counts)
		}
		if e.counts {
			want++
		}
		if p.Gender != report.Man && p.Gender != report.Woman {
			t.Errorf("%s: gender %q not set at registration", e.name, p.Gender)
		}
	}
	per := report.Range(now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	r := report.Build(ps, report.Query{Period: per})
	if r.Total.Ended.N != 7 || r.Total.Success.N != want || want != 3 {
		t.Errorf("report: ended %d, to work or studies %d; want 7 and 3", r.Total.Ended.N, r.Total.Success.N)
	}
	// The API says the same, suppressed: 3 of 7 are fewer than five people.
	status, body := coach.get("/api/v1/outcomes?period=" + per.From.Format(time.DateOnly) + ".." + per.To.AddDate(0, 0, -1).Format(time.DateOnly))
	if status != http.StatusOK || !strings.Contains(body, `"ended":{"n":7,`) || !strings.Contains(body, `"to_work_or_studies":{"n":null,"suppressed":true`) {
		t.Errorf("API outcomes: %d %s", status, body)
	}
}

func casePath(id string) string { return "/api/v1/pathways/" + id }

// try sends a JSON body and returns the answer, whatever it is.
func (c *staffClient) try(path string, body any) (int, string) {
	c.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// get reads a page or a JSON answer.
func (c *staffClient) get(path string) (int, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// waitForTask waits for an open task of the kind on the case.
func waitForTask(pool store.Querier, id, kind string) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM tasks WHERE case_id = $1 AND kind = $2 AND status = 'open'`, id, kind).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no open %s task on %s", kind, id)
}
