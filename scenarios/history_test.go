package scenarios

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps/manual"
	"github.com/pathways-se/pathways/store"
)

var updateHistories = flag.Bool("update-histories", false, "rewrite workflows/testdata/*.json from fresh runs")

// run is one workflow run's history.
type run struct {
	RunID  string
	Events []*historypb.HistoryEvent
}

// histories returns every run of a workflow, oldest first, following the
// continue-as-new chain back from the latest run.
func histories(tb testing.TB, s *system, workflowID string) []run {
	ctx := context.Background()
	var runs []run
	runID := ""
	for {
		it := s.tc.GetWorkflowHistory(ctx, workflowID, runID, false, 0)
		var r run
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				tb.Fatal(err)
			}
			r.Events = append(r.Events, e)
		}
		if len(r.Events) == 0 {
			break
		}
		runs = append([]run{r}, runs...)
		prev := r.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			break
		}
		runID = prev
	}
	return runs
}

func historySize(events []*historypb.HistoryEvent) int {
	n := 0
	for _, e := range events {
		n += proto.Size(e)
	}
	return n
}

// longestScenario plays an 18-month pathway with six steps, monthly
// check-ins and two pauses, compressed to 0.05 s a day, and returns its runs.
// A month lasts 1.5 s, so each month's staff actions fit in it even on a
// loaded CI machine (at 0.02 s they did not, and steps were cut short).
func longestScenario(tb testing.TB) (*system, string, []run) {
	const secondsPerDay = 0.05
	s := newSystem(tb, secondsPerDay)
	ctx := context.Background()
	started, err := s.cases.Start(ctx, referral(personalNumber()))
	if err != nil {
		tb.Fatal(err)
	}
	id := started.CaseID
	s.update(tb, id, pathway.UpdateFirstContact, pathway.FirstContact{Actor: coach})
	s.update(tb, id, pathway.UpdateMapping, pathway.Mapping{Actor: coach, Abilities: []string{"care"}, EducationLevel: "2", Language: "sv:B1", Goals: "assistant nurse"})
	var plan []pathway.StepSpec
	for i := 1; i <= 6; i++ {
		plan = append(plan, pathway.StepSpec{ID: fmt.Sprintf("m%d", i), Type: manual.Name, DurationDays: 60, Params: map[string]string{"description": "measure"}})
	}
	s.update(tb, id, pathway.UpdateApprovePlan, pathway.Plan{Actor: coach, TargetSSYK: "5321", Steps: plan})

	month := time.Duration(30 * secondsPerDay * float64(time.Second))
	confirmed := 0
	for m := 1; m <= 19; m++ {
		time.Sleep(month)
		row := s.waitRow(tb, id, "any", func(store.PathwayRow) bool { return true })
		if row.Status == "closed" {
			break
		}
		// Monthly check-in: the sweep escalates, staff answer it.
		rule := fmt.Sprintf("check_in_%d", m)
		if err := s.tc.SignalWorkflow(ctx, started.WorkflowID, "", pathway.SignalEscalate, pathway.Escalation{Rule: rule, Level: 1, Role: "job_coach", Reason: "monthly check-in"}); err != nil {
			tb.Fatal(err)
		}
		var st pathway.Status
		key := id + ":escalation:" + rule + ":1"
		for i := 0; i < 50; i++ {
			if err = s.tryUpdate(id, "", pathway.UpdateCompleteTask, pathway.CompleteTask{Actor: coach, TaskKey: key}, &st); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		switch m {
		case 5, 10:
			if err := s.tryUpdate(id, "", pathway.UpdatePause, pathway.Pause{Actor: coach, Reason: pathway.PauseSick}, &st); err != nil {
				tb.Fatalf("pause in month %d: %v", m, err)
			}
		case 6, 11:
			if err := s.tryUpdate(id, "", pathway.UpdateResume, coach, &st); err != nil {
				tb.Fatalf("resume in month %d: %v", m, err)
			}
		}
		if row.CurrentStep != "" && m%2 == 0 && confirmed < 6 {
			var out string
			if s.tryUpdate(id, pathway.StepWorkflowID(id, row.CurrentStep), manual.UpdateConfirm, manual.Confirm{Actor: coach, Outcome: pathway.StepCompleted}, &out) == nil {
				confirmed++
			}
		}
	}
	var final pathway.Status
	if err := s.tc.GetWorkflow(ctx, started.WorkflowID, "").Get(ctx, &final); err != nil {
		tb.Fatal(err)
	}
	if final.ClosureReason != pathway.CloseTimeLimit {
		tb.Fatalf("the long pathway closed as %q, want time_limit", final.ClosureReason)
	}
	if confirmed != 6 {
		tb.Fatalf("%d of 6 steps ran to completion", confirmed)
	}
	return s, started.WorkflowID, histories(tb, s, started.WorkflowID)
}

// The parent's history stays under 2,000 events per run over a whole
// 18-month pathway.
func TestLongestPathwayHistoryStaysSmall(t *testing.T) {
	_, wfID, runs := longestScenario(t)
	total := 0
	for i, r := range runs {
		total += len(r.Events)
		if len(r.Events) >= 2000 {
			t.Errorf("run %d has %d events, want under 2,000", i+1, len(r.Events))
		}
	}
	t.Logf("%s: %d run(s), %d events in all", wfID, len(runs), total)
	// Started at the change level of every guarded change, the pathway asks
	// no version of Temporal: no marker, no search-attribute update.
	for i, r := range runs {
		if n := versionMarks(r); n != 0 {
			t.Errorf("run %d records %d version markers or search-attribute updates, want none", i+1, n)
		}
	}
	if *updateHistories {
		for i, r := range runs {
			writeHistory(t, fmt.Sprintf("long-pathway-run%d.json", i+1), r)
		}
	}
}

func writeHistory(tb testing.TB, name string, r run) {
	// Committed decoded: the payloads are encrypted under this run's keys.
	h := &historypb.History{Events: r.Events}
	if err := codec.New(testenv.Keyring(tb)).DecodeInPlace(context.Background(), h); err != nil {
		tb.Fatal(err)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		tb.Fatal(err)
	}
	// A pathway started at a change level records no version markers, so
	// its history is another case for replay than one from before levels.
	if level := changeLevel(h); level > 0 {
		name = strings.Replace(name, "-run", fmt.Sprintf("-level%d-run", level), 1)
	}
	path := filepath.Join("..", "workflows", "testdata", name)
	if _, err := os.Stat(path); err == nil {
		tb.Logf("%s exists and is kept: a committed history is never rewritten (name a new scenario instead)", path)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// changeLevel is the change level a decoded pathway history started with.
func changeLevel(h *historypb.History) int {
	var in pathway.Start
	for _, p := range h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads() {
		if json.Unmarshal(p.GetData(), &in) == nil {
			return in.ChangeLevel
		}
	}
	return 0
}

// versionMarks counts the version markers and search-attribute updates in
// a run: none in a pathway that started at the level of every change.
func versionMarks(r run) int {
	n := 0
	for _, e := range r.Events {
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" || e.GetUpsertWorkflowSearchAttributesEventAttributes() != nil {
			n++
		}
	}
	return n
}
