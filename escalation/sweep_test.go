package escalation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/escalation/contract"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// world is an in-memory read model plus a model of the pathway's escalate
// handler: enough to run the sweep workflow over simulated days.
type world struct {
	mu       sync.Mutex
	now      time.Time // the current sweep's time
	cases    map[string]*fakeCase
	esc      map[string]store.EscalationRow // key case/rule/level: UNIQUE (case_id, rule, level)
	tasks    map[string]*fakeTask
	stalls   map[string][]store.Stall
	sweeps   map[string]store.SweepCounts
	signals  []pathway.Escalation // accepted by a pathway
	received map[string]int       // every signal, by case/rule/level
	notices  []Notice
}

type fakeCase struct {
	id, centre   string
	lastProgress time.Time
	cols         map[string]time.Time // rule -> the rule's column (due, end, ...)
	wfEsc        []pathway.Escalation // the workflow's own memory, cleared by calm
	closed       bool
}

type fakeTask struct {
	status string
	due    time.Time
}

func newWorld() *world {
	return &world{cases: map[string]*fakeCase{}, esc: map[string]store.EscalationRow{}, tasks: map[string]*fakeTask{},
		stalls: map[string][]store.Stall{}, sweeps: map[string]store.SweepCounts{}, received: map[string]int{}}
}

func (w *world) add(id, centre string, lastProgress time.Time, cols map[string]time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cases[id] = &fakeCase{id: id, centre: centre, lastProgress: lastProgress, cols: cols}
}

// progress is what the pathway does on progress: calm() and a projection.
func (w *world) progress(id string, at time.Time, clearRule string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.cases[id]
	c.lastProgress = at
	c.wfEsc = nil
	delete(c.cols, clearRule)
	for k, t := range w.tasks {
		if strings.HasPrefix(k, id+":escalation:") && t.status == "open" {
			t.status = "done"
		}
	}
}

func (w *world) BeginSweep(_ context.Context, id, kind string, at time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = at
	return nil
}

// current is a stall's escalation; rule "" reads the case's one ladder.
func (w *world) current(c *fakeCase, rule string) (int, string, *time.Time) {
	level, at := 0, ""
	for _, e := range w.esc {
		if e.CaseID == c.id && (rule == "" || e.Rule == rule) && !e.At.Before(c.lastProgress) && e.Level > level {
			level, at = e.Level, e.Rule
		}
	}
	if level == 0 {
		return 0, "", nil
	}
	t, ok := w.tasks[TaskKey(c.id, at, level)]
	if !ok {
		return level, "", nil
	}
	due := t.due
	return level, t.status, &due
}

func (w *world) FindStalls(_ context.Context, rules []store.StallQuery, scope store.StallScope, each func(store.StallRow) error) error {
	w.mu.Lock()
	var rows []store.StallRow
	for _, c := range w.cases {
		if c.closed {
			continue
		}
		for _, q := range rules {
			col, ok := c.cols[q.Rule]
			if !ok || !col.Before(q.Cutoff) {
				continue
			}
			ladder := q.Rule
			if scope.PerCase {
				ladder = ""
			}
			lvl, st, due := w.current(c, ladder)
			since := col
			rows = append(rows, store.StallRow{CaseID: c.id, CentreID: c.centre, Rule: q.Rule, Since: &since, CurLevel: lvl, TaskStatus: st, TaskDue: due})
		}
	}
	w.mu.Unlock()
	for _, r := range rows {
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) FindForManual(_ context.Context, f store.ManualFilter, each func(store.StallRow) error) error {
	w.mu.Lock()
	var rows []store.StallRow
	for _, id := range f.CaseIDs {
		if c, ok := w.cases[id]; ok && !c.closed {
			lvl, st, due := w.current(c, RuleManual)
			rows = append(rows, store.StallRow{CaseID: id, CentreID: c.centre, Rule: RuleManual, CurLevel: lvl, TaskStatus: st, TaskDue: due})
		}
	}
	w.mu.Unlock()
	for _, r := range rows {
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) ReplaceStalls(_ context.Context, sweepID string, stalls []store.Stall) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := append([]store.Stall{}, stalls...)
	for i := range s {
		s[i].SweepID = sweepID
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].CaseID != s[j].CaseID {
			return s[i].CaseID < s[j].CaseID
		}
		return s[i].Rule < s[j].Rule
	})
	w.stalls[sweepID] = s
	return nil
}

func (w *world) StallBatch(_ context.Context, sweepID, afterCase, afterRule string, limit int) ([]store.Stall, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []store.Stall
	for _, s := range w.stalls[sweepID] {
		if s.Level > 0 && (s.CaseID > afterCase || (s.CaseID == afterCase && s.Rule > afterRule)) && len(out) < limit {
			out = append(out, s)
		}
	}
	return out, nil
}

func (w *world) RecordEscalation(_ context.Context, e store.EscalationRow) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := fmt.Sprintf("%s/%s/%d", e.CaseID, e.Rule, e.Level)
	if old, ok := w.esc[k]; ok && !old.At.Before(w.cases[e.CaseID].lastProgress) {
		return false, nil
	}
	w.esc[k] = e
	return true, nil
}

