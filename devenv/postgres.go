package devenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a private cluster under DataDir, listening on loopback only.
type Postgres struct {
	DataDir string
	Port    int
	Log     io.Writer
	// Fsync off suits throwaway test clusters only.
	NoFsync bool
}

// URL is the superuser URL of the cluster's default database.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://pathways@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// Start initialises the cluster on first use, starts it, and waits until it
// accepts connections. Existing data is reused.
func (p *Postgres) Start(ctx context.Context) (*Process, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(p.DataDir)
	if err != nil {
		return nil, err
	}
	cred, err := clusterOwner()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(abs, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
		if err := checkTraversable(abs); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); os.IsNotExist(err) {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", abs, "-U", "pathways", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	args := []string{"-D", abs, "-p", strconv.Itoa(p.Port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + abs, "-c", "max_connections=200"}
	if p.NoFsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGINT is PostgreSQL's fast shutdown: roll back, then stop cleanly.
	proc, err := Spawn("postgres", cmd, p.Log, syscall.SIGINT, 20*time.Second)
	if err != nil {
		return nil, err
	}
	err = waitFor(ctx, proc, 60*time.Second, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.URL("postgres"))
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		_ = proc.Stop()
		return nil, err
	}
	return proc, nil
}

// AppRole is the role the application connects as: it may insert into and
// read the audit log but never change it (see migration 00090).
const AppRole = "pathways_app"

// URLAs is the URL of db for another role of the cluster (trust auth).
func (p *Postgres) URLAs(role, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, p.Port, db)
}

// EnsureAppRole creates the application role if it is missing.
func (p *Postgres) EnsureAppRole(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return EnsureRole(ctx, conn, AppRole)
}

// EnsureRole creates a login role if it is missing; concurrent callers are fine.
func EnsureRole(ctx context.Context, conn *pgx.Conn, role string) error {
	_, err := conn.Exec(ctx, `DO $$ BEGIN
		CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` LOGIN;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`)
	return err
}

// EnsureDatabase creates db if it is missing.
func (p *Postgres) EnsureDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

// clusterOwner is the unprivileged user to run as when we are root, since
// initdb and postgres refuse to run as root.
func clusterOwner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the unprivileged user 'postgres' to own the cluster: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// checkTraversable fails early, with a hint, when the cluster owner cannot
// reach the data folder through its parents.
func checkTraversable(dir string) error {
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot reach %s because %s is not searchable by others; move the data folder (dev.data_dir) or run: chmod o+x %s", dir, d, d)
		}
	}
	return nil
}

func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := string(out[:len(out)-1])
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found; install postgresql or set DATABASE_URL")
	}
	sort.Strings(matches)
	return filepath.Dir(matches[len(matches)-1]), nil
}
