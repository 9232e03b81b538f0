// Package deploy checks the production-like topology in ../docker-compose.yml
// and ../Dockerfile. Docker is not needed: the files are parsed and the wiring
// asserted, so a broken dependency or a misspelt variable fails `make test`.
package deploy

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pathways-se/pathways/config"
)

type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string               `yaml:"image"`
	Build       any                  `yaml:"build"`
	Command     any                  `yaml:"command"`
	Entrypoint  any                  `yaml:"entrypoint"`
	Environment map[string]string    `yaml:"environment"`
	DependsOn   map[string]dependsOn `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Restart string   `yaml:"restart"`
	Ports   []string `yaml:"ports"`
	Volumes []string `yaml:"volumes"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
}

func load(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// interpolate does what compose does with ${NAME:-default} and ${NAME:?err}:
// the default, or a placeholder for required values.
var varRE = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}`)

func interpolate(s string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		p := varRE.FindStringSubmatch(m)
		if p[2] == ":-" {
			return p[3]
		}
		return "placeholder"
	})
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, text(e))
		}
		return strings.Join(parts, " ")
	default:
		return ""
	}
}

func TestServices(t *testing.T) {
	c := load(t)
	images := map[string]string{
		"postgresql":         "postgres:",
		"temporal-schema":    "temporalio/admin-tools:",
		"temporal":           "temporalio/server:",
		"temporal-namespace": "temporalio/admin-tools:",
		"temporal-ui":        "temporalio/ui:",
		"migrate":            "pathways:",
		"simulators":         "pathways:",
		"worker":             "pathways:",
		"api":                "pathways:",
	}
	for name, prefix := range images {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("service %s is missing", name)
			continue
		}
		if !strings.HasPrefix(interpolate(s.Image), prefix) {
			t.Errorf("%s: image %q, want %s…", name, s.Image, prefix)
		}
	}
	for name := range c.Services {
		if _, ok := images[name]; !ok {
			t.Errorf("unexpected service %s (add it to this test)", name)
		}
	}
	// The Temporal server matches the dev server's version (CLI v1.5.1 = server 1.29.1).
	if img := interpolate(c.Services["temporal"].Image); img != "temporalio/server:1.29.1" {
		t.Errorf("temporal image %q", img)
	}
	// Our services are built from the Dockerfile and run one subcommand each.
	for name, cmd := range map[string]string{"migrate": "migrate", "simulators": "simulators", "worker": "worker", "api": "api"} {
		s := c.Services[name]
		if s.Build == nil {
			t.Errorf("%s is not built from the Dockerfile", name)
		}
		if text(s.Command) != cmd {
			t.Errorf("%s: command %v, want %s", name, s.Command, cmd)
		}
	}
}

func TestDependencies(t *testing.T) {
	c := load(t)
	valid := map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
				continue
			}
			if !valid[d.Condition] {
				t.Errorf("%s → %s: condition %q", name, dep, d.Condition)
			}
			if d.Condition == "service_healthy" && target.Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, but it has no healthcheck", name, dep)
			}
			// A one-shot retries on failure (a refused first connection must
			// not leave the stack unstarted) and stays done once it succeeds.
			if d.Condition == "service_completed_successfully" && target.Restart != "on-failure" {
				t.Errorf("%s waits for one-shot %s, which must have restart: on-failure, not %q", name, dep, target.Restart)
			}
		}
	}
	want := map[string]map[string]string{
		"temporal-schema":    {"postgresql": "service_healthy"},
		"temporal":           {"postgresql": "service_healthy", "temporal-schema": "service_completed_successfully"},
		"temporal-namespace": {"temporal": "service_healthy"},
		"temporal-ui":        {"temporal": "service_healthy"},
		"migrate":            {"postgresql": "service_healthy"},
		"worker": {"migrate": "service_completed_successfully", "temporal": "service_healthy",
			"temporal-namespace": "service_completed_successfully"},
		"api": {"migrate": "service_completed_successfully", "temporal": "service_healthy",
			"temporal-namespace": "service_completed_successfully"},
	}
	for name, deps := range want {
		for dep, cond := range deps {
			if got := c.Services[name].DependsOn[dep].Condition; got != cond {
				t.Errorf("%s depends on %s with %q, want %q", name, dep, got, cond)
			}
		}
	}
}

func TestHealthchecks(t *testing.T) {
	c := load(t)
	for name, probe := range map[string]string{
		"postgresql": "pg_isready",
		"temporal":   "cluster health",
		"api":        "/readyz",
		"simulators": "/admin/stats",
	} {
		h := c.Services[name].Healthcheck
		if h == nil {
			t.Errorf("%s has no healthcheck", name)
			continue
		}
		if !strings.Contains(strings.Join(h.Test, " "), probe) {
			t.Errorf("%s healthcheck %v does not use %s", name, h.Test, probe)
		}
	}
	// pg_isready on the socket passes while the init scripts still run with
	// TCP off; the others connect over TCP.
	if h := c.Services["postgresql"].Healthcheck; h != nil && !strings.Contains(strings.Join(h.Test, " "), "pg_isready -h ") {
		t.Errorf("postgresql healthcheck %v does not check over TCP (-h)", h.Test)
	}
}

// The namespace job tries again until the frontend answers, and its
// container restarts on failure besides.
func TestNamespaceJobRetries(t *testing.T) {
	s := load(t).Services["temporal-namespace"]
	cmd := text(s.Command)
	if !strings.Contains(cmd, "for i in") || !strings.Contains(cmd, "sleep") || !strings.Contains(cmd, "--retention") {
		t.Errorf("temporal-namespace does not retry the namespace create: %s", cmd)
	}
}

func TestTemporalSchemaByAdminTools(t *testing.T) {
	c := load(t)
	s := c.Services["temporal-schema"]
	script := text(s.Entrypoint) + " " + text(s.Command)
	for _, want := range []string{"temporal-sql-tool", "setup-schema -v 0.0", "update-schema", "temporal_visibility",
		"/etc/temporal/schema/postgresql/v12", "temporal/versioned", "visibility/versioned"} {
		if !strings.Contains(script, want) {
			t.Errorf("temporal-schema does not run %q:\n%s", want, script)
		}
	}
	if s.Environment["SQL_PLUGIN"] != "postgres12" || s.Environment["SQL_HOST"] != "postgresql" {
		t.Errorf("temporal-schema env %v", s.Environment)
	}
	tmp := c.Services["temporal"].Environment
	if tmp["DB"] != "postgres12" || tmp["POSTGRES_SEEDS"] != "postgresql" || tmp["DBNAME"] != "temporal" || tmp["VISIBILITY_DBNAME"] != "temporal_visibility" {
		t.Errorf("temporal persistence env %v", tmp)
	}
	if !strings.Contains(text(c.Services["temporal-namespace"].Command), "namespace create --namespace default") {
		t.Error("temporal-namespace does not create the default namespace")
	}
	if ns := text(c.Services["temporal-namespace"].Command); !strings.Contains(ns, "namespace update --namespace default --retention 30d") ||
		!strings.Contains(ns, "namespace create --namespace default --retention 30d") {
		t.Errorf("temporal-namespace does not set the 30-day retention on a new and an existing namespace: %s", ns)
	}
	if ui := c.Services["temporal-ui"].Environment; !strings.HasSuffix(ui["TEMPORAL_CODEC_ENDPOINT"], "/api/v1/codec") || ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] != "true" {
		t.Errorf("the Web UI does not use the API's codec server with credentials: %v", ui)
	}
	init, err := os.ReadFile("postgres/init.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"CREATE DATABASE temporal;", "CREATE DATABASE temporal_visibility;", "CREATE DATABASE pathways"} {
		if !strings.Contains(string(init), db) {
			t.Errorf("postgres/init.sh lacks %s", db)
		}
	}
	// One config template for compose and `pathways cluster`, filled in from
	// the variables compose sets.
	mounted := false
	for _, v := range c.Services["temporal"].Volumes {
		if v == "./deploy/temporal/pathways.yaml:/etc/temporal/config/docker.yaml:ro" {
			mounted = true
		}
	}
	if !mounted {
		t.Error("temporal does not mount deploy/temporal/pathways.yaml as the server's config")
	}
	tpl, err := os.ReadFile("temporal/pathways.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range regexp.MustCompile(`env "([A-Z_]+)"`).FindAllStringSubmatch(string(tpl), -1) {
		switch v[1] {
		case "POSTGRES_SEEDS", "POSTGRES_USER", "POSTGRES_PWD", "DB_PORT", "DBNAME", "VISIBILITY_DBNAME", "DYNAMIC_CONFIG_FILE_PATH":
			if _, ok := tmp[v[1]]; !ok {
				t.Errorf("the config template reads %s, which compose does not set for temporal", v[1])
			}
		}
	}
	for _, v := range c.Services["temporal"].Volumes {
		src := strings.SplitN(v, ":", 2)[0]
		if _, err := os.Stat("../" + strings.TrimPrefix(src, "./")); err != nil {
			t.Errorf("temporal mounts missing %s", src)
		}
	}
}

// The worker and API reach Temporal and PostgreSQL by service name, and
// every PATHWAYS_* variable is a real config key.
func TestApplicationWiring(t *testing.T) {
	c := load(t)
	known := map[string]bool{}
	for _, k := range config.SortedKeys() {
		known[config.EnvName(k)] = true
	}
	for _, name := range []string{"migrate", "simulators", "worker", "api"} {
		env := c.Services[name].Environment
		for k := range env {
			if strings.HasPrefix(k, "PATHWAYS_") && !known[k] {
				t.Errorf("%s: %s is not a config key", name, k)
			}
		}
		u, err := url.Parse(interpolate(env["DATABASE_URL"]))
		if err != nil || u.Scheme != "postgres" || u.Hostname() != "postgresql" || u.Path != "/pathways" {
			t.Errorf("%s: DATABASE_URL %q does not point at the postgresql service", name, env["DATABASE_URL"])
		}
		if name == "migrate" || name == "simulators" {
			continue
		}
		if env["PATHWAYS_TEMPORAL_ADDRESS"] != "temporal:7233" {
			t.Errorf("%s: PATHWAYS_TEMPORAL_ADDRESS %q", name, env["PATHWAYS_TEMPORAL_ADDRESS"])
		}
		if env["PATHWAYS_MODE"] != "production" {
			t.Errorf("%s: PATHWAYS_MODE %q", name, env["PATHWAYS_MODE"])
		}
		// Secrets come from the operator's environment, never the file.
		for _, k := range []string{"PATHWAYS_AUTH_SESSION_SECRET", "PATHWAYS_AUTH_OIDC_CLIENT_SECRET"} {
			if !strings.HasPrefix(env[k], "${") {
				t.Errorf("%s: %s is not taken from the environment: %q", name, k, env[k])
			}
		}
		// The services run as the application role, which may not change
		// the audit log; only the migrate job is the schema owner.
		if env["DATABASE_URL"] != "postgres://pathways_app@postgresql:5432/pathways?sslmode=disable" || env["PGPASSWORD"] != "${PATHWAYS_APP_DB_PASSWORD:?set PATHWAYS_APP_DB_PASSWORD}" {
			t.Errorf("%s: DATABASE_URL %q is not the application role with its password in PGPASSWORD from the environment", name, env["DATABASE_URL"])
		}
		if env["PATHWAYS_DATABASE_OWNER_URL"] != "" {
			t.Errorf("%s: runs with the schema owner's URL", name)
		}
		if !strings.HasPrefix(env["PATHWAYS_CRYPTO_KEYS"], "${") {
			t.Errorf("%s: PATHWAYS_CRYPTO_KEYS is not taken from the environment", name)
		}
	}
	m := c.Services["migrate"].Environment
	if m["PATHWAYS_DATABASE_OWNER_URL"] != "postgres://pathways@postgresql:5432/pathways?sslmode=disable" || m["PGPASSWORD"] != "${PATHWAYS_DB_PASSWORD:?set PATHWAYS_DB_PASSWORD}" {
		t.Errorf("migrate: PATHWAYS_DATABASE_OWNER_URL %q / PGPASSWORD %q is not the schema owner with its password from the environment",
			m["PATHWAYS_DATABASE_OWNER_URL"], m["PGPASSWORD"])
	}
	// No password is ever written into a URL, where "/", "@" or "%" break it.
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if u, err := url.Parse(interpolate(v)); err == nil && u.User != nil {
				if _, has := u.User.Password(); has {
					t.Errorf("%s: %s carries a password in a URL", name, k)
				}
			}
		}
	}
	if ports := c.Services["api"].Ports; len(ports) == 0 || !strings.HasSuffix(ports[0], ":8080") {
		t.Errorf("api ports %v", ports)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"FROM golang:", " AS build", "go build", "./cmd/pathways", "COPY --from=build", `ENTRYPOINT ["pathways"]`, "USER "} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Count(df, "\nFROM ") < 1 || !strings.HasPrefix(strings.TrimSpace(df[strings.Index(df, "\nFROM ")+1:]), "FROM golang") {
		// the first stage is the Go builder
		t.Errorf("the first stage is not the golang builder")
	}
	if !regexp.MustCompile(`(?m)^FROM (debian:[a-z]+-slim|gcr.io/distroless/)`).MatchString(df) {
		t.Error("the runtime stage is neither debian-slim nor distroless")
	}
}
