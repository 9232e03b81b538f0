package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/store"
)

// Projections are idempotent by sequence, out-of-order arrivals never roll
// the row back, and a task key that recurs (the same stall after calming)
// reopens its task.
func TestProjectionOrderAndRecurringTask(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	oneCase(t, pool, "C-1", false)
	task := pathway.Task{Key: "C-1:escalation:no_progress:1", Kind: "escalation", Title: "Stalled", Role: "job_coach"}
	apply := func(seq int64, phase string, open []pathway.Task, closeKeys ...string) {
		t.Helper()
		p := store.Projection{CaseID: "C-1", Seq: seq, At: time.Now(), Status: pathway.Status{Phase: phase, CentreID: "gbg-angered"},
			Event: &store.TimelineEvent{Kind: phase, Summary: phase}, OpenTasks: open, CloseTasks: closeKeys}
		if err := store.ApplyProjection(ctx, pool, testenv.Keyring(t), p); err != nil {
			t.Fatal(err)
		}
	}
	taskStatus := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT status FROM tasks WHERE task_key = $1`, task.Key).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	apply(1, pathway.PhaseReferral, []pathway.Task{task})
	apply(3, pathway.PhaseMapping, nil, task.Key) // progress closed it
	apply(2, pathway.PhaseReferral, nil)          // a late, older change
	apply(2, pathway.PhaseReferral, nil)          // and its retry
	row, err := store.GetPathway(ctx, pool, "C-1")
	if err != nil || row.Phase != pathway.PhaseMapping {
		t.Fatalf("row rolled back: %+v %v", row, err)
	}
	if tl, _ := store.Timeline(ctx, pool, testenv.Keyring(t), "C-1"); len(tl) != 3 {
		t.Errorf("timeline has %d entries, want 3", len(tl))
	}
	if s := taskStatus(); s != "done" {
		t.Fatalf("task %s, want done", s)
	}
	apply(4, pathway.PhaseMapping, []pathway.Task{task}) // the same stall again
	if s := taskStatus(); s != "open" {
		t.Errorf("recurring task %s, want open again", s)
	}
}

// A late, older projection never reopens a task that a newer one closed,
// even when the close arrives before the task was ever opened, and never
// moves the pathway row back.
func TestProjectionOutOfOrder(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	oneCase(t, pool, "C-2", false)
	first := pathway.Task{Key: "C-2:first_contact", Kind: "first_contact", Title: "Make first contact", Role: "job_coach"}
	stall := pathway.Task{Key: "C-2:escalation:no_progress:1", Kind: "escalation", Title: "Stalled", Role: "team_lead"}
	apply := func(seq int64, phase string, open []pathway.Task, closeKeys ...string) {
		t.Helper()
		p := store.Projection{CaseID: "C-2", Seq: seq, At: time.Now(), Status: pathway.Status{Phase: phase, CentreID: "gbg-angered"},
			Event: &store.TimelineEvent{Kind: phase, Summary: phase}, OpenTasks: open, CloseTasks: closeKeys}
		if err := store.ApplyProjection(ctx, pool, testenv.Keyring(t), p); err != nil {
			t.Fatal(err)
		}
	}
	task := func(key string) (status, title string) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT status, title FROM tasks WHERE task_key = $1`, key).Scan(&status, &title); err != nil {
			t.Fatal(err)
		}
		return status, title
	}
	// N+1 closes the first-contact task before N, which opened it, arrives.
	apply(2, pathway.PhaseMapping, nil, first.Key)
	apply(1, pathway.PhaseReferral, []pathway.Task{first})
	apply(1, pathway.PhaseReferral, []pathway.Task{first}) // and its retry
	if s, title := task(first.Key); s != "done" || title != first.Title {
		t.Errorf("first contact task %s %q, want done with its title", s, title)
	}
	// An open task closed by N+1, then its opening N retried late.
	apply(3, pathway.PhaseMapping, []pathway.Task{stall})
	apply(5, pathway.PhaseClosed, nil, stall.Key)
	apply(3, pathway.PhaseMapping, []pathway.Task{stall})
	apply(4, pathway.PhaseMapping, nil)
	if s, _ := task(stall.Key); s != "done" {
		t.Errorf("stall task %s after a late open, want done", s)
	}
	row, err := store.GetPathway(ctx, pool, "C-2")
	if err != nil || row.Phase != pathway.PhaseClosed || row.Status != "closed" {
		t.Fatalf("row regressed: %+v %v", row, err)
	}
	var open int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE case_id = 'C-2' AND status = 'open'`).Scan(&open); err != nil || open != 0 {
		t.Fatalf("%d open tasks on a closed case (%v)", open, err)
	}
}

// A worker killed after its local activity wrote a projection but before
// its workflow task completed leaves a write Temporal never recorded. The
// projection the history did record under that sequence number replaces
// it: its own line (or none), and its row state. Without this the
// cluster test saw a first contact twice in one case and never in another.
func TestProjectionOfALostTaskIsReplaced(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	keys := testenv.Keyring(t)
	oneCase(t, pool, "C-1", false)
	apply := func(seq int64, phase, kind string, tasks ...string) {
		t.Helper()
		p := store.Projection{CaseID: "C-1", Seq: seq, At: time.Now(), Status: pathway.Status{Phase: phase, CentreID: "gbg-angered"}}
		for _, tk := range tasks { // "+key" opens, "-key" closes
			if tk[0] == '+' {
				p.OpenTasks = append(p.OpenTasks, pathway.Task{Key: tk[1:], Kind: "k", Title: tk[1:], Role: "job_coach"})
			} else {
				p.CloseTasks = append(p.CloseTasks, tk[1:])
			}
		}
		if kind != "" {
			p.Event = &store.TimelineEvent{Kind: kind, Summary: kind + " summary"}
		}
		if err := store.ApplyProjection(ctx, pool, keys, p); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, pathway.PhaseReferral, "referral")
	apply(2, pathway.PhaseMapping, "first_contact") // lost with its workflow task
	apply(2, pathway.PhaseReferral, "")             // recorded: a change without a line
	apply(3, pathway.PhaseMapping, "first_contact") // the staff action, sent again
	apply(4, pathway.PhaseMapping, "mapping")       // lost
	apply(4, pathway.PhaseMapping, "escalated")     // recorded: something else came first
	apply(5, pathway.PhasePlanning, "plan")         // lost
	apply(5, pathway.PhaseMapping, "note")          // recorded
	apply(5, pathway.PhaseMapping, "note")          // and its retry

	// Tasks: a lost write opened a reminder and closed the mapping task; the
	// recorded change under its number did neither.
	apply(6, pathway.PhaseMapping, "", "+C-1:mapping")
	apply(7, pathway.PhaseMapping, "", "+C-1:reminder", "-C-1:mapping") // lost
	apply(7, pathway.PhaseMapping, "", "+C-1:other")                    // recorded
	taskStatus := func(key string) string {
		var st string
		if err := pool.QueryRow(ctx, `SELECT status FROM tasks WHERE task_key = $1`, key).Scan(&st); err != nil {
			t.Fatalf("task %s: %v", key, err)
		}
		return st
	}
	if st := taskStatus("C-1:reminder"); st == "open" {
		t.Errorf("the lost write's reminder is %s, want no longer open", st)
	}
	if st := taskStatus("C-1:mapping"); st != "open" {
		t.Errorf("the mapping task the lost write closed is %s, want open", st)
	}
	if st := taskStatus("C-1:other"); st != "open" {
		t.Errorf("the recorded task is %s, want open", st)
	}
	apply(8, pathway.PhaseMapping, "", "-C-1:mapping", "+C-1:reminder") // recorded later
	if a, b := taskStatus("C-1:mapping"), taskStatus("C-1:reminder"); a != "done" || b != "open" {
		t.Errorf("after the recorded close and open: mapping %s, reminder %s", a, b)
	}

	tl, err := store.Timeline(ctx, pool, keys, "C-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tl {
		got = append(got, fmt.Sprintf("%d:%s:%s", e.Seq, e.Kind, e.Summary))
	}
	want := []string{"1:referral:referral summary", "3:first_contact:first_contact summary", "4:escalated:escalated summary", "5:note:note summary"}
	// (6 to 8 carry no line.)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("timeline %v, want %v", got, want)
	}
	row, err := store.GetPathway(ctx, pool, "C-1")
	if err != nil || row.Phase != pathway.PhaseMapping {
		t.Errorf("row phase %q (%v), want the recorded %q", row.Phase, err, pathway.PhaseMapping)
	}
}
