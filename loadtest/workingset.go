package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/pathway"
)

// need is how many working-set pathways each kind consumes, and the phase
// they are prepared to.
func (r *runner) need(counts map[Kind]int) map[Kind]int {
	n := map[Kind]int{}
	for _, k := range []Kind{FirstContact, Mapping, Plan, Outcome, Close, Pause, Resume} {
		n[k] = counts[k]
	}
	if c := counts[Step]; c > 0 {
		// A little spare: a pathway comes back to the pool only once its
		// last confirmation is done.
		n[Step] = int(math.Ceil(float64(c)/float64(r.cfg.StepsPerPlan)*1.1)) + 1
	}
	return n
}

// prepare creates the working set through the API: pathways moved to the
// phases the day's actions need, spread over the staff accounts.
func (r *runner) prepare(ctx context.Context, counts map[Kind]int) error {
	need := r.need(counts)
	type job struct {
		kind Kind
		st   *staff
	}
	var jobs []job
	for _, k := range []Kind{Step, FirstContact, Mapping, Plan, Outcome, Close, Pause, Resume} {
		for range need[k] {
			jobs = append(jobs, job{k, r.staff[len(jobs)%len(r.staff)]})
		}
	}
	if len(jobs) == 0 {
		// Reads still want something to look at.
		for i := range r.staff {
			jobs = append(jobs, job{Start, r.staff[i]})
		}
	}
	fmt.Fprintf(r.out, "loadtest: creating a working set of %d pathways through the API (%s)\n", len(jobs), mix(need))
	begin := time.Now()
	var done, failed atomic.Int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(r.cfg.Progress)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(r.out, "loadtest: working set %d/%d (%d failed), %s, load %s\n",
					done.Load(), len(jobs), failed.Load(), time.Since(begin).Round(time.Second), loadavg())
			}
		}
	}()
	defer close(stop)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	var firstErr atomic.Value
	for _, j := range jobs {
		g.Go(func() error {
			it, err := r.prepareOne(gctx, j.st, j.kind)
			done.Add(1)
			if err != nil {
				if failed.Add(1) == 1 {
					firstErr.Store(err)
				}
				return nil
			}
			r.pools[j.kind].put(it)
			r.keep(it)
			return nil
		})
	}
	_ = g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.rep.Prepared = int(done.Load() - failed.Load())
	fmt.Fprintf(r.out, "loadtest: working set ready: %d pathways in %s (%d failed)\n", r.rep.Prepared, time.Since(begin).Round(time.Second), failed.Load())
	if f := failed.Load(); f > 0 {
		err, _ := firstErr.Load().(error)
		if f*10 > int64(len(jobs)) {
			return fmt.Errorf("loadtest: %d of %d working-set pathways failed, first: %v", f, len(jobs), err)
		}
		fmt.Fprintf(r.out, "loadtest: first working-set failure: %v\n", err)
	}
	return nil
}

func (r *runner) keep(it *pooled) {
	r.minemu.Lock()
	defer r.minemu.Unlock()
	for i, s := range r.staff {
		if s == it.owner {
			r.mine[i] = append(r.mine[i], it)
		}
	}
}

