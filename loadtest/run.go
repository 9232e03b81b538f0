package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/pathway"
)

// Config is one load test run.
type Config struct {
	Bases    []string // API base URLs, used round-robin
	Accounts []string // staff accounts (each works its own centre's cases)
	Password string
	Model    Model
	Seed     uint64
	Scale    float64       // volumes × scale (1: the model as it is)
	Speed    float64       // 10: the day in a tenth of its time
	Duration time.Duration // simulated part of the day to replay from 08:00 (0: all 9 hours)
	// StepsPerPlan is the number of manual steps each working-set plan has;
	// every step action confirms one, so a pathway serves that many.
	StepsPerPlan int
	Concurrency  int           // requests in flight at most
	Progress     time.Duration // a progress line this often
	// DatabaseURL, when set, is read for database sizes before and after
	// (any database of the cluster, as a role that may CHECKPOINT).
	DatabaseURL string
	Out         io.Writer
}

// Report is what a run measured.
type Report struct {
	Scheduled  int
	Sent       int
	Kinds      map[Kind]*KindReport
	Errors     map[string]int // "<status> <kind>" or "transport <kind>"
	Skipped    map[Kind]int   // events that found no pathway to act on
	Elapsed    time.Duration
	Wall       time.Duration // the replay's scheduled length
	LagP50     time.Duration
	LagP99     time.Duration
	LagMax     time.Duration
	Prepared   int // working-set pathways
	PrepTook   time.Duration
	Sizes      [3][3]int64 // before prep, before the day, after: temporal, temporal_visibility, pathways
	HaveSizes  bool
	LoadBefore string
	LoadAfter  string
	LoadMax    float64
}

// KindReport is one kind's figures.
type KindReport struct {
	Count, OK, Pending, Retried int
	Latency                     []time.Duration
}

// ErrorCount is the number of requests that ended in an error.
func (r *Report) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

type pooled struct {
	caseID string
	owner  *staff
	pnr    string
	next   int // the next step to confirm (Step pool)
}

type pool struct {
	mu    sync.Mutex
	items []*pooled
}

func (p *pool) put(it *pooled) {
	p.mu.Lock()
	p.items = append(p.items, it)
	p.mu.Unlock()
}

// take removes the first item (nil when none is left).
func (p *pool) take() *pooled {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) == 0 {
		return nil
	}
	it := p.items[0]
	p.items = p.items[1:]
	return it
}

type runner struct {
	cfg    Config
	staff  []*staff
	pools  map[Kind]*pool
	mine   [][]*pooled // per account: its cases, for views and searches
	minemu sync.Mutex
	people atomic.Int64
	nonce  int64
	out    io.Writer

	mu     sync.Mutex
	rep    *Report
	lags   []time.Duration
	window struct {
		sent, done int
		lags       []time.Duration
	}
	inflight atomic.Int64
}

