package forecast

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/worker"
	"github.com/pathways-se/pathways/workflows"
)

// Options of one run.
type Options struct {
	Seed uint64
	// Participants overrides the calibration's cohort size (0: keep it).
	Participants int
	// Workers is how many participants run at once (0: GOMAXPROCS).
	Workers int

	mutate func(*pathway.Outcome) // tests only: see model.mutate
}

// Participant is one synthetic person and where their pathway stood when
// it closed or at the horizon.
type Participant struct {
	CaseID     string
	Centre     string
	Age        int
	Female     bool
	ReferredAt time.Time
	ClosedAt   time.Time // zero while still active at the horizon
	Status     pathway.Status
	// Refused counts staff actions and outside answers the workflow refused.
	Refused       int
	RefusedErrors []string
	Err           error // the workflow failed (never expected)
}

// Result is a whole cohort.
type Result struct {
	Calibration  *Calibration
	Seed         uint64
	Start        time.Time // the first referral
	Horizon      time.Time
	Participants []Participant
	Elapsed      time.Duration
}

// cohortStart is the day the first referral arrives; fixed, so a seed
// always gives the same cohort.
var cohortStart = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

// quiet discards the test environment's logging: a cohort is thousands of
// workflows.
var quiet = tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))

// Run runs the cohort: one time-skipping test environment per participant,
// spread over the workers.
func Run(ctx context.Context, cal *Calibration, opt Options) (*Result, error) {
	if err := cal.Validate(); err != nil {
		return nil, err
	}
	n := cal.Participants
	if opt.Participants > 0 {
		n = opt.Participants
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &Result{Calibration: cal, Seed: opt.Seed, Start: cohortStart,
		Horizon: cohortStart.Add(time.Duration(cal.HorizonDays) * day), Participants: make([]Participant, n)}
	reg := catalog.Registry()
	began := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res.Participants[i] = runOne(cal, reg, opt, i, n)
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	res.Elapsed = time.Since(began)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// runOne plays one participant's pathway from referral to closure or the horizon.
func runOne(cal *Calibration, reg *steps.Registry, opt Options, i, n int) Participant {
	rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)+1))
	p := Participant{CaseID: fmt.Sprintf("FC-%s-%05d", cal.Name, i+1)}
	// Referrals evenly over the window, each at a random hour of its day.
	referral := (float64(i) + rng.Float64()) * float64(cal.WindowDays) / float64(n)
	p.ReferredAt = cohortStart.Add(time.Duration(referral * float64(day)))
	centre := pick(rng, cal.Centres, weights(cal.Centres))
	p.Centre = centre.ID
	p.Female = rng.Float64() < 0.5
	p.Age = 25 + rng.IntN(40)
	if rng.Float64() < cal.YouthShare {
		p.Age = 20 + rng.IntN(5)
		if rng.Float64() < cal.UnderTwentyShare {
			p.Age = 16 + rng.IntN(4)
		}
	}
	track := pathway.TrackAdult
	if p.Age < 25 {
		track = pathway.TrackYouth
	}

	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quiet)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(p.ReferredAt)
	env.SetTestTimeout(10 * time.Minute) // wall clock while idle; a loaded machine is slow, never stuck
	m := &model{cal: cal, centre: centre, rng: rng, env: env, p: &p, staff: pathway.Actor{StaffID: "forecast-" + centre.ID}, mutate: opt.mutate}

	d := deps()
	wf := &workflows.Pathways{Steps: worker.StepCatalog(reg)}
	env.RegisterWorkflowWithOptions(wf.Pathway, workflow.RegisterOptions{Name: pathway.WorkflowName})
	env.RegisterActivity(&readModel{seen: func(pr pathway.Projection) {
		// Called in the activity's goroutine: hand it to the main loop.
		env.RegisterDelayedCallback(func() { m.onProjection(pr) }, 0)
	}})
	env.RegisterActivity(&activities.Outside{Deps: d})
	worker.RegisterSteps(env, reg, d)

	atHorizon := false
	if left := cohortStart.Add(time.Duration(cal.HorizonDays) * day).Sub(p.ReferredAt); left > 0 {
		env.RegisterDelayedCallback(func() {
			if st, ok := m.status(); ok {
				p.Status = st
			}
			atHorizon = true
			env.CancelWorkflow()
		}, left)
	}
	env.ExecuteWorkflow(pathway.WorkflowName, pathway.Start{
		CaseID: p.CaseID, CentreID: centre.ID, MunicipalityCode: cal.MunicipalityCode, Track: track,
		ActivityDuty: p.Age < 20, ReferralSource: pathway.SourceSocialServices, ReferredAt: p.ReferredAt,
		Programme:    programme(cal, track),
		HistoryLimit: 1 << 30,             // the test environment does not continue as new
		ChangeLevel:  pathway.ChangeLevel, // as a new pathway starts
	})
	if atHorizon {
		return p
	}
	if err := env.GetWorkflowError(); err != nil {
		p.Err = err
		return p
	}
	if err := env.GetWorkflowResult(&p.Status); err != nil {
		p.Err = err
	}
	return p
}

func weights(cs []Centre) []float64 {
	w := make([]float64, len(cs))
	for i, c := range cs {
		w[i] = c.Weight
	}
	return w
}

// programme is the definition the cohort starts on: the production rules
// (18-month limit, 48-hour first contact, 30- and 90-day follow-ups) with
// the calibration's mapping deadline. Plans are the model's.
func programme(cal *Calibration, track string) pathway.Programme {
	p := pathway.Programme{Name: "forecast-" + track, Version: 1, Title: "Forecast " + track, MinAge: 16, MaxAge: 66,
		TimeLimitDays: cal.TimeLimitDays, PauseStopsClock: true, FirstContactHours: 48,
		MappingDays: cal.MappingDays, MappingReminder: 7, FollowUpDays: []int{30, 90},
		Steps: []pathway.StepSpec{{ID: "coaching", Type: "manual", DurationDays: 30, Params: map[string]string{"description": "Job coaching"}}}}
	if track == pathway.TrackYouth {
		p.EducationFirst = true
	}
	return p
}
