package devenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	temporalconfig "github.com/pathways-se/pathways/deploy/temporal"
)

// The real Temporal server and its SQL tool, pinned to the server the CLI
// v1.5.1 embeds, built into the tools folder and never linked into pathways.
const (
	TemporalServerVersion = "v1.29.1"
	temporalServerModule  = "go.temporal.io/server"
)

// TemporalServerBinaries are where the pinned server and SQL tool live.
func TemporalServerBinaries(toolsDir, version string) (server, sqlTool string) {
	dir := filepath.Join(toolsDir, "temporal-server-"+version)
	return filepath.Join(dir, "server"), filepath.Join(dir, "sql")
}

// EnsureTemporalServer builds the pinned server and SQL tool through the Go
// module proxy on first use (about 5 minutes), with a spinner.
func EnsureTemporalServer(ctx context.Context, toolsDir, version string, out io.Writer) (server, sqlTool string, err error) {
	server, sqlTool = TemporalServerBinaries(toolsDir, version)
	if server, err = filepath.Abs(server); err != nil {
		return "", "", err
	}
	if sqlTool, err = filepath.Abs(sqlTool); err != nil {
		return "", "", err
	}
	_, e1 := os.Stat(server)
	_, e2 := os.Stat(sqlTool)
	if e1 == nil && e2 == nil {
		return server, sqlTool, nil
	}
	fmt.Fprintf(out, "first run: building the Temporal server and SQL tool (%s@%s) into %s, about 5 minutes\n",
		temporalServerModule, version, filepath.Dir(server))
	err = goInstall(ctx, out, "go install temporal server "+version, filepath.Dir(server),
		temporalServerModule+"/cmd/server@"+version, temporalServerModule+"/cmd/tools/sql@"+version)
	if err != nil {
		return "", "", fmt.Errorf("building the Temporal server failed: %w", err)
	}
	return server, sqlTool, nil
}

// TemporalSchemaDir is the server module's PostgreSQL schema folder (with
// temporal/ and visibility/ under it), from the Go module cache.
func TemporalSchemaDir(ctx context.Context, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", temporalServerModule+"@"+version)
	cmd.Dir = os.TempDir() // outside any module: nothing to change in go.mod
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", temporalServerModule, version, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", temporalServerModule, version, m.Error)
	}
	return filepath.Join(m.Dir, "schema", "postgresql", "v12"), nil
}

// ClusterPorts are the ports of `pathways cluster`, all from one base. Each
// must stay below 32768: Temporal stores membership ports in a PostgreSQL
// smallint, and a larger one fails the server's start.
type ClusterPorts struct {
	Postgres int
	// The Temporal server: one gRPC and one membership port per service.
	Frontend, FrontendMembership, FrontendHTTP int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	TemporalMetrics                            int
	APIs                                       []int
	Simulators, SMTP                           int
}

// MaxPort is the largest port Temporal can record (smallint).
const MaxPort = 32767

// PlanClusterPorts lays the ports out from base, apis API instances.
func PlanClusterPorts(base, apis int) ClusterPorts {
	p := ClusterPorts{Postgres: base,
		Frontend: base + 1, FrontendMembership: base + 2, FrontendHTTP: base + 3,
		History: base + 4, HistoryMembership: base + 5,
		Matching: base + 6, MatchingMembership: base + 7,
		Worker: base + 8, WorkerMembership: base + 9,
		TemporalMetrics: base + 10,
		Simulators:      base + 20, SMTP: base + 21,
	}
	for i := range apis {
		p.APIs = append(p.APIs, base+30+i)
	}
	return p
}

// All names every port.
func (p ClusterPorts) All() map[string]int {
	m := map[string]int{"postgres": p.Postgres,
		"temporal frontend": p.Frontend, "temporal frontend membership": p.FrontendMembership, "temporal frontend http": p.FrontendHTTP,
		"temporal history": p.History, "temporal history membership": p.HistoryMembership,
		"temporal matching": p.Matching, "temporal matching membership": p.MatchingMembership,
		"temporal worker": p.Worker, "temporal worker membership": p.WorkerMembership,
		"temporal metrics": p.TemporalMetrics, "simulators": p.Simulators, "smtp": p.SMTP}
	for i, a := range p.APIs {
		m["api-"+strconv.Itoa(i+1)] = a
	}
	return m
}

// Check refuses a port Temporal cannot record, or one in use.
func (p ClusterPorts) Check(inUse bool) error {
	names := make([]string, 0)
	all := p.All()
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		port := all[n]
		if port <= 0 || port > MaxPort {
			return fmt.Errorf("the %s port %d is outside 1..%d (Temporal keeps membership ports in a PostgreSQL smallint): choose a lower base port", n, port, MaxPort)
		}
		if inUse {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return fmt.Errorf("the %s port %d is in use: choose another base port (%v)", n, port, err)
			}
			_ = l.Close()
		}
	}
	return nil
}

