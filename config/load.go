package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// key is one setting: its viper key, default, and whether it is a secret.
// Every key is listed here so that env and flag bindings are explicit.
type key struct {
	name   string
	def    any
	secret bool
	usage  string
	env    []string // extra env names besides PATHWAYS_<KEY>
}

var keys = []key{
	{name: "mode", def: ModeDevelopment, usage: "development or production"},
	{name: "log.level", def: "info", usage: "debug, info, warn or error"},
	{name: "log.format", def: "", usage: "json or console (default follows mode)"},
	{name: "http.addr", def: ":8080", usage: "API and web console listen address"},
	{name: "http.public_url", def: "http://localhost:8080", usage: "URL staff use to reach the console"},
	{name: "http.shutdown_timeout", def: 10 * time.Second, usage: "grace period for in-flight requests"},
	{name: "temporal.address", def: "127.0.0.1:7233", usage: "Temporal frontend host:port"},
	{name: "temporal.namespace", def: "default", usage: "Temporal namespace"},
	{name: "temporal.task_queue", def: "pathways", usage: "task queue of the pathway worker"},
	{name: "temporal.ui_url", def: "http://localhost:8233", usage: "Temporal Web UI base URL"},
	{name: "worker.activity_slots", def: 500, usage: "activities one worker runs at once"},
	{name: "worker.workflow_slots", def: 200, usage: "workflow tasks one worker runs at once"},
	{name: "worker.sticky_cache_size", def: 3000, usage: "workflows kept in the worker's memory between tasks (the rest replay their history on their next task)"},
	{name: "worker.workflow_pollers", def: 32, usage: "workflow task polls one worker keeps open (half on its sticky queue)"},
	{name: "database.url", secret: true, usage: "PostgreSQL URL", env: []string{"DATABASE_URL"}},
	{name: "database.owner_url", secret: true, usage: "PostgreSQL URL of the schema owner that migrations run as (default: database.url); the application role may not change the audit log"},
	{name: "database.max_conns", def: int32(10), usage: "pgx pool size"},
	{name: "database.auto_migrate", def: true, usage: "run migrations on start (development)"},
	{name: "dev.data_dir", def: ".data", usage: "where make run keeps Temporal and PostgreSQL data"},
	{name: "dev.tools_dir", def: ".tools", usage: "where make run builds the Temporal CLI"},
	{name: "dev.temporal_version", def: "v1.5.1", usage: "pinned Temporal CLI version"},
	{name: "dev.temporal_port", def: 7233, usage: "dev Temporal frontend port"},
	{name: "dev.temporal_ui_port", def: 8233, usage: "dev Temporal Web UI port"},
	{name: "dev.postgres_port", def: 5433, usage: "private PostgreSQL port"},
	{name: "dev.seed", def: true, usage: "seed demo centres, staff and employers"},
	{name: "simulators.addr", def: "127.0.0.1:8090", usage: "outside-system simulators listen address"},
	{name: "simulators.seed", def: int64(1), usage: "seed of the simulators' data"},
	{name: "simulators.faults", def: "", usage: "simulator fault injection at start: JSON or path to a JSON file"},
	{name: "systems.timeout", def: 10 * time.Second, usage: "HTTP timeout towards outside systems"},
	{name: "systems.education_url", def: "http://127.0.0.1:8090/education", usage: "adult education (Komvux) base URL"},
	{name: "systems.employment_url", def: "http://127.0.0.1:8090/employment", usage: "employment service gateway base URL"},
	{name: "systems.jobsearch_url", def: "http://127.0.0.1:8090/jobsearch", usage: "JobTech JobSearch base URL"},
	{name: "systems.jobsearch_api_key", secret: true, usage: "JobSearch api-key"},
	{name: "systems.employers_url", def: "http://127.0.0.1:8090/employers", usage: "employer system base URL"},
	{name: "systems.social_services_url", def: "http://127.0.0.1:8090/social", usage: "social services base URL"},
	{name: "smtp.addr", def: "127.0.0.1:8025", usage: "SMTP relay host:port"},
	{name: "smtp.from", def: "pathways@localhost", usage: "sender of staff mail"},
	{name: "smtp.user", def: "", usage: "SMTP user"},
	{name: "smtp.password", secret: true, usage: "SMTP password"},
	{name: "smtp.poll_interval", def: 2 * time.Second, usage: "how often the worker sends queued staff mail"},
	{name: "smtp.retry_initial", def: 10 * time.Second, usage: "wait after a first failed mail delivery (doubles each time)"},
	{name: "smtp.retry_max", def: 30 * time.Minute, usage: "longest wait between mail delivery attempts"},
	{name: "auth.session_secret", secret: true, usage: "key that signs console sessions (32+ bytes)"},
	{name: "auth.oidc_issuer", def: "", usage: "OIDC issuer URL (production sign-in)"},
	{name: "auth.oidc_client_id", def: "", usage: "OIDC client ID"},
	{name: "auth.oidc_client_secret", secret: true, usage: "OIDC client secret"},
	{name: "auth.oidc_redirect_url", def: "", usage: "OIDC redirect URL"},
	{name: "auth.dev_accounts", def: true, usage: "allow the seeded development accounts"},
	{name: "auth.session_idle_timeout", def: 30 * time.Minute, usage: "a console session unused this long ends"},
	{name: "auth.session_lifetime", def: 10 * time.Hour, usage: "a console session ends this long after sign-in, however busy"},
	{name: "retention.closed_case_days", def: 1825, usage: "days after closure a case is culled (5 years: the municipal archive rule for case files)"},
	{name: "retention.audit_after_case_days", def: 730, usage: "days audit rows about a case outlive the culled case (2 years: time to review and answer complaints)"},
	{name: "retention.audit_days", def: 2555, usage: "days audit rows about no case (sign-ins, imports) are kept (7 years)"},
	{name: "retention.mail_days", def: 30, usage: "days staff mail is kept after it was sent or given up"},
	{name: "retention.cron", def: "30 2 * * *", usage: "when the daily retention run starts"},
	{name: "retention.timezone", def: "Europe/Stockholm", usage: "time zone of the retention schedule"},
	{name: "retention.batch_size", def: 500, usage: "rows per class removed in one batch of a retention run"},
	{name: "crypto.keys", secret: true, usage: "encryption keys as key-file JSON (current, keys, index_key); wins over crypto.key_file"},
	{name: "crypto.key_file", def: "", usage: "file of encryption keys (mode 600); development creates <dev.data_dir>/keys.json when unset"},
	{name: "demo.seconds_per_day", def: 0.0, usage: "compress programme time: real seconds per programme day (0 = real time)"},
	{name: "programmes.dir", def: "programmes/definitions", usage: "folder of programme definition files"},
	{name: "escalation.cron", def: "0 7 * * *", usage: "when the stall sweep runs"},
	{name: "escalation.timezone", def: "Europe/Stockholm", usage: "time zone of the sweep schedule"},
	{name: "escalation.rules", def: "", usage: "stall rule overrides, e.g. no_progress=21d,time_limit=60d:unit_manager,step_overrun=off"},
	{name: "report.comparison_value", def: 44.6, usage: "reference figure (percent) drawn on the outcomes chart and reported as a difference"},
	{name: "report.comparison_label", def: "Västra Götalands kommuner (ovägt medelvärde)", usage: "what the reference figure is; empty switches the comparison off"},
	{name: "report.comparison_source", def: "Kolada, Resultat vid avslut i kommunens arbetsmarknadsverksamhet", usage: "where the reference figure comes from"},
	{name: "report.comparison_year", def: 2022, usage: "the year of the reference figure"},
	{name: "report.monitor_share_points", def: 10.0, usage: "equal-treatment monitor: a share differing from the rest by more percentage points than this may be flagged"},
	{name: "report.monitor_contact_days", def: 2.0, usage: "equal-treatment monitor: a median time to first contact differing by more days than this may be flagged"},
	{name: "report.monitor_programme_days", def: 30.0, usage: "equal-treatment monitor: a median time in programme differing by more days than this may be flagged"},
}

