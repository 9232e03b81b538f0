// Package testsystem assembles, for an integration test, what a running
// deployment has: a fresh database with the demo data, the simulators of the
// outside systems behind real HTTP, the adapters pointed at them, and a
// worker running every workflow on the test's own task queue.
package testsystem

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/callbacks"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// System is one isolated deployment on the shared dev server.
type System struct {
	Config     *config.Config
	Pool       *pgxpool.Pool
	Temporal   client.Client
	TaskQueue  string
	Sim        *simulators.Sim
	SimURL     string
	Clients    *integrations.Clients
	Deps       steps.Deps
	Steps      *steps.Registry
	Programmes *programmes.Catalog
	Keys       *keyring.Ring // the test run's keys (testenv.Keyring)

	publicURL atomic.Value // string: where the education system calls back
}

// SetPublicURL tells the steps where the API serves (the test's HTTP
// server, known only once it runs): enrolments then carry a signed
// completion callback URL to it, which the education simulator calls.
func (s *System) SetPublicURL(u string) { s.publicURL.Store(u) }

func (s *System) callbackBase() string {
	u, _ := s.publicURL.Load().(string)
	return u
}

// Options choose what runs besides the database and the simulators.
type Options struct {
	// NoWorker leaves the task queue without a worker (to test "worker down").
	NoWorker bool
	// Register adds workflows and activities of a feature to the worker.
	Register func(sdkworker.Worker, *System)
	// Pool is a migrated database to use instead of a fresh one from the
	// shared cluster (a test that kills its own PostgreSQL).
	Pool *pgxpool.Pool
	// DeployedWorker gives the worker the slots and cache the deployment's
	// config sets (worker.Options) instead of the SDK's defaults, for a
	// benchmark that measures what production would do.
	DeployedWorker bool
}

// New builds the system and stops it when the test ends.
func New(tb testing.TB, o Options) *System {
	tb.Helper()
	pool := o.Pool
	if pool == nil {
		pool, _ = testenv.Database(tb)
	}
	if err := store.SeedDemo(context.Background(), pool); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(nil)
	if err != nil {
		tb.Fatal(err)
	}
	s := &System{Config: cfg, Pool: pool, Temporal: testenv.TemporalClient(tb), TaskQueue: testenv.TaskQueue(tb),
		Sim: simulators.New(1, zap.NewNop()), Steps: catalog.Registry(), Keys: testenv.Keyring(tb)}
	cfg.Temporal.TaskQueue = s.TaskQueue
	srv := httptest.NewServer(s.Sim.Handler())
	tb.Cleanup(srv.Close)
	tb.Cleanup(s.Sim.Close)
	s.SimURL = srv.URL
	cfg.Systems.Education = srv.URL + "/education"
	cfg.Systems.Employment = srv.URL + "/employment"
	cfg.Systems.JobSearch = srv.URL + "/jobsearch"
	cfg.Systems.Employers = srv.URL + "/employers"
	cfg.Systems.SocialServices = srv.URL + "/social"
	// The simulators' SMTP sink is the staff mail relay.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	smtpCtx, stopSMTP := context.WithCancel(context.Background())
	smtpDone := make(chan struct{})
	go func() { defer close(smtpDone); _ = s.Sim.ServeSMTP(smtpCtx, ln) }()
	tb.Cleanup(func() { stopSMTP(); <-smtpDone })
	cfg.SMTP.Addr = ln.Addr().String()
	s.Clients = integrations.NewClients(cfg)
	s.Deps = steps.Deps{Education: s.Clients.Education, Employers: s.Clients.Employers, Employment: s.Clients.Employment,
		SocialServices: s.Clients.SocialServices, People: &activities.People{Pool: pool, Keys: s.Keys},
		EducationCallback: callbacks.Education(s.callbackBase, s.Keys)}

	_, here, _, _ := runtime.Caller(0)
	s.Programmes, err = programmes.Load(filepath.Join(filepath.Dir(here), "..", "..", "programmes", "definitions"), s.Steps)
	if err != nil {
		tb.Fatal(err)
	}
	if !o.NoWorker {
		var wo sdkworker.Options
		if o.DeployedWorker {
			wo = worker.Options(cfg.Worker)
		}
		w := sdkworker.New(s.Temporal, s.TaskQueue, wo)
		worker.RegisterPathway(w, s.Steps, pool, s.Keys, s.Deps)
		worker.RegisterSteps(w, s.Steps, s.Deps)
		if o.Register != nil {
			o.Register(w, s)
		}
		if err := w.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(w.Stop)
	}
	return s
}

// Cases is the case service on this system, with a demo clock.
func (s *System) Cases(secondsPerDay float64) *cases.Service {
	return &cases.Service{Pool: s.Pool, Temporal: s.Temporal, TaskQueue: s.TaskQueue, Programmes: s.Programmes, SecondsPerDay: secondsPerDay, Keys: s.Keys}
}