func (w *world) FinishSweep(_ context.Context, id string, _ time.Time, c store.SweepCounts) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sweeps[id] = c
	return nil
}

// signal models workflows' onEscalate: once per (rule, level), a task for
// the role due in two days.
func (w *world) signal(_ context.Context, caseID string, e pathway.Escalation) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.received[fmt.Sprintf("%s/%s/%d", caseID, e.Rule, e.Level)]++
	c, ok := w.cases[caseID]
	if !ok || c.closed {
		return ErrNotRunning
	}
	for _, x := range c.wfEsc {
		if x.Level >= e.Level { // one ladder per case
			return nil
		}
	}
	for _, x := range c.wfEsc { // climbing closes the lower task
		if t := w.tasks[TaskKey(caseID, x.Rule, x.Level)]; t != nil && t.status == "open" {
			t.status = "done"
		}
	}
	c.wfEsc = append(c.wfEsc, e)
	w.signals = append(w.signals, e)
	key := TaskKey(caseID, e.Rule, e.Level)
	if _, exists := w.tasks[key]; !exists {
		w.tasks[key] = &fakeTask{status: "open", due: w.now.Add(48 * time.Hour)}
	} else {
		w.tasks[key].status, w.tasks[key].due = "open", w.now.Add(48*time.Hour)
	}
	return nil
}

func (w *world) Notify(_ context.Context, n Notice) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notices = append(w.notices, n)
	return nil
}

func (w *world) levels(caseID, rule string) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for _, e := range w.esc {
		if e.CaseID == caseID && e.Rule == rule {
			out = append(out, e.Level)
		}
	}
	sort.Ints(out)
	return out
}

// dailySweeps runs a sweep at the start of each day, sweeps times.
func dailySweeps(ctx workflow.Context, days int, twice bool) ([]SweepResult, error) {
	var out []SweepResult
	for d := 0; d < days; d++ {
		runs := 1
		if twice {
			runs = 2
		}
		for r := 0; r < runs; r++ {
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("sweep-%d-%d", d, r)})
			var res SweepResult
			if err := workflow.ExecuteChildWorkflow(cctx, WorkflowName, SweepInput{BatchSize: 2}).Get(ctx, &res); err != nil {
				return nil, err
			}
			out = append(out, res)
		}
		if err := workflow.Sleep(ctx, 24*time.Hour); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var t0 = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, w *world) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	Register(env, &Activities{Store: w, Signal: w.signal, Notify: w})
	env.RegisterWorkflow(dailySweeps)
	return env
}

func TestLadderClimbsWhenIgnoredAndCalmsOnProgress(t *testing.T) {
	w := newWorld()
	// A: first contact was due an hour before the first sweep, and nobody acts.
	w.add("A", "hisingen", t0.Add(-72*time.Hour), map[string]time.Time{RuleFirstContact: t0.Add(-time.Hour)})
	// C: the same, but first contact is made on day 1.5.
	w.add("C", "angered", t0.Add(-72*time.Hour), map[string]time.Time{RuleFirstContact: t0.Add(-time.Hour)})
	// B: on track.
	w.add("B", "hisingen", t0, map[string]time.Time{RuleFirstContact: t0.Add(30 * 24 * time.Hour)})
	// D: no progress for 40 days; its job coach ignores the task until day 2.5.
	w.add("D", "oster", t0.Add(-40*24*time.Hour), map[string]time.Time{RuleNoProgress: t0.Add(-40 * 24 * time.Hour)})

	env := newEnv(t, w)
	env.RegisterDelayedCallback(func() { w.progress("C", t0.Add(36*time.Hour), RuleFirstContact) }, 36*time.Hour)
	env.RegisterDelayedCallback(func() { w.progress("D", t0.Add(60*time.Hour), RuleNoProgress) }, 60*time.Hour)
	env.ExecuteWorkflow(dailySweeps, 8, false)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var results []SweepResult
	if err := env.GetWorkflowResult(&results); err != nil {
		t.Fatal(err)
	}

	// A climbs one level each time its task lies open past its two-day deadline.
	if got := w.levels("A", RuleFirstContact); fmt.Sprint(got) != "[1 2 3]" {
		t.Errorf("A levels = %v, want [1 2 3]", got)
	}
	w.mu.Lock()
	wantAt := map[int]time.Time{1: t0, 2: t0.Add(48 * time.Hour), 3: t0.Add(96 * time.Hour)}
	for lvl, at := range wantAt {
		e := w.esc[fmt.Sprintf("A/%s/%d", RuleFirstContact, lvl)]
		if !e.At.Equal(at) || e.Role != RoleAt(lvl) {
			t.Errorf("A level %d: at %s role %s, want %s %s", lvl, e.At, e.Role, at, RoleAt(lvl))
		}
	}
	// Never the same stall twice at the same level, at the pathway either.
	for k, n := range w.received {
		if n != 1 {
			t.Errorf("signal %s sent %d times", k, n)
		}
	}
	w.mu.Unlock()
	// C escalated once, then calmed by progress: no further level.
	if got := w.levels("C", RuleFirstContact); fmt.Sprint(got) != "[1]" {
		t.Errorf("C levels = %v, want [1]", got)
	}
	if got := w.levels("B", RuleFirstContact); len(got) != 0 {
		t.Errorf("B (on track) escalated: %v", got)
	}
	if got := w.levels("D", RuleNoProgress); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("D levels = %v, want [1 2]", got)
	}
	// Day 0: A, C, D stalled and escalated; day 2: A and D climb (C calmed
	// at 36 h, D only acts at 60 h); day 4: A climbs; from day 6 A waits at the top.
	wantEsc := []int{3, 0, 2, 0, 1, 0, 0, 0}
	for d, r := range results {
		if r.Escalated != wantEsc[d] {
			t.Errorf("day %d: escalated %d, want %d (%+v)", d, r.Escalated, wantEsc[d], r)
		}
	}
	if results[6].Stalled != 1 || results[6].Waiting != 1 {
		t.Errorf("day 6: %+v, want A stalled and waiting at the top", results[6])
	}
	if len(w.notices) != 6 {
		t.Errorf("notices = %d, want 6", len(w.notices))
	}
	for _, n := range w.notices {
		if n.CaseID == "" || n.Role != RoleAt(n.Level) || n.Key == "" {
			t.Errorf("bad notice %+v", n)
		}
	}
}

