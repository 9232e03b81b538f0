// Command pathways runs every part of the system: the worker, the API and web
// console, the simulators, migrations, and `dev`, which starts them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/logging"
	"github.com/pathways-se/pathways/starter"
)

func main() {
	root := &cobra.Command{
		Use:           "pathways",
		Short:         "Labour-market programme pathways on Temporal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.RegisterFlags(root.PersistentFlags())
	root.AddCommand(devCmd(), clusterCmd(), workerCmd(), apiCmd(), simulatorsCmd(), migrateCmd(), auditCmd(), retentionCmd(), keysCmd(), configCmd(), testenvCmd(), forecastCmd(), reportCmd(), loadtestCmd())
	for _, c := range starter.Commands(setup) {
		root.AddCommand(c)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			os.Exit(coded.ExitCode())
		}
		os.Exit(1)
	}
}

// setup loads and validates the config and builds the logger.
func setup(cmd *cobra.Command) (*config.Config, *zap.Logger, error) {
	cfg, err := config.Load(cmd.Flags())
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	log, err := logging.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, log, nil
}