// FlagName is the command-line flag of a key: "http.addr" → "http-addr".
func FlagName(k string) string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(k)
}

// EnvName is the environment variable of a key: "http.addr" → "PATHWAYS_HTTP_ADDR".
func EnvName(k string) string {
	return "PATHWAYS_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(k))
}

// RegisterFlags adds --config and one flag for every non-secret key.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (YAML); also PATHWAYS_CONFIG")
	for _, k := range keys {
		if k.secret {
			continue
		}
		name := FlagName(k.name)
		switch d := k.def.(type) {
		case string:
			fs.String(name, d, k.usage)
		case bool:
			fs.Bool(name, d, k.usage)
		case int:
			fs.Int(name, d, k.usage)
		case int32:
			fs.Int32(name, d, k.usage)
		case int64:
			fs.Int64(name, d, k.usage)
		case float64:
			fs.Float64(name, d, k.usage)
		case time.Duration:
			fs.Duration(name, d, k.usage)
		default:
			panic("config: no flag type for " + k.name)
		}
	}
}

// Load builds the effective config. fs may be nil (tests, library use).
func Load(fs *pflag.FlagSet) (*Config, error) {
	v := viper.New()
	for _, k := range keys {
		if k.def != nil {
			v.SetDefault(k.name, k.def)
		} else {
			v.SetDefault(k.name, "")
		}
		names := append([]string{k.name, EnvName(k.name)}, k.env...)
		if err := v.BindEnv(names...); err != nil {
			return nil, err
		}
		if fs != nil && !k.secret {
			if f := fs.Lookup(FlagName(k.name)); f != nil {
				if err := v.BindPFlag(k.name, f); err != nil {
					return nil, err
				}
			}
		}
	}

	file := os.Getenv("PATHWAYS_CONFIG")
	if fs != nil {
		if f := fs.Lookup("config"); f != nil && f.Changed {
			file = f.Value.String()
		}
	}
	if file != "" {
		fv := viper.New()
		fv.SetConfigFile(file)
		if filepath.Ext(file) == "" {
			fv.SetConfigType("yaml") // viper picks the format by extension
		}
		if err := fv.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config file %s: %w", file, err)
		}
		// Secrets may not live in files: refuse rather than silently ignore.
		// A misspelt key would be ignored silently too, so refuse those as well.
		var inFile []string
		known := map[string]bool{}
		for _, k := range keys {
			known[k.name] = true
			if k.secret && fv.IsSet(k.name) {
				inFile = append(inFile, fmt.Sprintf("%s must come from the environment (%s), not the config file", k.name, EnvName(k.name)))
			}
		}
		for _, name := range fv.AllKeys() {
			if !known[name] {
				inFile = append(inFile, fmt.Sprintf("%s: unknown key in config file %s", name, file))
			}
		}
		if len(inFile) > 0 {
			return nil, errors.New(strings.Join(inFile, "; "))
		}
		if err := v.MergeConfigMap(fv.AllSettings()); err != nil {
			return nil, err
		}
	}

	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	// zap parses "info" and "INFO" but not "Info"; Validate is case-blind.
	c.Log.Level = strings.ToLower(c.Log.Level)
	return &c, nil
}
