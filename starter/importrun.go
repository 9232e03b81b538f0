package starter

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/store"
)

// The import runs as two stages joined by a queue: registry writes (each
// row's transaction, as cases.Service.Start writes it) and workflow starts,
// so no start holds a database connection and the writes never wait for
// Temporal. Starts are confirmed in the registry in batches.
const (
	// DefaultConcurrency is how many workflow starts the import keeps in
	// flight, as many as the floor's starters: unpaced, 64 ran at 1.03 of
	// the floor measured in the same run (2 shared cores, dev server), as
	// an earlier measurement of this design found (16 → 0.56, 64 → 0.83).
	// The pacer (pacer.go) usually binds before it does.
	DefaultConcurrency = 64
	// registryWriters write rows at once: each transaction is short and
	// they serialise on the audit chain at commit, so a few keep the
	// starts fed without taking the pool (database.max_conns, 10).
	registryWriters = 6
	// confirmBatch and confirmEvery bound how long a started case waits
	// for its confirmation; a lost one is the reconciler's.
	confirmBatch = 200
	confirmEvery = 250 * time.Millisecond
	// launchAttempts: a start Temporal did not take is tried this often
	// before the reconciler has it.
	launchAttempts = 3
)

// importRun is one import's start stage and its tally.
type importRun struct {
	svc   *cases.Service
	opt   ImportOptions
	staff string
	total int
	bar   *progressbar.ProgressBar

	mu   sync.Mutex
	sum  *ImportSummary
	done int
}

type registeredRow struct {
	line int
	reg  cases.Registered
}

// start writes and starts every row, returning when each has an outcome.
func (ir *importRun) start(ctx context.Context, good []importRow, active map[string]string) {
	launchers := ir.opt.Concurrency
	if launchers <= 0 {
		launchers = DefaultConcurrency
	}
	rows := make(chan importRow)
	registered := make(chan registeredRow, launchers)
	confirm := newConfirmer(ir.svc)
	pace := ir.pacer(ctx)

	var writers sync.WaitGroup
	for i := 0; i < registryWriters; i++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for r := range rows {
				if caseID, ok := active[r.pnr]; ok {
					ir.record(r.line, ir.duplicate(ctx, r, caseID))
					continue
				}
				ref := r.ref
				ref.StaffID, ref.Via = ir.staff, "import"
				reg, err := ir.svc.Register(ctx, ref)
				if err != nil {
					ir.record(r.line, registerFailure(err, r.ref.PersonalNumber))
					continue
				}
				registered <- registeredRow{line: r.line, reg: reg}
			}
		}()
	}
	var launching sync.WaitGroup
	for i := 0; i < launchers; i++ {
		launching.Add(1)
		go func() {
			defer launching.Done()
			for rr := range registered {
				pace.acquire(ctx)
				if err := ir.launch(ctx, &rr.reg); err != nil {
					pace.release()
					ir.record(rr.line, outcome{kind: OutcomeFailed, reason: "could not start: " + err.Error()})
					continue
				}
				if rr.reg.Pending {
					pace.release() // the reconciler's now
				} else {
					pace.watch(rr.reg.CaseID)
					confirm.add(rr.reg.CaseID)
				}
				ir.record(rr.line, outcome{kind: OutcomeStarted})
			}
		}()
	}
	for _, r := range good {
		if ctx.Err() != nil {
			break
		}
		rows <- r
	}
	close(rows)
	writers.Wait()
	close(registered)
	launching.Wait()
	pace.stop()
	confirm.close()
}

// launch starts a registered case's workflow, trying again a start that a
// busy Temporal did not take in time (a repeat is a no-op): a start left
// pending waits a minute or more for the reconciler.
func (ir *importRun) launch(ctx context.Context, reg *cases.Registered) error {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		if err := ir.svc.Launch(ctx, reg); err != nil || !reg.Pending || attempt == launchAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return nil // pending: the reconciler's
		case <-time.After(wait):
		}
		wait *= 2
		reg.Pending = false
	}
}

type outcome struct{ kind, reason string }

// duplicate is the outcome of a row whose person has an active pathway.
func (ir *importRun) duplicate(ctx context.Context, r importRow, caseID string) outcome {
	if ir.opt.Duplicate == nil {
		return outcome{kind: OutcomeAlready}
	}
	out := ir.opt.Duplicate(ctx, r.ref, caseID, false)
	if out == OutcomeAlready || out == OutcomePassedOn {
		return outcome{kind: out}
	}
	return outcome{kind: OutcomeFailed, reason: out} // anything else says why it could not be passed on
}

// registerFailure is the outcome of a row the registry did not take.
func registerFailure(err error, pnr string) outcome {
	if errors.Is(err, cases.ErrDuplicate) {
		return outcome{kind: OutcomeAlready} // started since the file was read
	}
	var invalid *cases.InvalidError
	if errors.As(err, &invalid) {
		return outcome{kind: OutcomeFailed, reason: invalid.Fields[0].Field + ": " + invalid.Fields[0].Message}
	}
	return outcome{kind: OutcomeFailed, reason: "could not start: " + scrub(err.Error(), pnr)}
}

func (ir *importRun) record(line int, o outcome) {
	ir.mu.Lock()
	sum := ir.sum
	sum.Plan = append(sum.Plan, PlannedRow{Line: line, Outcome: o.kind})
	switch o.kind {
	case OutcomeStarted:
		sum.Started++
	case OutcomeAlready:
		sum.AlreadyStarted++
	case OutcomePassedOn:
		sum.PassedOn++
	default:
		sum.Failed = append(sum.Failed, RowError{Line: line, Reason: o.reason})
	}
	ir.done++
	if ir.opt.OnRow != nil {
		ir.opt.OnRow(ir.done, ir.total)
	}
	ir.mu.Unlock()
	if ir.bar != nil {
		_ = ir.bar.Add(1)
	}
}

// confirmer clears the pending starts of started cases in batches.
type confirmer struct {
	svc  *cases.Service
	ids  chan string
	done chan struct{}
}

func newConfirmer(svc *cases.Service) *confirmer {
	c := &confirmer{svc: svc, ids: make(chan string, confirmBatch), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *confirmer) add(caseID string) { c.ids <- caseID }

func (c *confirmer) run() {
	defer close(c.done)
	var batch []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Not the import's context: a cancelled import still confirms what
		// it started. A lost confirmation is the reconciler's.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = store.ConfirmStarts(ctx, c.svc.Pool, batch)
		cancel()
		batch = batch[:0]
	}
	tick := time.NewTicker(confirmEvery)
	defer tick.Stop()
	for {
		select {
		case id, ok := <-c.ids:
			if !ok {
				flush()
				return
			}
			if batch = append(batch, id); len(batch) >= confirmBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

func (c *confirmer) close() {
	close(c.ids)
	<-c.done
}
