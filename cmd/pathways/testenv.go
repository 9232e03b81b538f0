package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/internal/testenv"
)

// testenvCmd runs a command (the test suite) next to one in-memory Temporal
// dev server and one throwaway PostgreSQL, shared by every test package.
func testenvCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "testenv -- COMMAND [ARGS...]",
		Short: "Run a command with a throwaway Temporal dev server and PostgreSQL",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			tools, _ := cmd.Flags().GetString("dev-tools-dir")
			version, _ := cmd.Flags().GetString("dev-temporal-version")
			bin, err := devenv.EnsureTemporalCLI(ctx, tools, version, os.Stderr)
			if err != nil {
				return err
			}
			tport, err := devenv.FreePort()
			if err != nil {
				return err
			}
			tsrv := &devenv.Temporal{Binary: bin, Port: tport, Log: io.Discard}
			tproc, err := tsrv.Start(ctx)
			if err != nil {
				return err
			}
			defer tproc.Stop() //nolint:errcheck
			dir, err := os.MkdirTemp("", "pathways-testenv-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := os.Chmod(dir, 0o755); err != nil {
				return err
			}
			pport, err := devenv.FreePort()
			if err != nil {
				return err
			}
			pg := &devenv.Postgres{DataDir: filepath.Join(dir, "pg"), Port: pport, Log: io.Discard, NoFsync: true}
			pproc, err := pg.Start(ctx)
			if err != nil {
				return err
			}
			defer pproc.Stop() //nolint:errcheck
			child := exec.CommandContext(ctx, args[0], args[1:]...)
			child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
			child.Env = append(os.Environ(), testenv.EnvTemporal+"="+tsrv.Address(), testenv.EnvDatabase+"="+pg.URL("postgres"))
			err = child.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				_ = tproc.Stop()
				_ = pproc.Stop()
				os.RemoveAll(dir)
				os.Exit(exit.ExitCode())
			}
			return err
		},
	}
}