func TestRepeatedSweepsDoNotDuplicate(t *testing.T) {
	w := newWorld()
	for i := 0; i < 7; i++ { // more than one batch (size 2)
		w.add(fmt.Sprintf("case-%02d", i), "hisingen", t0.Add(-72*time.Hour), map[string]time.Time{
			RuleFirstContact: t0.Add(-time.Hour), RuleNoProgress: t0.Add(-72 * time.Hour)})
	}
	env := newEnv(t, w)
	env.ExecuteWorkflow(dailySweeps, 2, true) // two sweeps a day, back to back
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var results []SweepResult
	if err := env.GetWorkflowResult(&results); err != nil {
		t.Fatal(err)
	}
	// Day 0, first sweep: 7 cases, each under one rule (no_progress is within
	// its 30 days). Everything after waits on the open tasks.
	if results[0].Escalated != 7 || results[0].Stalled != 7 {
		t.Errorf("first sweep: %+v", results[0])
	}
	for i, r := range results[1:] {
		if r.Escalated != 0 || r.Waiting != 7 {
			t.Errorf("sweep %d: %+v, want nothing new and 7 waiting", i+1, r)
		}
	}
	if len(w.signals) != 7 || len(w.esc) != 7 {
		t.Errorf("signals %d, escalations %d, want 7 and 7", len(w.signals), len(w.esc))
	}
}

// manualRuns starts the manual escalation workflow once per request, a
// minute apart, as staff would, each under its own workflow ID.
func manualRuns(ctx workflow.Context, reqs []ManualRequest) ([]ManualProgress, error) {
	var out []ManualProgress
	for i, req := range reqs {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("manual-%d", i)})
		var p ManualProgress
		if err := workflow.ExecuteChildWorkflow(cctx, contract.ManualWorkflowName, req).Get(ctx, &p); err != nil {
			return out, err
		}
		out = append(out, p)
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return out, err
		}
	}
	return out, nil
}

func TestManualClimbsRegardlessOfDeadline(t *testing.T) {
	w := newWorld()
	w.add("M", "hisingen", t0.Add(-time.Hour), map[string]time.Time{})
	w.now = t0
	req := ManualRequest{Filter: ManualFilter{CaseIDs: []string{"M"}}, Reason: "participant unreachable for two weeks", StaffID: "s1"}
	env := newEnv(t, w)
	env.RegisterWorkflow(manualRuns)
	env.ExecuteWorkflow(manualRuns, []ManualRequest{req, req, req, req})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res []ManualProgress
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 2, 3} {
		if r := res[i]; r.Escalated != 1 || r.Matched != 1 || r.State != contract.ManualDone || r.SweepID != fmt.Sprintf("manual-%d", i) {
			t.Fatalf("manual %d: %+v", i, r)
		}
		if got := w.levels("M", RuleManual); got[i] != want {
			t.Fatalf("manual %d: levels %v", i, got)
		}
	}
	if r := res[3]; len(r.AtTop) != 1 || r.Escalated != 0 || w.sweeps["manual-3"].Waiting != 1 {
		t.Fatalf("at the top: %+v, sweep %+v", r, w.sweeps["manual-3"])
	}
	for k, e := range w.esc {
		if e.Actor != "s1" {
			t.Errorf("escalation %s recorded as by %q, want the staff member", k, e.Actor)
		}
	}

	bad := req
	bad.Reason = "call 19900101-0017"
	env = newEnv(t, newWorld())
	env.RegisterWorkflow(manualRuns)
	env.ExecuteWorkflow(manualRuns, []ManualRequest{bad})
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "personal identity number") {
		t.Fatalf("a personal identity number in the reason: %v", err)
	}
}
