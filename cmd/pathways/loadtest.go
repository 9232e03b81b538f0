package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/loadtest"
	"github.com/pathways-se/pathways/store"
)

func loadtestCmd() *cobra.Command {
	var (
		cfg      loadtest.Config
		bases    []string
		accounts []string
	)
	c := &cobra.Command{
		Use:   "loadtest",
		Short: "Replay one simulated working day of a large municipality's staff work through the HTTP API",
		Long: `loadtest generates one working day (08:00–17:00) of a large municipality's staff work
(10,000 open pathways; the model and its assumptions are in package loadtest and
docs/capacity.md) from a seed, creates a working set of pathways in the phases the day's
actions need (through the API), then replays the day at --speed through the API
instances named by --api, round-robin, as the --staff accounts. A progress line every
few seconds; at the end requests per kind, achieved against scheduled rate, lag behind
schedule, latency percentiles, errors by status and, with --sizes-db, database growth.

  pathways loadtest --api http://localhost:18230 --api http://localhost:18231 --speed 10 \
    --sizes-db postgres://pathways@127.0.0.1:18200/pathways?sslmode=disable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(bases) == 0 {
				return fmt.Errorf("--api: name at least one API base URL, e.g. http://localhost:17230")
			}
			if cfg.Speed <= 0 {
				return fmt.Errorf("--speed must be above 0, not %g", cfg.Speed)
			}
			if cfg.Scale <= 0 {
				return fmt.Errorf("--scale must be above 0, not %g", cfg.Scale)
			}
			if cfg.Duration < 0 || cfg.Duration > loadtest.DayLen {
				return fmt.Errorf("--duration must be between 0 and %s of simulated time, not %s", loadtest.DayLen, cfg.Duration)
			}
			cfg.Bases, cfg.Accounts = bases, accounts
			cfg.Model = loadtest.LargeMunicipality()
			cfg.Out = cmd.OutOrStdout()
			rep, err := loadtest.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if n := rep.ErrorCount(); n > 0 {
				return fmt.Errorf("%d requests ended in an error", n)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&bases, "api", nil, "API base URL (repeat for several; used round-robin)")
	f.StringSliceVar(&accounts, "staff", []string{"coach.hisingen", "coach.centrum", "coach.oster", "coach.angered"}, "staff accounts to sign in as (each works its own centre's cases)")
	f.StringVar(&cfg.Password, "password", store.DevPassword, "the staff accounts' password (the dev seed's by default)")
	f.Float64Var(&cfg.Speed, "speed", 10, "replay speed: 10 runs the 9-hour day in 54 minutes")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the day's model: the same seed gives the same day")
	f.Float64Var(&cfg.Scale, "scale", 1, "multiply every volume (1: one large municipality)")
	f.DurationVar(&cfg.Duration, "duration", 0, "replay only the first part of the day, in simulated time (e.g. 3h: 08:00–11:00; 0: all of it)")
	f.IntVar(&cfg.StepsPerPlan, "steps-per-plan", 6, "manual steps in each working-set plan (one step action confirms one)")
	f.IntVar(&cfg.Concurrency, "concurrency", 64, "requests in flight at most (a full pipe shows as lag)")
	f.DurationVar(&cfg.Progress, "progress", 5*time.Second, "a progress line this often")
	f.StringVar(&cfg.DatabaseURL, "sizes-db", "", "PostgreSQL URL of the cluster as a role that may CHECKPOINT, to report database growth (optional)")
	return c
}