// TemporalServer is the real server on a PostgreSQL of devenv's.
type TemporalServer struct {
	Binary, SQLTool string
	SchemaDir       string // <server module>/schema/postgresql/v12
	ConfigDir       string // where the config template and dynamic config are written
	PG              *Postgres
	Ports           ClusterPorts
	Log             io.Writer
}

// Temporal's databases and the role that owns them.
const (
	TemporalRole       = "temporal"
	TemporalDB         = "temporal"
	TemporalVisibility = "temporal_visibility"
)

// Address is the frontend's host:port.
func (t *TemporalServer) Address() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.Ports.Frontend))
}

// Env fills in the config template (deploy/temporal/pathways.yaml) for this
// machine, with the variable names compose uses.
func (t *TemporalServer) Env() []string {
	p := t.Ports
	return []string{
		"LOG_LEVEL=warn",
		"POSTGRES_SEEDS=127.0.0.1", "DB_PORT=" + strconv.Itoa(p.Postgres),
		"POSTGRES_USER=" + TemporalRole, "POSTGRES_PWD=",
		"DBNAME=" + TemporalDB, "VISIBILITY_DBNAME=" + TemporalVisibility,
		// Four services each open these, next to the workers' and APIs' pools.
		"SQL_MAX_CONNS=15", "SQL_MAX_IDLE_CONNS=15", "SQL_VIS_MAX_CONNS=5",
		"BIND_ON_IP=127.0.0.1", "TEMPORAL_BROADCAST_ADDRESS=127.0.0.1",
		"FRONTEND_GRPC_PORT=" + strconv.Itoa(p.Frontend), "FRONTEND_MEMBERSHIP_PORT=" + strconv.Itoa(p.FrontendMembership),
		"FRONTEND_HTTP_PORT=" + strconv.Itoa(p.FrontendHTTP),
		"HISTORY_GRPC_PORT=" + strconv.Itoa(p.History), "HISTORY_MEMBERSHIP_PORT=" + strconv.Itoa(p.HistoryMembership),
		"MATCHING_GRPC_PORT=" + strconv.Itoa(p.Matching), "MATCHING_MEMBERSHIP_PORT=" + strconv.Itoa(p.MatchingMembership),
		"WORKER_GRPC_PORT=" + strconv.Itoa(p.Worker), "WORKER_MEMBERSHIP_PORT=" + strconv.Itoa(p.WorkerMembership),
		"PROMETHEUS_ENDPOINT=127.0.0.1:" + strconv.Itoa(p.TemporalMetrics),
		"DYNAMIC_CONFIG_FILE_PATH=" + filepath.Join(t.ConfigDir, "dynamicconfig.yaml"),
	}
}

// SetupSchema creates the role and databases when missing and brings both
// schemas up to the server's version with the official tool; run on every
// start, it upgrades after a server update and does nothing otherwise.
func (t *TemporalServer) SetupSchema(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, t.PG.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if err := EnsureRole(ctx, conn, TemporalRole); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "ALTER ROLE "+pgx.Identifier{TemporalRole}.Sanitize()+" CREATEDB"); err != nil {
		return err
	}
	for _, db := range []struct{ name, dir string }{{TemporalDB, "temporal"}, {TemporalVisibility, "visibility"}} {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db.name).Scan(&exists); err != nil {
			return err
		}
		steps := [][]string{{"setup-schema", "-v", "0.0"}, {"update-schema", "-d", filepath.Join(t.SchemaDir, db.dir, "versioned")}}
		if !exists {
			steps = append([][]string{{"create-database"}}, steps...)
		}
		for _, step := range steps {
			args := append([]string{"--plugin", "postgres12", "--ep", "127.0.0.1", "-p", strconv.Itoa(t.Ports.Postgres),
				"-u", TemporalRole, "--db", db.name}, step...)
			cmd := exec.CommandContext(ctx, t.SQLTool, args...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("temporal-sql-tool %s on %s: %v\n%s", step[0], db.name, err, out)
			}
		}
	}
	return nil
}

// WriteConfig writes the embedded config template and dynamic config into
// ConfigDir, where the server reads them (as environment "pathways").
func (t *TemporalServer) WriteConfig() error {
	if err := os.MkdirAll(t.ConfigDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(t.ConfigDir, "pathways.yaml"), temporalconfig.Config, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.ConfigDir, "dynamicconfig.yaml"), temporalconfig.DynamicConfig, 0o644)
}

// Start runs the server (all four services in one process) and waits until
// its frontend accepts connections.
func (t *TemporalServer) Start(ctx context.Context) (*Process, error) {
	if err := t.WriteConfig(); err != nil {
		return nil, err
	}
	cmd := exec.Command(t.Binary, "--root", t.ConfigDir, "--config", ".", "--env", "pathways", "--allow-no-auth", "start")
	cmd.Env = append(os.Environ(), t.Env()...)
	return spawnListening(ctx, cmd, t.Log, t.Address(), 20*time.Second, 120*time.Second)
}
