package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/pathways-se/pathways/codec"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/store"
)

func devCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run everything on this machine: Temporal dev server, PostgreSQL, simulators, worker, API (make run)",
		Long: `dev starts the whole system for development, in order:

  1. builds the pinned Temporal CLI into dev.tools_dir on first use (about 4 minutes);
  2. starts the Temporal dev server with its SQLite file in <dev.data_dir>/temporal;
  3. starts a private PostgreSQL cluster in <dev.data_dir>/postgres, unless
     DATABASE_URL / PATHWAYS_DATABASE_URL points at one;
  4. migrates and seeds the database (dev.seed);
  5. runs the simulators, the worker and the API as child processes, their
     logs merged here with a name prefix, and waits for /readyz.

A child that dies (the dev server, PostgreSQL, the simulators, the worker
or the API) is restarted after a back-off of 1 s, doubling to 30 s, each
restart logged with the child's name and exit status; after 5 quick deaths
in a row dev gives up and stops. Ctrl-C stops everything in reverse order.
Data in dev.data_dir survives restarts; delete the folder (make clean) to
start over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			d := &devRun{cfg: cfg, out: os.Stderr, start: time.Now(), flags: cmd.Flags()}
			d.exited = make(chan exit, 16)
			err = d.run(cmd.Context())
			d.stopAll()
			if err != nil && cmd.Context().Err() != nil {
				// Ctrl-C while starting: the cancellation is the cause, not an error.
				fmt.Fprintln(d.out, "dev: stopped")
				return nil
			}
			if err == nil {
				fmt.Fprintln(d.out, "dev: stopped")
			}
			return err
		},
	}
}

// devRun supervises the servers and children of `pathways dev`.
type devRun struct {
	cfg   *config.Config
	out   io.Writer
	start time.Time
	flags *pflag.FlagSet
	name  string // how it names itself in its lines: dev (the default) or cluster

	mu       sync.Mutex
	children []*child // in start order; stopped in reverse
	stopping bool
	exited   chan exit
	logs     []*os.File
}

// child is one supervised process and how to start it again.
type child struct {
	name     string
	start    func(ctx context.Context) (*devenv.Process, error)
	proc     *devenv.Process
	started  time.Time
	restarts int // restarts in a row, each after a short life
}

// exit is a child's process that ended by itself.
type exit struct {
	c *child
	p *devenv.Process
}

// Restart policy: back-off doubling from restartFirst to restartMax; a child
// that lived stableAfter is healthy again; maxRestarts quick deaths in a row
// and dev gives up.
var (
	restartFirst = time.Second
	restartMax   = 30 * time.Second
	stableAfter  = time.Minute
	maxRestarts  = 5
)

func (d *devRun) say(format string, a ...any) {
	name := d.name
	if name == "" {
		name = "dev"
	}
	fmt.Fprintf(d.out, name+": "+format+"\n", a...)
}

// supervise starts a child and restarts it whenever it dies.
func (d *devRun) supervise(ctx context.Context, name string, start func(context.Context) (*devenv.Process, error)) error {
	p, err := start(ctx)
	if err != nil {
		return err
	}
	c := &child{name: name, start: start, proc: p, started: time.Now()}
	d.say("started %s (pid %d)", name, p.Pid())
	d.mu.Lock()
	d.children = append(d.children, c)
	d.mu.Unlock()
	d.watch(c, p)
	return nil
}

// watch reports p if it exits while dev is not stopping.
func (d *devRun) watch(c *child, p *devenv.Process) {
	go func() {
		<-p.Done()
		d.mu.Lock()
		stopping := d.stopping
		d.mu.Unlock()
		if !stopping {
			d.exited <- exit{c, p}
		}
	}()
}

// restart brings a dead child back after a back-off, trying again while the
// start fails; it gives up, with an error, after maxRestarts in a row.
func (d *devRun) restart(ctx context.Context, e exit) error {
	c := e.c
	e.p.KillGroup()
	lived := time.Since(c.started)
	if lived >= stableAfter {
		c.restarts = 0
	}
	status := e.p.ExitStatus()
	d.say("%s (pid %d) exited after %s: %s", c.name, e.p.Pid(), lived.Round(100*time.Millisecond), status)
	for {
		if c.restarts >= maxRestarts {
			return fmt.Errorf("%s keeps dying (%d restarts in a row, last: %s): giving up", c.name, c.restarts, status)
		}
		c.restarts++
		delay := min(restartFirst<<(c.restarts-1), restartMax)
		d.say("restarting %s in %s (restart %d of at most %d in a row)", c.name, delay, c.restarts, maxRestarts)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		p, err := c.start(ctx)
		if err != nil {
			status = err.Error()
			d.say("%s did not start: %v", c.name, err)
			continue
		}
		d.mu.Lock()
		c.proc, c.started = p, time.Now()
		stopping := d.stopping
		d.mu.Unlock()
		if stopping {
			_ = p.Stop()
			return ctx.Err()
		}
		d.say("restarted %s (pid %d)", c.name, p.Pid())
		d.watch(c, p)
		return nil
	}
}

// stopAll stops every process, last started first.
func (d *devRun) stopAll() {
	d.mu.Lock()
	d.stopping = true
	procs := make([]*devenv.Process, len(d.children))
	for i, c := range d.children {
		procs[i] = c.proc
	}
	d.children = nil
	d.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		d.say("stopping %s", p.Name)
		if err := p.Stop(); err != nil {
			d.say("%s: %v", p.Name, err)
		}
	}
	for _, f := range d.logs {
		_ = f.Close()
	}
	d.logs = nil
}

// restartExited restarts any child that has exited by itself so far.
func (d *devRun) restartExited(ctx context.Context) error {
	for {
		select {
		case e := <-d.exited:
			if err := d.restart(ctx, e); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (d *devRun) logFile(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "\n===== pathways dev started %s =====\n", d.start.Format(time.RFC3339))
	d.logs = append(d.logs, f)
	return f, nil
}

func (d *devRun) run(ctx context.Context) error {
	cfg := d.cfg
	dataDir, err := filepath.Abs(cfg.Dev.DataDir)
	if err != nil {
		return err
	}
	logDir := filepath.Join(dataDir, "logs")
	d.say("data in %s (delete it, or run make clean, to start over)", dataDir)

	// 1. The pinned Temporal CLI.
	bin, err := devenv.EnsureTemporalCLI(ctx, cfg.Dev.ToolsDir, cfg.Dev.TemporalVersion, d.out)
	if err != nil {
		return err
	}

	// 2. The Temporal dev server, file-backed so pathways survive a restart;
	// its Web UI decodes payloads through the API's codec server.
	tlogf, err := d.logFile(logDir, "temporal.log")
	if err != nil {
		return err
	}
	// The keys, created on first run before any child could race to. After
	// the log folder, so the data folder stays searchable for postgres.
	keys, err := keyring.ForDev(cfg)
	if err != nil {
		return err
	}
	srv := &devenv.Temporal{
		Binary: bin, Port: cfg.Dev.TemporalPort, UIPort: cfg.Dev.TemporalUIPort,
		DBFile: filepath.Join(dataDir, "temporal", "temporal.db"), Log: tlogf,
		Namespaces: namespaces(cfg.Temporal.Namespace), UICodecEndpoint: d.codecEndpoint(),
	}
	d.say("starting Temporal dev server %s on %s (log: %s)", cfg.Dev.TemporalVersion, srv.Address(), tlogf.Name())
	if err := d.supervise(ctx, "temporal", srv.Start); err != nil {
		return fmt.Errorf("temporal: %w (see %s)", err, tlogf.Name())
	}
	if err := waitTemporal(ctx, srv.Address(), cfg.Temporal.Namespace, keys, 60*time.Second); err != nil {
		return fmt.Errorf("temporal: %w (see %s)", err, tlogf.Name())
	}
	if err := setRetention(ctx, srv.Address(), cfg.Temporal.Namespace, NamespaceRetention); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	d.say("Temporal is up (%s)", since(d.start))

	// 3. PostgreSQL: the configured one, or a private cluster.
	// dbURL is the schema owner's (migrations, seed); appURL the role the
	// children run as, which may not change the audit log.
	dbURL, appURL := cfg.Database.MigrationURL(), cfg.Database.URL
	if dbURL == "" {
		plogf, err := d.logFile(logDir, "postgres.log")
		if err != nil {
			return err
		}
		pg := &devenv.Postgres{DataDir: filepath.Join(dataDir, "postgres"), Port: cfg.Dev.PostgresPort, Log: plogf}
		d.say("starting PostgreSQL on 127.0.0.1:%d (data: %s, log: %s)", pg.Port, pg.DataDir, plogf.Name())
		if err := d.supervise(ctx, "postgres", pg.Start); err != nil {
			return fmt.Errorf("postgres: %w (see %s)", err, plogf.Name())
		}
		if err := pg.EnsureDatabase(ctx, "pathways"); err != nil {
			return fmt.Errorf("postgres: create database: %w", err)
		}
		if err := pg.EnsureAppRole(ctx); err != nil {
			return fmt.Errorf("postgres: create the application role: %w", err)
		}
		dbURL, appURL = pg.URL("pathways"), pg.URLAs(devenv.AppRole, "pathways")
		d.say("PostgreSQL is up (%s)", since(d.start))
	} else {
		d.say("using the database from DATABASE_URL / PATHWAYS_DATABASE_URL")
	}

	// 4. Migrations and demo data.
	if err := d.prepareDatabase(ctx, dbURL); err != nil {
		return err
	}
	if err := d.restartExited(ctx); err != nil {
		return err
	}

	// 5. The children: the same executable, one process each.
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := d.childEnv(appURL, dbURL, srv.Address())
	for _, name := range []string{"simulators", "worker", "api"} {
		grace := 15 * time.Second
		switch name {
		case "worker":
			grace = 40 * time.Second // the worker lets in-flight activities finish
		case "api":
			grace = cfg.HTTP.ShutdownTimeout + 5*time.Second
		}
		out := newPrefixWriter(d.out, name)
		err := d.supervise(ctx, name, func(context.Context) (*devenv.Process, error) {
			c := exec.Command(exe, name)
			c.Env = env
			return devenv.Spawn(name, c, out, syscall.SIGTERM, grace)
		})
		if err != nil {
			return err
		}
	}

	// 6. Ready when the API says Temporal, PostgreSQL and the worker are up.
	base := httpBase(cfg.HTTP.Addr)
	if err := d.waitReady(ctx, base+"/readyz", 120*time.Second); err != nil {
		return err
	}
	d.printReady(base, dbURL)

	return d.superviseAll(ctx)
}

// superviseAll brings back a child that dies until ctx ends; one that keeps
// dying ends the run.
func (d *devRun) superviseAll(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(d.out)
			d.say("interrupted: stopping")
			return nil
		case e := <-d.exited:
			if err := d.restart(ctx, e); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

func (d *devRun) prepareDatabase(ctx context.Context, url string) error {
	pool, err := store.Open(ctx, url, 2)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	d.say("migrations: %d applied", len(applied))
	keys, err := keyring.ForDev(d.cfg)
	if err != nil {
		return err
	}
	if err := backfill(ctx, d.out, pool, keys, 500); err != nil {
		return fmt.Errorf("encrypt existing rows: %w", err)
	}
	if d.cfg.Dev.Seed {
		if err := store.SeedDemo(ctx, pool); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		d.say("demo data seeded (centres, staff, employers)")
	}
	return nil
}

// childEnv passes the resolved servers, and every flag given to dev, to the
// children as PATHWAYS_* variables, so they see the same configuration.
func (d *devRun) childEnv(dbURL, ownerURL, temporalAddr string) []string {
	env := os.Environ()
	if d.flags != nil {
		if f := d.flags.Lookup("config"); f != nil && f.Changed {
			env = append(env, "PATHWAYS_CONFIG="+f.Value.String())
		}
		for _, k := range config.SortedKeys() {
			if f := d.flags.Lookup(config.FlagName(k)); f != nil && f.Changed {
				env = append(env, config.EnvName(k)+"="+f.Value.String())
			}
		}
	}
	env = append(env,
		config.EnvName("database.url")+"="+dbURL,
		config.EnvName("database.owner_url")+"="+ownerURL,
		config.EnvName("temporal.address")+"="+temporalAddr,
	)
	if d.cfg.Temporal.UIURL == "http://localhost:8233" && d.cfg.Dev.TemporalUIPort != 8233 {
		env = append(env, config.EnvName("temporal.ui_url")+"="+d.temporalUI())
	}
	// The children open what dev's keys encrypted, wherever they run from.
	if d.cfg.Crypto.Keys == "" {
		if abs, err := filepath.Abs(keyring.DevFile(d.cfg)); err == nil {
			env = append(env, config.EnvName("crypto.key_file")+"="+abs)
		}
	}
	return env
}

func (d *devRun) temporalUI() string {
	return "http://localhost:" + strconv.Itoa(d.cfg.Dev.TemporalUIPort)
}

func (d *devRun) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	d.say("waiting for %s", url)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	hc := &http.Client{Timeout: 3 * time.Second}
	last := "no answer yet"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-d.exited:
			if err := d.restart(ctx, e); err != nil {
				return err
			}
		case <-deadline.C:
			return fmt.Errorf("not ready after %s: %s", timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (d *devRun) printReady(base, dbURL string) {
	cfg := d.cfg
	simBase := httpBase(cfg.Sim.Addr)
	w := d.out
	fmt.Fprintf(w, "\n  pathways is ready in %s\n\n", since(d.start))
	fmt.Fprintf(w, "    console          %s   (sign in as coach.angered, team.angered, manager or admin; password %s)\n", base, store.DevPassword)
	fmt.Fprintf(w, "    API docs         %s/api/openapi.json\n", base)
	fmt.Fprintf(w, "    health, metrics  %s/readyz   %s/metrics\n", base, base)
	fmt.Fprintf(w, "    Temporal Web UI  %s   (codec server %s: sign in to the console, in its Codec Server settings use this endpoint with \"include cross-origin credentials\")\n", d.temporalUI(), d.codecEndpoint())
	fmt.Fprintf(w, "    simulators       %s/admin/requests   (mail: %s/admin/mail)\n", simBase, simBase)
	fmt.Fprintf(w, "    PostgreSQL       %s\n", redactedURL(dbURL))
	fmt.Fprintf(w, "    Temporal         %s (namespace %s)\n", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Dev.TemporalPort)), cfg.Temporal.Namespace)
	fmt.Fprintf(w, "\n  Ctrl-C stops everything; data stays in %s.\n\n", cfg.Dev.DataDir)
}

// waitTemporal dials with the SDK and checks health until both succeed.
func waitTemporal(ctx context.Context, addr, namespace string, keys *keyring.Ring, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	opts := client.Options{HostPort: addr, Namespace: namespace, Logger: quiet}
	codec.Apply(&opts, keys)
	var last error
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			hctx, hcancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = c.CheckHealth(hctx, nil)
			hcancel()
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("SDK client cannot connect to %s after %s: %v", addr, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// NamespaceRetention is how long Temporal keeps a closed pathway's history
// (dev server and compose alike): long enough for support and incident
// review, short since the history holds personal data (encrypted) and the
// case file proper lives in PostgreSQL under the retention policy there.
const NamespaceRetention = 30 * 24 * time.Hour

// setRetention sets the namespace's retention of closed workflows; the dev
// server creates namespaces with one day.
func setRetention(ctx context.Context, addr, namespace string, d time.Duration) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: addr, Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = nc.Update(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: namespace,
		Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(d)}})
	if err != nil {
		return fmt.Errorf("set the retention of namespace %s: %w", namespace, err)
	}
	return nil
}

// codecEndpoint is the API's codec server as the browser reaches it: the
// public URL, or the listen address when only that was changed. The host
// stays localhost, like the Web UI's, so the console's session cookie
// (SameSite=Lax) goes along with the UI's requests.
func (d *devRun) codecEndpoint() string {
	base := d.cfg.HTTP.PublicURL
	if base == "" || base == "http://localhost:8080" {
		base = httpBase(d.cfg.HTTP.Addr)
		if _, port, err := net.SplitHostPort(d.cfg.HTTP.Addr); err == nil {
			base = "http://localhost:" + port
		}
	}
	return strings.TrimRight(base, "/") + "/api/v1/codec"
}

// namespaces asks the dev server to create a non-default namespace.
func namespaces(ns string) []string {
	if ns == "" || ns == "default" {
		return nil
	}
	return []string{ns}
}

// httpBase turns a listen address into a URL a browser on this machine can open.
func httpBase(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func redactedURL(u string) string {
	c := &config.Config{Database: config.DatabaseConfig{URL: u}}
	if s, ok := c.Redacted()["database.url"].(string); ok {
		return s
	}
	return ""
}

func since(t time.Time) string { return time.Since(t).Round(100 * time.Millisecond).String() }

// prefixWriter writes whole lines to out, each prefixed by the child's name,
// so the logs of several children interleave line by line, never mid-line.
type prefixWriter struct {
	out    io.Writer
	prefix []byte
	buf    []byte
}

// outMu serialises every prefixWriter's writes to the shared terminal.
var outMu sync.Mutex

func newPrefixWriter(out io.Writer, name string) *prefixWriter {
	return &prefixWriter{out: out, prefix: fmt.Appendf(nil, "%-10s | ", name)}
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, w.prefix...), w.buf[:i+1]...)
		if _, err := w.out.Write(line); err != nil {
			return len(p), err
		}
		w.buf = w.buf[i+1:]
	}
	// A child that writes a very long line without a newline still shows up.
	if len(w.buf) > 64<<10 {
		line := append(append(append([]byte{}, w.prefix...), w.buf...), '\n')
		w.buf = w.buf[:0]
		if _, err := w.out.Write(line); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}