// Run creates the working set, replays the day and prints the summary.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Bases) == 0 || len(cfg.Accounts) == 0 {
		return nil, errors.New("loadtest: name at least one API base URL and one staff account")
	}
	if cfg.Speed <= 0 {
		return nil, errors.New("loadtest: --speed must be above 0")
	}
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	if cfg.StepsPerPlan <= 0 {
		cfg.StepsPerPlan = 6
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Progress <= 0 {
		cfg.Progress = 5 * time.Second
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	r := &runner{cfg: cfg, out: cfg.Out, pools: map[Kind]*pool{}, nonce: time.Now().Unix() / 60,
		rep: &Report{Kinds: map[Kind]*KindReport{}, Errors: map[string]int{}, Skipped: map[Kind]int{}}}
	for _, k := range Kinds {
		r.pools[k] = &pool{}
		r.rep.Kinds[k] = &KindReport{}
	}
	var next atomic.Uint64
	for _, a := range cfg.Accounts {
		s, err := signIn(ctx, cfg.Bases, &next, a, cfg.Password)
		if err != nil {
			return nil, err
		}
		r.staff = append(r.staff, s)
	}
	r.mine = make([][]*pooled, len(r.staff))

	day := cfg.Model.Plan(cfg.Seed, cfg.Scale).Until(cfg.Duration)
	r.rep.Scheduled = len(day.Events)
	r.rep.Wall = time.Duration(float64(DayLen) / cfg.Speed)
	if cfg.Duration > 0 && cfg.Duration < DayLen {
		r.rep.Wall = time.Duration(float64(cfg.Duration) / cfg.Speed)
	}
	var db *pgxpool.Pool
	if cfg.DatabaseURL != "" {
		var err error
		if db, err = pgxpool.New(ctx, cfg.DatabaseURL); err != nil {
			return nil, err
		}
		defer db.Close()
		r.rep.Sizes[0], err = sizes(ctx, db)
		r.rep.HaveSizes = err == nil
		if err != nil {
			fmt.Fprintf(r.out, "loadtest: database sizes not read: %v\n", err)
		}
	}
	r.rep.LoadBefore = loadavg()

	fmt.Fprintf(r.out, "loadtest: %d requests scheduled for %s–%s at %g× speed (%s of wall time) through %d API(s) as %d staff account(s); seed %d, scale %g\n",
		len(day.Events), Clock(0), Clock(min(DayLen, durOr(cfg.Duration, DayLen))), cfg.Speed, r.rep.Wall.Round(time.Second), len(cfg.Bases), len(r.staff), cfg.Seed, cfg.Scale)
	fmt.Fprintf(r.out, "loadtest: per hour %v; mix %s\n", day.Hourly, mix(day.Counts))

	begin := time.Now()
	if err := r.prepare(ctx, day.Counts); err != nil {
		return nil, err
	}
	r.rep.PrepTook = time.Since(begin)
	if r.rep.HaveSizes {
		r.rep.Sizes[1], _ = sizes(ctx, db)
	}
	r.replay(ctx, day)
	if r.rep.HaveSizes {
		if s, err := sizes(ctx, db); err == nil {
			r.rep.Sizes[2] = s
		} else {
			r.rep.HaveSizes = false
		}
	}
	r.rep.LoadAfter = loadavg()
	r.summary()
	return r.rep, ctx.Err()
}

func durOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func mix(c map[Kind]int) string {
	var parts []string
	for _, k := range Kinds {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	return strings.Join(parts, ", ")
}

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

// replay sends the day's events at their scheduled times, divided by speed.
func (r *runner) replay(ctx context.Context, day Schedule) {
	speed := r.cfg.Speed
	begin := time.Now()
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var progress sync.WaitGroup
	progress.Add(1)
	go func() { defer progress.Done(); r.progress(begin, day, stop) }()
	for i, e := range day.Events {
		due := begin.Add(time.Duration(float64(e.At) / speed))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		r.inflight.Add(1)
		go func() {
			defer func() { <-sem; r.inflight.Add(-1); wg.Done() }()
			lag := time.Since(due)
			r.mu.Lock()
			r.rep.Sent++
			r.window.sent++
			r.lags = append(r.lags, lag)
			r.window.lags = append(r.window.lags, lag)
			r.mu.Unlock()
			r.send(ctx, i, e)
		}()
	}
	wg.Wait()
	close(stop)
	progress.Wait()
	r.rep.Elapsed = time.Since(begin)
	slices.Sort(r.lags)
	r.rep.LagP50, r.rep.LagP99 = pct(r.lags, 50), pct(r.lags, 99)
	if len(r.lags) > 0 {
		r.rep.LagMax = r.lags[len(r.lags)-1]
	}
}

// send runs one event and records its outcome.
func (r *runner) send(ctx context.Context, i int, e Event) {
	st := r.staff[e.Staff%len(r.staff)]
	key := fmt.Sprintf("lt-%d-%d-%d", r.nonce, r.cfg.Seed, i)
	var it *pooled
	if e.Kind.Write() && e.Kind != Start {
		if it = r.pools[e.Kind].take(); it == nil {
			r.record(e.Kind, answer{}, 0, "skipped")
			return
		}
		st = it.owner
	}
	began := time.Now()
	var a answer
	switch e.Kind {
	case Start:
		pnr := r.person()
		a = st.do(ctx, http.MethodPost, "/api/v1/pathways", "", r.referral(st, pnr))
		if a.status == http.StatusConflict && a.tries > 1 {
			a.status = http.StatusCreated // an earlier attempt went through
		}
		var started struct {
			CaseID string `json:"case_id"`
		}
		if a.status == http.StatusCreated && json.Unmarshal(a.body, &started) == nil && started.CaseID != "" {
			r.keep(&pooled{caseID: started.CaseID, owner: st, pnr: pnr})
		}
	case Step:
		path, body := r.action(it, Step)
		// A step that has not started yet (the previous one's answer is
		// out, its successor's child workflow not yet) answers 409: the
		// same request goes again, under the same key, a little later.
		for deadline := time.Now().Add(retryFor); ; {
			a = st.do(ctx, http.MethodPost, path, key, body)
			if a.status != http.StatusConflict || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			r.mu.Lock()
			r.rep.Kinds[Step].Retried++
			r.mu.Unlock()
			time.Sleep(time.Second)
		}
		if it.next < r.cfg.StepsPerPlan {
			go func() {
				// Back in the pool once the pathway has applied it.
				if a.status == http.StatusAccepted {
					if _, err := st.follow(ctx, a.header.Get("Location"), 2*time.Minute); err != nil {
						return
					}
				}
				if a.status == http.StatusOK || a.status == http.StatusAccepted {
					it.next++
					r.pools[Step].put(it)
				}
			}()
		}
	case Caseload:
		a = st.do(ctx, http.MethodGet, "/api/v1/pathways?status=active&limit=50", "", nil)
	case Tasks:
		a = st.do(ctx, http.MethodGet, "/api/v1/tasks?scope=all&status=open&limit=50", "", nil)
	case Search, View:
		target := r.pick(e.Staff%len(r.staff), i)
		if target == nil {
			r.record(e.Kind, answer{}, 0, "skipped")
			return
		}
		if e.Kind == Search {
			q := target.caseID
			if i%2 == 0 && target.pnr != "" {
				q = target.pnr
			}
			a = st.do(ctx, http.MethodGet, "/api/v1/pathways?q="+q, "", nil)
		} else {
			a = st.do(ctx, http.MethodGet, "/api/v1/pathways/"+target.caseID, "", nil)
			if a.status == http.StatusOK {
				a = st.do(ctx, http.MethodGet, "/api/v1/pathways/"+target.caseID+"/timeline", "", nil)
			}
		}
	case FollowUp:
		// A follow-up is due 30 and 90 days after an outcome: a working set
		// made minutes ago has none in real time, so these are counted, not sent.
		r.record(e.Kind, answer{}, 0, "skipped")
		return
	default:
		path, body := r.action(it, e.Kind)
		a = st.do(ctx, http.MethodPost, path, key, body)
	}
	r.record(e.Kind, a, time.Since(began), "")
}

// pick is a case of the account's centre to look at.
func (r *runner) pick(account, i int) *pooled {
	r.minemu.Lock()
	defer r.minemu.Unlock()
	if l := r.mine[account]; len(l) > 0 {
		return l[(i*7919)%len(l)]
	}
	return nil
}

func (r *runner) record(k Kind, a answer, took time.Duration, skipped string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if skipped != "" {
		r.rep.Skipped[k]++
		r.window.done++
		return
	}
	kr := r.rep.Kinds[k]
	kr.Count++
	kr.Latency = append(kr.Latency, took)
	if a.tries > 1 {
		kr.Retried++
	}
	r.window.done++
	switch {
	case a.status == http.StatusOK || a.status == http.StatusCreated:
		kr.OK++
	case a.status == http.StatusAccepted:
		kr.Pending++ // accepted; the pathway confirms it later
	case a.status == 0:
		r.rep.Errors[fmt.Sprintf("transport %s", k)]++
	default:
		r.rep.Errors[fmt.Sprintf("%d %s", a.status, k)]++
		if n := r.rep.Errors[fmt.Sprintf("%d %s", a.status, k)]; n <= 3 {
			fmt.Fprintf(r.out, "loadtest: %s answered %d: %s\n", k, a.status, strings.TrimSpace(string(a.body)))
		}
	}
}

// progress prints a line every cfg.Progress: where the simulated day is, the
// achieved rate against the scheduled one, the lag behind schedule.
func (r *runner) progress(begin time.Time, day Schedule, stop chan struct{}) {
	t := time.NewTicker(r.cfg.Progress)
	defer t.Stop()
	last := begin
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			sim := min(time.Duration(float64(now.Sub(begin))*r.cfg.Speed), durOr(r.cfg.Duration, DayLen))
			from := time.Duration(float64(last.Sub(begin)) * r.cfg.Speed)
			due := 0
			for _, e := range day.Events {
				if e.At >= from && e.At < sim {
					due++
				}
			}
			r.mu.Lock()
			w := r.window
			r.window.sent, r.window.done, r.window.lags = 0, 0, nil
			sent, errs := r.rep.Sent, r.rep.ErrorCount()
			r.mu.Unlock()
			slices.Sort(w.lags)
			secs := now.Sub(last).Seconds()
			la := loadavg()
			var l1 float64
			fmt.Sscan(la, &l1)
			r.mu.Lock()
			r.rep.LoadMax = math.Max(r.rep.LoadMax, l1)
			r.mu.Unlock()
			fmt.Fprintf(r.out, "loadtest: %s simulated, %d/%d sent, %.1f/s (scheduled %.1f/s), lag p95 %s, in flight %d, errors %d, load %s\n",
				Clock(sim), sent, len(day.Events), float64(w.sent)/secs, float64(due)/secs, pct(w.lags, 95).Round(time.Millisecond),
				r.inflight.Load(), errs, la)
			last = now
		}
	}
}

