package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// cleanEnv hides every PATHWAYS_* variable and DATABASE_URL for the test, so
// the machine's environment cannot leak into the results.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PATHWAYS_") || name == "DATABASE_URL" {
			t.Setenv(name, "") // restores the old value after the test
			os.Unsetenv(name)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func load(t *testing.T, fs *pflag.FlagSet) *Config {
	t.Helper()
	c, err := Load(fs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDefaultsAreValid(t *testing.T) {
	cleanEnv(t)
	c := load(t, flags(t))
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Mode != ModeDevelopment || c.HTTP.Addr != ":8080" || c.Temporal.Address != "127.0.0.1:7233" ||
		c.Temporal.Namespace != "default" || c.Database.MaxConns != 10 || c.HTTP.ShutdownTimeout != 10*time.Second ||
		!c.Dev.Seed || c.Dev.TemporalVersion != "v1.5.1" || c.Production() {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	// Load(nil) (tests, library use) gives the same.
	if c2 := load(t, nil); !reflect.DeepEqual(c, c2) {
		t.Fatalf("Load(nil) = %+v, want %+v", c2, c)
	}
}

// defaults < file < env < flags, key by key.
func TestPrecedence(t *testing.T) {
	cleanEnv(t)
	file := writeFile(t, "pathways.yaml", `
http:
  addr: "file:1"
log:
  level: warn
temporal:
  namespace: file-ns
  address: "file:7233"
dev:
  temporal_port: 1111
`)
	t.Setenv("PATHWAYS_CONFIG", file)
	t.Setenv("PATHWAYS_HTTP_ADDR", "env:2")
	t.Setenv("PATHWAYS_LOG_LEVEL", "error")
	t.Setenv("PATHWAYS_DEV_TEMPORAL_PORT", "2222")

	c := load(t, flags(t, "--http-addr", "flag:3", "--dev-temporal-port", "3333"))
	for _, tc := range []struct{ key, got, want string }{
		{"http.addr (flag beats env and file)", c.HTTP.Addr, "flag:3"},
		{"log.level (env beats file)", c.Log.Level, "error"},
		{"temporal.namespace (file beats default)", c.Temporal.Namespace, "file-ns"},
		{"temporal.address (file beats default)", c.Temporal.Address, "file:7233"},
		{"temporal.task_queue (default)", c.Temporal.TaskQueue, "pathways"},
		{"dev.temporal_port (flag)", fmt.Sprint(c.Dev.TemporalPort), "3333"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.key, tc.got, tc.want)
		}
	}

	// A flag that is registered but not given must not hide env or file.
	c = load(t, flags(t))
	if c.HTTP.Addr != "env:2" || c.Log.Level != "error" || c.Dev.TemporalPort != 2222 || c.Temporal.Namespace != "file-ns" {
		t.Fatalf("unset flags overrode env/file: %+v", c)
	}
	// Without env, the file shows through.
	os.Unsetenv("PATHWAYS_HTTP_ADDR")
	os.Unsetenv("PATHWAYS_LOG_LEVEL")
	c = load(t, flags(t))
	if c.HTTP.Addr != "file:1" || c.Log.Level != "warn" {
		t.Fatalf("file not applied: http.addr=%q log.level=%q", c.HTTP.Addr, c.Log.Level)
	}
}

func TestConfigFlagBeatsConfigEnv(t *testing.T) {
	cleanEnv(t)
	t.Setenv("PATHWAYS_CONFIG", writeFile(t, "a.yaml", "temporal:\n  namespace: from-env-file\n"))
	b := writeFile(t, "b.yaml", "temporal:\n  namespace: from-flag-file\n")
	if c := load(t, flags(t, "--config", b)); c.Temporal.Namespace != "from-flag-file" {
		t.Fatalf("namespace %q", c.Temporal.Namespace)
	}
	if c := load(t, flags(t)); c.Temporal.Namespace != "from-env-file" {
		t.Fatalf("namespace %q", c.Temporal.Namespace)
	}
}

func TestConfigFileWithoutExtensionIsYAML(t *testing.T) {
	cleanEnv(t)
	f := writeFile(t, "pathways", "http:\n  addr: \"127.0.0.1:9999\"\n")
	if c := load(t, flags(t, "--config", f)); c.HTTP.Addr != "127.0.0.1:9999" {
		t.Fatalf("http.addr %q", c.HTTP.Addr)
	}
}

func TestConfigFileErrors(t *testing.T) {
	cleanEnv(t)
	if _, err := Load(flags(t, "--config", filepath.Join(t.TempDir(), "missing.yaml"))); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
	bad := writeFile(t, "bad.yaml", "http: [unclosed\n")
	if _, err := Load(flags(t, "--config", bad)); err == nil {
		t.Fatal("malformed YAML accepted")
	}
	typo := writeFile(t, "typo.yaml", "http:\n  adr: \":9000\"\n")
	_, err := Load(flags(t, "--config", typo))
	if err == nil || !strings.Contains(err.Error(), "http.adr: unknown key") {
		t.Fatalf("misspelt key: %v", err)
	}
}

func TestEnvTypes(t *testing.T) {
	cleanEnv(t)
	t.Setenv("PATHWAYS_HTTP_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("PATHWAYS_DATABASE_MAX_CONNS", "7")
	t.Setenv("PATHWAYS_DEV_SEED", "false")
	t.Setenv("PATHWAYS_SIMULATORS_SEED", "42")
	t.Setenv("PATHWAYS_DEMO_SECONDS_PER_DAY", "0.5")
	t.Setenv("PATHWAYS_LOG_LEVEL", "DEBUG")
	c := load(t, nil)
	if c.HTTP.ShutdownTimeout != 3*time.Second || c.Database.MaxConns != 7 || c.Dev.Seed || c.Sim.Seed != 42 || c.Demo.SecondsPerDay != 0.5 {
		t.Fatalf("env not decoded: %+v", c)
	}
	if c.Log.Level != "debug" {
		t.Fatalf("log.level %q, want it lower-cased for zap", c.Log.Level)
	}
}

func TestDatabaseURLEnvNames(t *testing.T) {
	cleanEnv(t)
	t.Setenv("DATABASE_URL", "postgres://plain@db:5432/x")
	if c := load(t, nil); c.Database.URL != "postgres://plain@db:5432/x" {
		t.Fatalf("DATABASE_URL ignored: %q", c.Database.URL)
	}
	t.Setenv("PATHWAYS_DATABASE_URL", "postgres://prefixed@db:5432/x")
	if c := load(t, nil); c.Database.URL != "postgres://prefixed@db:5432/x" {
		t.Fatalf("PATHWAYS_DATABASE_URL should win over DATABASE_URL: %q", c.Database.URL)
	}
}

func TestSecretsRefusedInConfigFile(t *testing.T) {
	cleanEnv(t)
	f := writeFile(t, "secrets.yaml", `
database:
  url: postgres://u:hunter2@db/x
auth:
  session_secret: 0123456789abcdef0123456789abcdef
smtp:
  password: p
  from: ok@example.org
`)
	_, err := Load(flags(t, "--config", f))
	if err == nil {
		t.Fatal("secrets in the config file were accepted")
	}
	for _, want := range []string{
		"database.url must come from the environment (PATHWAYS_DATABASE_URL)",
		"auth.session_secret must come from the environment (PATHWAYS_AUTH_SESSION_SECRET)",
		"smtp.password must come from the environment (PATHWAYS_SMTP_PASSWORD)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error echoes the secret: %v", err)
	}
}

func TestSecretsHaveNoFlags(t *testing.T) {
	fs := flags(t)
	for _, k := range keys {
		f := fs.Lookup(FlagName(k.name))
		if k.secret && f != nil {
			t.Errorf("secret %s has a flag", k.name)
		}
		if !k.secret && f == nil {
			t.Errorf("%s has no flag", k.name)
		}
	}
	if fs.Lookup("config") == nil {
		t.Error("no --config flag")
	}
}

func TestNames(t *testing.T) {
	if got := EnvName("systems.jobsearch_api_key"); got != "PATHWAYS_SYSTEMS_JOBSEARCH_API_KEY" {
		t.Fatal(got)
	}
	if got := FlagName("dev.temporal_ui_port"); got != "dev-temporal-ui-port" {
		t.Fatal(got)
	}
}

// Every field of Config has exactly one key, so nothing is unreachable from
// env and flags, and SortedKeys lists them all in order.
func TestKeysCoverConfig(t *testing.T) {
	flat := map[string]any{}
	flatten("", reflect.ValueOf(Config{}), flat)
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.name] {
			t.Errorf("duplicate key %s", k.name)
		}
		seen[k.name] = true
		if _, ok := flat[k.name]; !ok {
			t.Errorf("key %s has no Config field", k.name)
		}
	}
	for name := range flat {
		if !seen[name] {
			t.Errorf("Config field %s has no key", name)
		}
	}
	sk := SortedKeys()
	if len(sk) != len(keys) || !sort.StringsAreSorted(sk) {
		t.Fatalf("SortedKeys: %v", sk)
	}
}

