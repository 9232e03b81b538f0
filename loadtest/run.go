package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
		sent int
		lags []time.Duration
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
		var err error
		if r.rep.Sizes[1], err = sizes(ctx, db); err != nil {
			r.rep.HaveSizes = false // no baseline: no growth to report
		}
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
		return
	}
	kr := r.rep.Kinds[k]
	kr.Count++
	kr.Latency = append(kr.Latency, took)
	if a.tries > 1 {
		kr.Retried++
	}
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