func (r *runner) summary() {
	rep, w := r.rep, r.out
	fmt.Fprintf(w, "\nloadtest: summary\n")
	fmt.Fprintf(w, "  %-14s %6s %6s %7s %7s %9s %9s %9s\n", "kind", "sent", "ok", "pending", "retried", "p50", "p95", "p99")
	writes, reads := 0, 0
	for _, k := range Kinds {
		kr := rep.Kinds[k]
		if kr.Count == 0 && rep.Skipped[k] == 0 {
			continue
		}
		slices.Sort(kr.Latency)
		fmt.Fprintf(w, "  %-14s %6d %6d %7d %7d %9s %9s %9s", k, kr.Count, kr.OK, kr.Pending, kr.Retried,
			pct(kr.Latency, 50).Round(time.Millisecond), pct(kr.Latency, 95).Round(time.Millisecond), pct(kr.Latency, 99).Round(time.Millisecond))
		if n := rep.Skipped[k]; n > 0 {
			fmt.Fprintf(w, "  (%d not sent: no pathway in that state)", n)
		}
		fmt.Fprintln(w)
		if k.Write() {
			writes += kr.Count
		} else {
			reads += kr.Count
		}
	}
	secs := rep.Elapsed.Seconds()
	fmt.Fprintf(w, "  requests: %d scheduled, %d sent (%d staff actions, %d reads) in %s; achieved %.2f/s against %.2f/s scheduled\n",
		rep.Scheduled, rep.Sent, writes, reads, rep.Elapsed.Round(time.Second), float64(rep.Sent)/secs, float64(rep.Scheduled)/rep.Wall.Seconds())
	fmt.Fprintf(w, "  lag behind schedule: p50 %s, p99 %s, max %s\n", rep.LagP50.Round(time.Millisecond), rep.LagP99.Round(time.Millisecond), rep.LagMax.Round(time.Millisecond))
	if len(rep.Errors) == 0 {
		fmt.Fprintf(w, "  errors: 0\n")
	} else {
		var es []string
		for k, n := range rep.Errors {
			es = append(es, fmt.Sprintf("%s: %d", k, n))
		}
		slices.Sort(es)
		fmt.Fprintf(w, "  errors: %d (%s)\n", rep.ErrorCount(), strings.Join(es, ", "))
	}
	fmt.Fprintf(w, "  working set: %d pathways in %s\n", rep.Prepared, rep.PrepTook.Round(time.Second))
	if rep.HaveSizes {
		names := []string{"temporal", "temporal_visibility", "pathways"}
		var parts []string
		for i, n := range names {
			grow := rep.Sizes[2][i] - rep.Sizes[1][i]
			per := ""
			if writes > 0 {
				per = fmt.Sprintf(", %.1f KB a staff action", float64(grow)/float64(writes)/1024)
			}
			parts = append(parts, fmt.Sprintf("%s %s → %s (%+.1f MB%s)", n, mb(rep.Sizes[1][i]), mb(rep.Sizes[2][i]), float64(grow)/(1<<20), per))
		}
		fmt.Fprintf(w, "  database sizes over the day: %s\n", strings.Join(parts, "; "))
		var prep []string
		for i, n := range names {
			grow := rep.Sizes[1][i] - rep.Sizes[0][i]
			if rep.Prepared > 0 {
				prep = append(prep, fmt.Sprintf("%s %.1f KB", n, float64(grow)/float64(rep.Prepared)/1024))
			}
		}
		fmt.Fprintf(w, "  growth per working-set pathway (start and up to 3 actions): %s\n", strings.Join(prep, ", "))
	}
	fmt.Fprintf(w, "  machine load (1, 5, 15 min): before %s, after %s, highest 1-min seen %.1f\n", rep.LoadBefore, rep.LoadAfter, rep.LoadMax)
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sizes reads the three databases' sizes after a checkpoint.
func sizes(ctx context.Context, db *pgxpool.Pool) ([3]int64, error) {
	var s [3]int64
	if _, err := db.Exec(ctx, "CHECKPOINT"); err != nil {
		return s, err
	}
	err := db.QueryRow(ctx, `SELECT coalesce(pg_database_size(nullif((SELECT datname FROM pg_database WHERE datname = 'temporal'), '')), 0),
		coalesce(pg_database_size(nullif((SELECT datname FROM pg_database WHERE datname = 'temporal_visibility'), '')), 0),
		pg_database_size(current_database())`).Scan(&s[0], &s[1], &s[2])
	return s, err
}

// loadavg is the machine's load average (1, 5, 15 minutes), Linux only.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