func valid(t *testing.T) *Config {
	t.Helper()
	cleanEnv(t)
	c := load(t, nil)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func productionReady(c *Config) {
	c.Mode = ModeProduction
	c.Database.URL = "postgres://app:pw@db:5432/pathways"
	c.Auth.SessionSecret = strings.Repeat("s", 32)
	c.Auth.OIDCIssuer = "https://login.example.se"
	c.Auth.OIDCClientID = "pathways"
	c.Auth.OIDCClientSecret = "oidc-secret"
	c.Auth.DevAccounts = false
	c.Crypto.KeyFile = "/run/secrets/pathways-keys.json"
}

func TestValidateMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"mode", func(c *Config) { c.Mode = "staging" }, `mode: must be "development" or "production", got "staging"`},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, `log.level: unknown level "verbose" (use debug, info, warn or error)`},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, `log.format: unknown format "xml"`},
		{"address without port", func(c *Config) { c.HTTP.Addr = "localhost" }, `http.addr: "localhost" is not a host:port address`},
		{"address with empty port", func(c *Config) { c.Temporal.Address = "temporal:" }, `temporal.address: "temporal:" is not a host:port address`},
		{"address with bad port", func(c *Config) { c.Sim.Addr = "127.0.0.1:http" }, `simulators.addr: "127.0.0.1:http" has no valid port number`},
		{"port out of range", func(c *Config) { c.SMTP.Addr = "mail:70000" }, `smtp.addr: "mail:70000" has no valid port number`},
		{"public url", func(c *Config) { c.HTTP.PublicURL = "ftp://x" }, `http.public_url: "ftp://x" is not an http(s) URL`},
		{"public url required", func(c *Config) { c.HTTP.PublicURL = "" }, `http.public_url: is required`},
		{"system url", func(c *Config) { c.Systems.Education = "127.0.0.1:8090" }, `systems.education_url: "127.0.0.1:8090" is not an http(s) URL`},
		{"system url required", func(c *Config) { c.Systems.SocialServices = "" }, `systems.social_services_url: is required`},
		{"ui url", func(c *Config) { c.Temporal.UIURL = "localhost:8233" }, `temporal.ui_url: "localhost:8233" is not an http(s) URL`},
		{"namespace", func(c *Config) { c.Temporal.Namespace = "" }, `temporal.namespace: is required`},
		{"task queue", func(c *Config) { c.Temporal.TaskQueue = "" }, `temporal.task_queue: is required`},
		{"database url scheme", func(c *Config) { c.Database.URL = "mysql://u:pw@db/x" }, `database.url: is not a postgres:// URL`},
		{"database url without host", func(c *Config) { c.Database.URL = "postgres:///x" }, `database.url: is not a postgres:// URL`},
		{"database url unparsable", func(c *Config) { c.Database.URL = "postgres://u:pw@db:port/x" }, `database.url: is not a postgres:// URL`},
		{"max conns", func(c *Config) { c.Database.MaxConns = 0 }, `database.max_conns: must be at least 1, got 0`},
		{"timeout", func(c *Config) { c.Systems.Timeout = 0 }, `systems.timeout: must be positive, got 0s`},
		{"seconds per day", func(c *Config) { c.Demo.SecondsPerDay = -1 }, `demo.seconds_per_day: must not be negative`},
		{"time zone", func(c *Config) { c.Escalate.Timezone = "Mars/Olympus" }, `escalation.timezone: unknown time zone "Mars/Olympus"`},
		{"production database", func(c *Config) { productionReady(c); c.Database.URL = "" }, `database.url: is required in production (set PATHWAYS_DATABASE_URL or DATABASE_URL)`},
		{"production session secret", func(c *Config) { productionReady(c); c.Auth.SessionSecret = "" }, `auth.session_secret: is required in production, at least 32 bytes (set PATHWAYS_AUTH_SESSION_SECRET)`},
		{"production short session secret", func(c *Config) { productionReady(c); c.Auth.SessionSecret = "short" }, `auth.session_secret: is required in production, at least 32 bytes`},
		{"production oidc", func(c *Config) { productionReady(c); c.Auth.OIDCIssuer = ""; c.Auth.OIDCClientSecret = "" }, `auth.oidc_issuer: OIDC issuer and client ID are required in production`},
		{"production oidc secret", func(c *Config) { productionReady(c); c.Auth.OIDCClientSecret = "" }, `auth.oidc_client_secret: is required in production (set PATHWAYS_AUTH_OIDC_CLIENT_SECRET)`},
		{"production dev accounts", func(c *Config) { productionReady(c); c.Auth.DevAccounts = true }, `auth.dev_accounts: must be false in production`},
		{"production keys", func(c *Config) { productionReady(c); c.Crypto.KeyFile = "" }, `crypto.keys: encryption keys are required in production (set PATHWAYS_CRYPTO_KEYS or crypto.key_file)`},
		{"production demo time", func(c *Config) { productionReady(c); c.Demo.SecondsPerDay = 1 }, `demo.seconds_per_day: must be 0 in production`},
		{"oidc issuer url", func(c *Config) { c.Auth.OIDCIssuer = "login.example.se" }, `auth.oidc_issuer: "login.example.se" is not an http(s) URL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t)
			tc.mutate(c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Fatalf("error echoes the database password: %v", err)
			}
		})
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	c := valid(t)
	c.HTTP.Addr = "nope"
	c.Log.Level = "loud"
	c.Database.URL = "http://x"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 3 {
		t.Fatalf("want 3 lines, one per problem, got %d:\n%v", n, err)
	}
}

func TestValidProduction(t *testing.T) {
	c := valid(t)
	productionReady(c)
	if err := c.Validate(); err != nil {
		t.Fatalf("complete production config refused: %v", err)
	}
	if !c.Production() {
		t.Fatal("Production() false")
	}
}

func TestRedacted(t *testing.T) {
	c := valid(t)
	c.Database.URL = "postgres://app:hunter2@db:5432/pathways?sslmode=require"
	c.Auth.SessionSecret = "session-secret-0123456789abcdef0123"
	c.Auth.OIDCClientSecret = "oidc-client-secret"
	c.SMTP.Password = "smtp-password"
	c.Systems.JobSearchKey = "jobsearch-key"
	m := c.Redacted()

	if got := m["database.url"]; got != "postgres://app:xxxxx@db:5432/pathways?sslmode=require" {
		t.Errorf("database.url = %v", got)
	}
	for _, k := range []string{"auth.session_secret", "auth.oidc_client_secret", "smtp.password", "systems.jobsearch_api_key"} {
		if m[k] != "[redacted]" {
			t.Errorf("%s = %v, want [redacted]", k, m[k])
		}
	}
	all := fmt.Sprint(m)
	for _, secret := range []string{"hunter2", "session-secret", "oidc-client-secret", "smtp-password", "jobsearch-key"} {
		if strings.Contains(all, secret) {
			t.Errorf("Redacted() shows %q", secret)
		}
	}
	// Ordinary values are shown as they are; every key is present.
	if m["http.addr"] != ":8080" || m["database.max_conns"] != int32(10) || m["http.shutdown_timeout"] != 10*time.Second {
		t.Errorf("plain values changed: %v %v %v", m["http.addr"], m["database.max_conns"], m["http.shutdown_timeout"])
	}
	if len(m) != len(keys) {
		t.Errorf("%d entries, want %d", len(m), len(keys))
	}
	// Redacting must not touch the config itself.
	if c.Auth.SessionSecret != "session-secret-0123456789abcdef0123" {
		t.Error("Redacted modified the config")
	}
}

func TestRedactedUnsetSecretsStayEmpty(t *testing.T) {
	c := valid(t)
	m := c.Redacted()
	for _, k := range keys {
		if k.secret && m[k.name] != "" {
			t.Errorf("unset secret %s shows %v", k.name, m[k.name])
		}
	}
}

func TestRedactedDatabaseURLForms(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://app@db/x":                         "postgres://app@db/x",
		"postgresql://app:pw@db/x":                    "postgresql://app:xxxxx@db/x",
		"postgres://app@db/x?password=pw&sslmode=off": "postgres://app@db/x?password=xxxxx&sslmode=off",
		"host=db user=app password=pw":                "[redacted]",
		"postgres://app:pw@db:port/x":                 "[redacted]",
	} {
		c := &Config{Database: DatabaseConfig{URL: in}}
		if got := c.Redacted()["database.url"]; got != want {
			t.Errorf("%q → %v, want %q", in, got, want)
		}
	}
}

// The README's key table is generated by `pathways config keys`; it must
// list every key, so a new key cannot go undocumented.
func TestREADMEListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README next to the module:", err)
	}
	readme := string(b)
	for _, k := range Describe() {
		if !strings.Contains(readme, "| `"+k.Name+"` |") {
			t.Errorf("README.md does not document %s: regenerate the table with `bin/pathways config keys`", k.Name)
		}
	}
}
