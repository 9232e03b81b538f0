package starter

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/internal/testenv"
)

// cliSetup points the CLI at the test's database and task queue.
func cliSetup(tb testing.TB, databaseURL, taskQueue string) Setup {
	tb.Helper()
	cfg, err := config.Load(nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Database.URL, cfg.Temporal.Address, cfg.Temporal.TaskQueue = databaseURL, testenv.TemporalAddress(tb), taskQueue
	cfg.Programs.Dir = "../programmes/definitions"
	return func(*cobra.Command) (*config.Config, *zap.Logger, error) { return cfg, zap.NewNop(), nil }
}

// runCLI runs a command and returns what it printed.
func runCLI(ctx context.Context, c *cobra.Command, args ...string) (string, error) {
	var out strings.Builder
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs(args)
	err := c.ExecuteContext(ctx)
	return out.String(), err
}
