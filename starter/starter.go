// Package starter is the command line for staff scripts and bulk work:
// start pathways, list them, and act on tasks. It talks to PostgreSQL and
// Temporal directly, through the same case service as the API.
package starter

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/steps/catalog"
	"github.com/pathways-se/pathways/store"
	"github.com/pathways-se/pathways/worker"
)

// Setup loads config and logger; the root command provides it.
type Setup func(*cobra.Command) (*config.Config, *zap.Logger, error)

// Commands are the starter's subcommands; each feature file appends its own.
func Commands(setup Setup) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range commands {
		out = append(out, c(setup))
	}
	return out
}

var commands = []func(Setup) *cobra.Command{startCmd, listCmd}

// env is what a starter command connects to.
type env struct {
	cfg   *config.Config
	log   *zap.Logger
	pool  *pgxpool.Pool
	tc    client.Client
	cases *cases.Service
	keys  *keyring.Ring
}

// connect opens PostgreSQL, and Temporal when withTemporal is set.
func connect(cmd *cobra.Command, setup Setup, withTemporal bool) (*env, func(), error) {
	cfg, log, err := setup(cmd)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Database.URL == "" {
		return nil, nil, fmt.Errorf("database.url is not set (PATHWAYS_DATABASE_URL or DATABASE_URL)")
	}
	ctx := cmd.Context()
	pool, err := store.Open(ctx, cfg.Database.URL, 4)
	if err != nil {
		return nil, nil, err
	}
	keys, err := keyring.FromConfig(cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	e := &env{cfg: cfg, log: log, pool: pool, keys: keys}
	closers := []func(){pool.Close}
	if withTemporal {
		e.tc, err = worker.Dial(ctx, cfg, log)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		closers = append(closers, e.tc.Close)
		progs, err := programmes.Load(cfg.Programs.Dir, catalog.Registry())
		if err != nil {
			e.tc.Close()
			pool.Close()
			return nil, nil, fmt.Errorf("programme definitions: %w", err)
		}
		e.cases = &cases.Service{Pool: pool, Temporal: e.tc, TaskQueue: cfg.Temporal.TaskQueue, Programmes: progs, SecondsPerDay: cfg.Demo.SecondsPerDay, Keys: keys}
	}
	return e, func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 2, 4, 2, ' ', 0) }
