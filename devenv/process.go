// Package devenv starts the servers pathways needs on a development machine
// or in tests: the Temporal CLI's dev server and a private PostgreSQL cluster.
// Every child is tied to its parent so none outlives it.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a child that gets a polite signal first and a kill after grace.
type Process struct {
	Name  string
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	grace time.Duration
	sig   os.Signal
}

// Spawn starts a child in its own process group, so Ctrl-C on the terminal
// reaches the supervisor alone and it can stop children in order. Pdeathsig
// kills the child if the supervisor itself dies.
func Spawn(name string, cmd *exec.Cmd, out io.Writer, stopSignal os.Signal, grace time.Duration) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{}), grace: grace, sig: stopSignal}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the exit error, valid after Done.
func (p *Process) Err() error { return p.err }

// Stop signals the process group, then kills it after the grace period.
func (p *Process) Stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, p.sig.(syscall.Signal))
	select {
	case <-p.done:
	case <-time.After(p.grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return nil // a signalled exit is the expected end
	}
	return p.err
}

// Kill sends SIGKILL to the process group (a crash, for fault tests) and
// waits for the exit.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Signal sends sig to the process group, e.g. SIGSTOP and SIGCONT to freeze
// and thaw it.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(-p.cmd.Process.Pid, sig) }

// waitFor polls check until it succeeds, the process dies, or ctx ends.
func waitFor(ctx context.Context, p *Process, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", p.Name, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Pid is the process ID (and the ID of its process group).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// ExitStatus describes how the process ended, e.g. "exit status 1" or
// "signal: killed"; valid after Done.
func (p *Process) ExitStatus() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// KillGroup kills what is left of the process group after its leader died
// (PostgreSQL's backends outlive a killed postmaster and hold its shared
// memory, so a restart would fail while they run).
func (p *Process) KillGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}
