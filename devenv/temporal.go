package devenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
)

// TemporalCLIModule is the package that `go install` builds the dev server from.
const TemporalCLIModule = "github.com/temporalio/cli/cmd/temporal"

// TemporalBinary is where the pinned CLI lives inside the tools folder.
func TemporalBinary(toolsDir, version string) string {
	return filepath.Join(toolsDir, "temporal-"+version, "temporal")
}

// EnsureTemporalCLI builds the pinned CLI through the Go module proxy on first
// use, showing a spinner with the elapsed time, since it takes minutes.
func EnsureTemporalCLI(ctx context.Context, toolsDir, version string, out io.Writer) (string, error) {
	bin, err := filepath.Abs(TemporalBinary(toolsDir, version))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Fprintf(out, "first run: building the Temporal dev server (%s@%s), about 4 minutes\n", TemporalCLIModule, version)
	if err := goInstall(ctx, out, "go install temporal "+version, filepath.Dir(bin), TemporalCLIModule+"@"+version); err != nil {
		return "", fmt.Errorf("building the Temporal CLI failed: %w", err)
	}
	return bin, nil
}

// goInstall builds packages into gobin through the Go module proxy, showing
// a spinner with the elapsed time, since a first build takes minutes.
func goInstall(ctx context.Context, out io.Writer, desc, gobin string, pkgs ...string) error {
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(out), progressbar.OptionSpinnerType(14),
		progressbar.OptionSetDescription(desc), progressbar.OptionShowElapsedTimeOnFinish())
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = bar.Add(1)
			}
		}
	}()
	cmd := exec.CommandContext(ctx, "go", append([]string{"install"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	output, err := cmd.CombinedOutput()
	close(done)
	_ = bar.Finish()
	fmt.Fprintln(out)
	if err != nil {
		return fmt.Errorf("%v\n%s", err, output)
	}
	return nil
}

// Temporal is the CLI's dev server.
type Temporal struct {
	Binary string
	Port   int
	UIPort int // 0 runs headless
	// DBFile is the SQLite file; empty keeps everything in memory (tests).
	DBFile     string
	Log        io.Writer
	Namespaces []string
	// UICodecEndpoint is the codec server the Web UI decodes payloads with.
	UICodecEndpoint string
}

// Address is the frontend's host:port.
func (t *Temporal) Address() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Port)) }

// Start runs the dev server and waits until its frontend accepts connections.
func (t *Temporal) Start(ctx context.Context) (*Process, error) {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(t.Port),
		"--log-level", "warn",
		"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
		"--dynamic-config-value", "frontend.workerVersioningWorkflowAPIs=true",
	}
	if t.UIPort > 0 {
		args = append(args, "--ui-port", strconv.Itoa(t.UIPort))
		if t.UICodecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", t.UICodecEndpoint)
		}
	} else {
		args = append(args, "--headless")
	}
	if t.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(t.DBFile), 0o755); err != nil {
			return nil, err
		}
		args = append(args, "--db-filename", t.DBFile,
			"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")
	}
	for _, ns := range t.Namespaces {
		args = append(args, "--namespace", ns)
	}
	return spawnListening(ctx, exec.Command(t.Binary, args...), t.Log, t.Address(), 15*time.Second, 90*time.Second)
}

// spawnListening starts a Temporal process and waits until addr accepts
// connections; one that never does is stopped.
func spawnListening(ctx context.Context, cmd *exec.Cmd, log io.Writer, addr string, grace, wait time.Duration) (*Process, error) {
	proc, err := Spawn("temporal", cmd, log, syscall.SIGTERM, grace)
	if err != nil {
		return nil, err
	}
	err = waitFor(ctx, proc, wait, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		_ = proc.Stop()
		return nil, err
	}
	return proc, nil
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
