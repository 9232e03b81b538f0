package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/keyring"
)

// Environment variables internal/testenv reads (kept in step with it).
const (
	envTestTemporal = "PATHWAYS_TEST_TEMPORAL_ADDRESS"
	envTestDatabase = "PATHWAYS_TEST_DATABASE_URL"
)

func testenvCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "testenv -- command [args...]",
		Short: "Run a command with one throwaway Temporal dev server and PostgreSQL cluster (make test)",
		Long: `testenv starts one in-memory Temporal dev server and one throwaway PostgreSQL
cluster (fsync off, data in a temporary folder), runs the command with
PATHWAYS_TEST_TEMPORAL_ADDRESS and PATHWAYS_TEST_DATABASE_URL set, then stops
both, removes the folder and exits with the command's exit code. Every test
package of a run shares the two servers through internal/testenv.`,
		Example: "  pathways testenv -- go test -count=1 ./...",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			code, err := runTestenv(cmd.Context(), cfg, args)
			if err != nil {
				return err
			}
			if code != 0 {
				os.Exit(code)
			}
			return nil
		},
	}
}

func runTestenv(ctx context.Context, cfg *config.Config, args []string) (int, error) {
	say := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", a...) }
	start := time.Now()

	bin, err := devenv.EnsureTemporalCLI(ctx, cfg.Dev.ToolsDir, cfg.Dev.TemporalVersion, os.Stderr)
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "pathways-testenv-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// The postgres user runs the cluster when we are root; it must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}

	var procs []*devenv.Process
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			_ = procs[i].Stop()
		}
	}()

	tlog, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		return 0, err
	}
	defer tlog.Close()
	tport, err := devenv.FreePort()
	if err != nil {
		return 0, err
	}
	srv := &devenv.Temporal{Binary: bin, Port: tport, Log: tlog}
	tp, err := srv.Start(ctx)
	if err != nil {
		return 0, fmt.Errorf("temporal: %w\n%s", err, tail(tlog.Name()))
	}
	procs = append(procs, tp)

	plog, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return 0, err
	}
	defer plog.Close()
	pport, err := devenv.FreePort()
	if err != nil {
		return 0, err
	}
	pg := &devenv.Postgres{DataDir: filepath.Join(dir, "data"), Port: pport, Log: plog, NoFsync: true}
	pp, err := pg.Start(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w\n%s", err, tail(plog.Name()))
	}
	procs = append(procs, pp)
	say("Temporal %s and PostgreSQL 127.0.0.1:%d up in %s", srv.Address(), pport, time.Since(start).Round(100*time.Millisecond))

	child := exec.Command(args[0], args[1:]...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	child.Env = append(os.Environ(),
		envTestTemporal+"="+srv.Address(),
		envTestDatabase+"="+pg.URL("postgres"),
	)
	// One key set for the whole run, so every test process and the
	// payloads they leave on the shared dev server open with the same keys.
	if os.Getenv("PATHWAYS_CRYPTO_KEYS") == "" {
		keys, _ := json.Marshal(keyring.Generate("test1"))
		child.Env = append(child.Env, "PATHWAYS_CRYPTO_KEYS="+string(keys))
	}
	// The child stays in our process group, so Ctrl-C reaches it directly;
	// Pdeathsig covers the case where testenv itself is killed.
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()

	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		// SIGTERM (or a second Ctrl-C) for us: pass it on, then insist.
		_ = child.Process.Signal(syscall.SIGTERM)
		select {
		case werr = <-done:
		case <-time.After(30 * time.Second):
			_ = child.Process.Kill()
			werr = <-done
		}
	}
	say("%s finished in %s; stopping servers", args[0], time.Since(start).Round(100*time.Millisecond))
	var exitErr *exec.ExitError
	switch {
	case werr == nil:
		return 0, nil
	case errors.As(werr, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	default:
		return 0, werr
	}
}

// tail is the end of a server log, for a failed start.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "--- " + filepath.Base(path) + " (last " + strconv.Itoa(len(b)) + " bytes) ---\n" + string(b)
}
