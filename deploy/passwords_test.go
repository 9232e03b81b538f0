package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pathways-se/pathways/devenv"
)

// A password with every character that broke the old wiring (a base64 "/"
// and "+", a quote, "@", "%") works: the init script hands it to psql as a
// variable, and pgx takes the application's from PGPASSWORD.
const awkward = `a/b+c'd@e%f"g`

func TestInitScriptTakesAnyPassword(t *testing.T) {
	psql, err := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if err != nil || len(psql) == 0 {
		t.Skip("psql is not installed")
	}
	dir, err := os.MkdirTemp("", "pathways-init-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pg := &devenv.Postgres{DataDir: filepath.Join(dir, "data"), Port: port, NoFsync: true}
	proc, err := pg.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Stop() //nolint:errcheck
	// The official image's superuser is postgres; ours is called pathways,
	// which the script creates: make the cluster look like the image's.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE ROLE postgres SUPERUSER LOGIN`); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	conn, err := pgx.Connect(ctx, pg.URLAs("postgres", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `ALTER ROLE pathways RENAME TO cluster_owner`); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "postgres/init.sh")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(psql[0])+":"+os.Getenv("PATH"),
		"PGHOST=127.0.0.1", "PGPORT="+strconv.Itoa(port), "POSTGRES_USER=postgres",
		"PATHWAYS_DB_PASSWORD="+awkward, "PATHWAYS_APP_DB_PASSWORD="+awkward+"2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init.sh: %v\n%s", err, out)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_authid WHERE rolname IN ('pathways', 'pathways_app') AND rolpassword IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("roles with passwords: %d, %v", n, err)
	}
	t.Setenv("PGPASSWORD", awkward)
	cfg, err := pgx.ParseConfig("postgres://pathways_app@postgresql:5432/pathways?sslmode=disable")
	if err != nil || cfg.Password != awkward {
		t.Fatalf("pgx does not take the password from PGPASSWORD: %q, %v", cfg.Password, err)
	}
}
