package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/devenv"
	"github.com/pathways-se/pathways/keyring"
)

// DefaultClusterBasePort keeps the cluster clear of `pathways dev`'s ports
// and, with every offset, below 32768 (TestClusterPortsStayBelowSmallint).
const DefaultClusterBasePort = 17200

func clusterCmd() *cobra.Command {
	var basePort, workers, apis int
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run the production topology on this machine: Temporal server on PostgreSQL, two workers, two APIs (make run-cluster)",
		Long: `cluster starts what a municipality runs in production, without Docker:

  1. builds the pinned Temporal server and its SQL tool (` + devenv.TemporalServerVersion + `) into
     <dev.tools_dir>/temporal-server-` + devenv.TemporalServerVersion + ` on first use (about 5 minutes);
  2. starts a private PostgreSQL in <dev.data_dir>/cluster/postgres holding the
     databases temporal and temporal_visibility (role temporal) and pathways
     (owner pathways, application role pathways_app);
  3. sets up or upgrades Temporal's schemas with temporal-sql-tool, from the
     server module's schema/postgresql/v12;
  4. starts the Temporal server from deploy/temporal/pathways.yaml (the
     template compose mounts too) and creates the namespace with 30 days
     retention;
  5. migrates and seeds the database, then runs the simulators, the workers
     (worker-1, worker-2) and the API instances (api-1, api-2) on their own
     ports, each supervised and restarted like dev's children.

Every port derives from --base-port and stays below 32768, since Temporal
keeps membership ports in a PostgreSQL smallint. Ctrl-C stops everything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := setup(cmd)
			if err != nil {
				return err
			}
			defer log.Sync() //nolint:errcheck
			if workers < 1 || apis < 1 {
				return errors.New("--workers and --apis must be at least 1")
			}
			ports := devenv.PlanClusterPorts(basePort, apis)
			if err := ports.Check(true); err != nil {
				return err
			}
			d := &devRun{cfg: cfg, out: os.Stderr, start: time.Now(), flags: cmd.Flags(), name: "cluster"}
			d.exited = make(chan exit, 16)
			err = d.runCluster(cmd.Context(), ports, workers)
			d.stopAll()
			if err != nil && cmd.Context().Err() != nil {
				d.say("stopped")
				return nil
			}
			if err == nil {
				d.say("stopped")
			}
			return err
		},
	}
	cmd.Flags().IntVar(&basePort, "base-port", DefaultClusterBasePort, "first port of the cluster's block (PostgreSQL; Temporal +1..+10, simulators +20, SMTP +21, APIs +30...)")
	cmd.Flags().IntVar(&workers, "workers", 2, "worker processes")
	cmd.Flags().IntVar(&apis, "apis", 2, "API instances, each on its own port")
	return cmd
}

func (d *devRun) runCluster(ctx context.Context, ports devenv.ClusterPorts, workers int) error {
	cfg := d.cfg
	dataDir, err := filepath.Abs(filepath.Join(cfg.Dev.DataDir, "cluster"))
	if err != nil {
		return err
	}
	logDir := filepath.Join(dataDir, "logs")
	d.say("cluster data in %s (delete it to start over)", dataDir)

	// 1. The pinned server and SQL tool, and the module's schema folder.
	server, sqlTool, err := devenv.EnsureTemporalServer(ctx, cfg.Dev.ToolsDir, devenv.TemporalServerVersion, d.out)
	if err != nil {
		return err
	}
	schemaDir, err := devenv.TemporalSchemaDir(ctx, devenv.TemporalServerVersion)
	if err != nil {
		return err
	}
	// Logs first: the folders must exist before PostgreSQL checks it can
	// reach its data folder through them.
	plogf, err := d.logFile(logDir, "postgres.log")
	if err != nil {
		return err
	}
	tlogf, err := d.logFile(logDir, "temporal.log")
	if err != nil {
		return err
	}
	keys, err := keyring.ForDev(cfg)
	if err != nil {
		return err
	}
	secret, err := clusterSessionSecret(cfg, dataDir)
	if err != nil {
		return err
	}

	// 2. PostgreSQL with the three databases and their roles.
	pg := &devenv.Postgres{DataDir: filepath.Join(dataDir, "postgres"), Port: ports.Postgres, Log: plogf}
	d.say("starting PostgreSQL on 127.0.0.1:%d (log: %s)", pg.Port, plogf.Name())
	if err := d.supervise(ctx, "postgres", pg.Start); err != nil {
		return fmt.Errorf("postgres: %w (see %s)", err, plogf.Name())
	}
	if err := pg.EnsureDatabase(ctx, "pathways"); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := pg.EnsureAppRole(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}

	// 3. Temporal's schemas by the official tool.
	srv := &devenv.TemporalServer{Binary: server, SQLTool: sqlTool, SchemaDir: schemaDir,
		ConfigDir: filepath.Join(dataDir, "temporal"), PG: pg, Ports: ports, Log: tlogf}
	begin := time.Now()
	if err := srv.SetupSchema(ctx); err != nil {
		return err
	}
	d.say("Temporal schemas set up or upgraded to %s (%s)", devenv.TemporalServerVersion, since(begin))

	// 4. The server and its namespace.
	d.say("starting the Temporal server %s on %s (log: %s)", devenv.TemporalServerVersion, srv.Address(), tlogf.Name())
	if err := d.supervise(ctx, "temporal", srv.Start); err != nil {
		return fmt.Errorf("temporal: %w (see %s)", err, tlogf.Name())
	}
	if err := waitTemporal(ctx, srv.Address(), cfg.Temporal.Namespace, keys, 120*time.Second); err != nil {
		return fmt.Errorf("temporal: %w (see %s)", err, tlogf.Name())
	}
	if err := ensureNamespace(ctx, srv.Address(), cfg.Temporal.Namespace, NamespaceRetention); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	d.say("Temporal is up, namespace %s with %s retention (%s)", cfg.Temporal.Namespace, NamespaceRetention, since(d.start))

	// 5. Migrations, demo data, then the children.
	if err := d.prepareDatabase(ctx, pg.URL("pathways")); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	sim := fmt.Sprintf("http://127.0.0.1:%d", ports.Simulators)
	env := append(d.childEnv(pg.URLAs(devenv.AppRole, "pathways"), pg.URL("pathways"), srv.Address()),
		config.EnvName("auth.session_secret")+"="+secret,
		config.EnvName("simulators.addr")+"=127.0.0.1:"+strconv.Itoa(ports.Simulators),
		config.EnvName("smtp.addr")+"=127.0.0.1:"+strconv.Itoa(ports.SMTP),
		config.EnvName("systems.education_url")+"="+sim+"/education",
		config.EnvName("systems.employment_url")+"="+sim+"/employment",
		config.EnvName("systems.jobsearch_url")+"="+sim+"/jobsearch",
		config.EnvName("systems.employers_url")+"="+sim+"/employers",
		config.EnvName("systems.social_services_url")+"="+sim+"/social",
	)
	type proc struct {
		name, cmd string
		env       []string
		grace     time.Duration
	}
	procs := []proc{{name: "simulators", cmd: "simulators", grace: 15 * time.Second}}
	for i := range workers {
		procs = append(procs, proc{name: fmt.Sprintf("worker-%d", i+1), cmd: "worker", grace: 40 * time.Second})
	}
	var bases []string
	for i, port := range ports.APIs {
		base := fmt.Sprintf("http://localhost:%d", port)
		bases = append(bases, base)
		procs = append(procs, proc{name: fmt.Sprintf("api-%d", i+1), cmd: "api", grace: cfg.HTTP.ShutdownTimeout + 5*time.Second,
			env: []string{config.EnvName("http.addr") + "=127.0.0.1:" + strconv.Itoa(port),
				config.EnvName("http.public_url") + "=" + base}})
	}
	for _, p := range procs {
		out := newPrefixWriter(d.out, p.name)
		penv := append(append([]string{}, env...), p.env...)
		err := d.supervise(ctx, p.name, func(context.Context) (*devenv.Process, error) {
			c := exec.Command(exe, p.cmd)
			c.Env = penv
			return devenv.Spawn(p.name, c, out, syscall.SIGTERM, p.grace)
		})
		if err != nil {
			return err
		}
	}
	for _, base := range bases {
		if err := d.waitReady(ctx, base+"/readyz", 120*time.Second); err != nil {
			return err
		}
	}
	w := d.out
	fmt.Fprintf(w, "\n  pathways cluster is ready in %s\n\n", since(d.start))
	for i, base := range bases {
		fmt.Fprintf(w, "    console api-%d    %s\n", i+1, base)
	}
	fmt.Fprintf(w, "    Temporal         %s (namespace %s; server metrics http://127.0.0.1:%d/metrics)\n", srv.Address(), cfg.Temporal.Namespace, ports.TemporalMetrics)
	fmt.Fprintf(w, "    PostgreSQL       %s (also temporal, temporal_visibility as role temporal)\n", redactedURL(pg.URL("pathways")))
	fmt.Fprintf(w, "    simulators       %s/admin/requests   (mail: %s/admin/mail)\n", sim, sim)
	fmt.Fprintf(w, "    workers          %d, on task queue %s\n", workers, cfg.Temporal.TaskQueue)
	fmt.Fprintf(w, "\n  Ctrl-C stops everything; data stays in %s.\n\n", dataDir)

	return d.superviseAll(ctx)
}

// clusterSessionSecret is the key every API instance signs sessions with
// (a console session must open on each): auth.session_secret when set, else
// one generated on first start and kept in the data folder.
func clusterSessionSecret(cfg *config.Config, dataDir string) (string, error) {
	if cfg.Auth.SessionSecret != "" {
		return cfg.Auth.SessionSecret, nil
	}
	file := filepath.Join(dataDir, "session-secret")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	s := base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	return s, os.WriteFile(file, []byte(s+"\n"), 0o600)
}

// ensureNamespace registers the namespace with its retention, or sets the
// retention of an existing one, then waits until the frontend serves it
// (a new namespace reaches the frontend's cache within seconds).
func ensureNamespace(ctx context.Context, addr, namespace string, retention time.Duration) error {
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	nc, err := client.NewNamespaceClient(client.Options{HostPort: addr, Logger: quiet})
	if err != nil {
		return err
	}
	defer nc.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = nc.Describe(rctx, namespace)
	var nf *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &nf):
		err = nc.Register(rctx, &workflowservice.RegisterNamespaceRequest{Namespace: namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			err = nil
		}
	case err == nil:
		err = nc.Update(rctx, &workflowservice.UpdateNamespaceRequest{Namespace: namespace,
			Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)}})
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", namespace, err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: namespace, Logger: quiet})
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s not served after a minute: %w", namespace, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
