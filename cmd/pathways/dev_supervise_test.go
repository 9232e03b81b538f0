package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/internal/testenv"
)

// A child that keeps dying is restarted with back-off, each restart logged
// with its exit status, and dev gives up after maxRestarts in a row.
func TestSupervisorGivesUpOnAChildThatKeepsDying(t *testing.T) {
	first, most := restartFirst, maxRestarts
	restartFirst, maxRestarts = 20*time.Millisecond, 3
	t.Cleanup(func() { restartFirst, maxRestarts = first, most })

	out := &testenv.SyncBuffer{}
	d := &devRun{out: out, exited: make(chan exit, 4)}
	starts := 0
	start := func(context.Context) (*devenv.Process, error) {
		starts++
		return devenv.Spawn("flaky", exec.Command("sh", "-c", "exit 3"), nil, syscall.SIGTERM, time.Second)
	}
	ctx := context.Background()
	if err := d.supervise(ctx, "flaky", start); err != nil {
		t.Fatal(err)
	}
	var err error
	for err == nil {
		select {
		case e := <-d.exited:
			err = d.restart(ctx, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("no exit reported; output:\n%s", out)
		}
	}
	d.stopAll()
	if !strings.Contains(err.Error(), "flaky keeps dying (3 restarts in a row, last: exit status 3)") {
		t.Fatalf("error = %v", err)
	}
	if starts != 4 {
		t.Errorf("started %d times, want 1 + 3 restarts", starts)
	}
	log := out.String()
	for _, want := range []string{"flaky (pid ", "exit status 3", "restarting flaky in 20ms (restart 1 of at most 3", "restarting flaky in 40ms (restart 2", "restarting flaky in 80ms (restart 3"} {
		if !strings.Contains(log, want) {
			t.Errorf("output lacks %q:\n%s", want, log)
		}
	}
}

// lowPort finds a free loopback port below 32768 (the ephemeral range is
// above), away from the defaults other stacks on this machine use.
func lowPort(t *testing.T, taken map[int]bool) int {
	for i := 0; i < 200; i++ {
		p := 20000 + rand.IntN(12000)
		if taken[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		taken[p] = true
		return p
	}
	t.Fatal("no free port below 32768")
	return 0
}

var startedRe = regexp.MustCompile(`(started|restarted) (\w+) \(pid (\d+)\)`)

// pidOf is the latest pid dev reported for a child.
func pidOf(out, name string) int {
	pid := 0
	for _, m := range startedRe.FindAllStringSubmatch(out, -1) {
		if m[2] == name {
			pid, _ = strconv.Atoi(m[3])
		}
	}
	return pid
}

func waitOutput(t *testing.T, out *testenv.SyncBuffer, what string, timeout time.Duration, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output:\n%s", what, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readyz(url string) bool {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// A whole dev stack on non-default ports: kill -9 the worker, the API and
// PostgreSQL; each comes back by itself and /readyz answers again; Ctrl-C
// then stops everything in order.
func TestDevRestartsAKilledChild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole dev stack")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pathways")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The cluster's owner (postgres, when we are root) must reach the data.
	data, err := os.MkdirTemp("", "pathways-dev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	taken := map[int]bool{}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", lowPort(t, taken))
	cmd := exec.Command(bin, "dev", "--dev-data-dir", filepath.Join(data, "dev"), "--dev-tools-dir", filepath.Join(root, ".tools"),
		"--dev-postgres-port", strconv.Itoa(lowPort(t, taken)), "--dev-temporal-port", strconv.Itoa(lowPort(t, taken)),
		"--dev-temporal-ui-port", strconv.Itoa(lowPort(t, taken)), "--http-addr", httpAddr,
		"--simulators-addr", fmt.Sprintf("127.0.0.1:%d", lowPort(t, taken)), "--smtp-addr", fmt.Sprintf("127.0.0.1:%d", lowPort(t, taken)),
		"--escalation-cron", "0 7 1 1 *")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "PATHWAYS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Dir = root // programmes/definitions is read relative to it
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when dev has exited, with waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	waitOutput(t, out, "the stack to be ready", 4*time.Minute, func(s string) bool { return strings.Contains(s, "pathways is ready") })
	ready := "http://" + httpAddr + "/readyz"

	for _, name := range []string{"worker", "api", "postgres"} {
		old := pidOf(out.String(), name)
		if old == 0 {
			t.Fatalf("no pid for %s in:\n%s", name, out)
		}
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitOutput(t, out, name+" restarted", time.Minute, func(s string) bool {
			p := pidOf(s, name)
			return p != 0 && p != old
		})
		log := out.String()
		if want := fmt.Sprintf("%s (pid %d) exited after", name, old); !strings.Contains(log, want) || !strings.Contains(log, "signal: killed") {
			t.Fatalf("the restart of %s was not logged with its exit status:\n%s", name, log)
		}
		if err := syscall.Kill(pidOf(log, name), 0); err != nil {
			t.Fatalf("the restarted %s is not running: %v", name, err)
		}
		deadline := time.Now().Add(90 * time.Second)
		for !readyz(ready) {
			if time.Now().After(deadline) {
				t.Fatalf("/readyz does not answer 200 after %s came back; output:\n%s", name, out)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// Ctrl-C: everything stops, the API before the worker before the servers.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Fatalf("dev ended with %v:\n%s", waitErr, out)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("dev did not stop:\n%s", out)
	}
	log := out.String()
	order := []string{"stopping api", "stopping worker", "stopping simulators", "stopping postgres", "stopping temporal", "dev: stopped"}
	at := 0
	for _, s := range order {
		i := strings.Index(log[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, log)
		}
		at += i
	}
}
