package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/activities"
	"github.com/pathways-se/pathways/callbacks"
	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/logging"
	"github.com/pathways-se/pathways/mailout"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/steps"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
)

// Run starts the worker and blocks until ctx ends; then it stops polling and
// lets in-flight tasks finish before it returns.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger) error {
	reg := catalog.Registry()
	// Definitions are validated before anything polls: a bad file stops the start.
	progs, err := programmes.Load(cfg.Programs.Dir, reg)
	if err != nil {
		return fmt.Errorf("programme definitions: %w", err)
	}
	log.Info("programme definitions loaded", zap.Int("count", len(progs.All())))

	pool, err := store.OpenPatiently(ctx, cfg.Database.URL, cfg.Database.MaxConns, time.Minute, func(err error) {
		log.Warn("waiting for PostgreSQL", zap.Error(err))
	})
	if err != nil {
		return err
	}
	defer pool.Close()

	// One key ring per process: the payload codec and the store share it.
	keys, err := keyring.FromConfig(cfg)
	if err != nil {
		return err
	}
	c, err := DialKeys(ctx, cfg, log, keys)
	if err != nil {
		return err
	}
	defer c.Close()

	clients := integrations.NewClients(cfg)
	deps := steps.Deps{
		Education: clients.Education, Employers: clients.Employers, Employment: clients.Employment,
		SocialServices: clients.SocialServices, People: &activities.People{Pool: pool, Keys: keys},
		EducationCallback: callbacks.Education(func() string { return cfg.HTTP.PublicURL }, keys),
	}
	w := sdkworker.New(c, cfg.Temporal.TaskQueue, Options(cfg.Worker))
	RegisterPathway(w, reg, pool, keys, deps)
	RegisterSteps(w, reg, deps)
	for _, extra := range extensions {
		extra(w, Env{Config: cfg, Pool: pool, Client: c, Clients: clients, Log: log})
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker polling", zap.String("task_queue", cfg.Temporal.TaskQueue), zap.Int("step_types", len(reg.All())))
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		if cfg.SMTP.Addr == "" {
			return
		}
		d := &mailout.Deliverer{Pool: pool, Relay: clients.Notifier, Log: log.Named("mail"), Every: cfg.SMTP.PollInterval,
			Retry: mailout.Backoff{Initial: cfg.SMTP.RetryInitial, Max: cfg.SMTP.RetryMax}}
		d.Run(ctx)
	}()
	reconcileDone := make(chan struct{})
	go func() { defer close(reconcileDone); reconcileStarts(ctx, cfg, pool, c, log) }()
	needsDone := make(chan struct{})
	go func() {
		defer close(needsDone)
		WatchNeeds(ctx, pool, clients.Needs, c, NeedWatchInterval, log.Named("needs"))
	}()
	<-ctx.Done()
	log.Info("worker stopping: finishing in-flight tasks")
	w.Stop()
	<-mailDone
	<-reconcileDone
	<-needsDone
	log.Info("worker stopped")
	return nil
}

// Dial connects to Temporal with the SDK logging through zap and every
// payload encrypted under the configured keys (keyring.FromConfig), retrying
// for a while since the server may still be starting. Every client of the
// deployment (worker, API, CLI) dials here.
func Dial(ctx context.Context, cfg *config.Config, log *zap.Logger) (client.Client, error) {
	ring, err := keyring.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	return DialKeys(ctx, cfg, log, ring)
}

// DialKeys is Dial with a key ring the caller has loaded already.
func DialKeys(ctx context.Context, cfg *config.Config, log *zap.Logger, ring *keyring.Ring) (client.Client, error) {
	opts := client.Options{HostPort: cfg.Temporal.Address, Namespace: cfg.Temporal.Namespace, Logger: logging.NewTemporal(log)}
	codec.Apply(&opts, ring)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.Temporal.Address, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// Env is what an extension of the worker may use.
type Env struct {
	Config  *config.Config
	Pool    *pgxpool.Pool
	Client  client.Client
	Clients *integrations.Clients
	Log     *zap.Logger
}

// extensions let features (escalation schedules) register their own
// workflows and activities from their own files.
var extensions []func(sdkworker.Worker, Env)