// prepareOne starts a pathway and moves it to where kind acts on it.
func (r *runner) prepareOne(ctx context.Context, st *staff, kind Kind) (*pooled, error) {
	id, pnr, err := r.start(ctx, st)
	if err != nil {
		return nil, err
	}
	it := &pooled{caseID: id, owner: st, pnr: pnr, next: 1}
	steps := map[Kind][]Kind{
		Start: nil, FirstContact: nil,
		Mapping: {FirstContact}, Outcome: {FirstContact}, Pause: {FirstContact},
		Plan:   {FirstContact, Mapping},
		Step:   {FirstContact, Mapping, Plan},
		Close:  {FirstContact, Outcome},
		Resume: {FirstContact, Pause},
	}[kind]
	for _, k := range steps {
		path, body := r.action(it, k)
		a := st.do(ctx, http.MethodPost, path, fmt.Sprintf("lt-prep-%s-%s", it.caseID, k), body)
		if err := r.settle(ctx, st, a); err != nil {
			return nil, fmt.Errorf("working set: %s on %s: %w", k, id, err)
		}
	}
	if kind == Step {
		// The first step's child workflow starts after the plan's answer.
		if err := r.waitStep(ctx, st, it, 2*time.Minute); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// settle turns an answer into nil (200, or 202 followed until applied).
func (r *runner) settle(ctx context.Context, st *staff, a answer) error {
	switch {
	case a.status == http.StatusOK:
		return nil
	case a.status == http.StatusAccepted && a.header.Get("Location") != "":
		state, err := st.follow(ctx, a.header.Get("Location"), 2*time.Minute)
		if err == nil && state != "completed" {
			err = fmt.Errorf("accepted, then %s", state)
		}
		return err
	case a.err != nil:
		return a.err
	}
	return fmt.Errorf("%d %s", a.status, strings.TrimSpace(string(a.body)))
}

func (r *runner) waitStep(ctx context.Context, st *staff, it *pooled, within time.Duration) error {
	want := fmt.Sprintf("r1-s%d", it.next)
	deadline := time.Now().Add(within)
	for {
		a := st.do(ctx, http.MethodGet, "/api/v1/pathways/"+it.caseID, "", nil)
		var view struct {
			Pathway struct {
				CurrentStep string `json:"current_step"`
			} `json:"pathway"`
		}
		_ = json.Unmarshal(a.body, &view)
		if view.Pathway.CurrentStep == want {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("working set: %s: step %s not running after %s (current %q)", it.caseID, want, within, view.Pathway.CurrentStep)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// person is a fresh valid personal number: born 1960–1999 (the adult
// programme), distinct within a run and between runs less than two days
// apart (each run takes a block of 4,096 from the minute it began).
func (r *runner) person() string {
	const span = 999 * 28 * 12 * 40
	k := (r.nonce*4096 + r.people.Add(1)) % span
	serial, k := 1+k%999, k/999
	day, k := 1+k%28, k/28
	month, k := 1+k%12, k/12
	year := 60 + k%40
	nine := fmt.Sprintf("%02d%02d%02d%03d", year, month, day, serial)
	return fmt.Sprintf("19%s-%s%c", nine[:6], nine[6:], identity.CheckDigit(nine))
}

// start refers a new person to the staff member's centre and returns the
// case ID (201). A 409 after a retry means the first attempt went through.
func (r *runner) start(ctx context.Context, st *staff) (string, string, error) {
	pnr := r.person()
	a := st.do(ctx, http.MethodPost, "/api/v1/pathways", "", r.referral(st, pnr))
	if a.status != http.StatusCreated {
		if a.err != nil {
			return "", pnr, fmt.Errorf("working set: start: %w", a.err)
		}
		return "", pnr, fmt.Errorf("working set: start: %d %s", a.status, strings.TrimSpace(string(a.body)))
	}
	var started struct {
		CaseID string `json:"case_id"`
	}
	if err := json.Unmarshal(a.body, &started); err != nil || started.CaseID == "" {
		return "", pnr, fmt.Errorf("working set: start: no case_id in %s", a.body)
	}
	return started.CaseID, pnr, nil
}

func (r *runner) referral(st *staff, pnr string) map[string]any {
	return map[string]any{"personal_number": pnr, "given_name": "Last", "family_name": "Testperson",
		"district": st.district, "centre_id": st.centre, "source": pathway.SourceSocialServices, "consent": true}
}

// action is the path and body of a staff action on a pooled pathway.
func (r *runner) action(it *pooled, k Kind) (string, any) {
	base := "/api/v1/pathways/" + it.caseID + "/"
	switch k {
	case FirstContact:
		return base + "first-contact", map[string]any{"channel": "phone"}
	case Mapping:
		return base + "mapping", map[string]any{"abilities": []string{"driving"}, "education_level": "3", "language": "sv:B1", "goals": "Work"}
	case Plan:
		var steps []map[string]any
		for i := 1; i <= r.cfg.StepsPerPlan; i++ {
			steps = append(steps, map[string]any{"id": fmt.Sprintf("s%d", i), "type": "manual", "title": fmt.Sprintf("Coaching %d", i),
				"duration_days": 14, "params": map[string]string{"description": "Coaching"}})
		}
		return base + "plan", map[string]any{"target_ssyk": "8331", "steps": steps}
	case Step:
		return base + fmt.Sprintf("steps/r1-s%d/confirm-step", it.next), map[string]any{"outcome": "completed"}
	case Outcome:
		return base + "outcome", map[string]any{"kind": pathway.OutcomeWork, "start_date": time.Now().Format(time.DateOnly),
			"employer": "Västtrafik", "employer_kind": "regular", "employment_form": "unsubsidised"}
	case Close:
		return base + "close", map[string]any{"reason": pathway.CloseWork}
	case Pause:
		return base + "pause", map[string]any{"reason": pathway.PauseSick}
	case Resume:
		return base + "resume", map[string]any{}
	}
	panic("no action for " + string(k))
}
