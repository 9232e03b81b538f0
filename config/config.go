// Package config loads pathways' settings: defaults, then a config file, then
// PATHWAYS_* environment variables, then flags. Secrets come from the
// environment only, so they never sit in a file that gets copied around.
package config

import (
	"time"
)

// Mode names.
const (
	ModeDevelopment = "development"
	ModeProduction  = "production"
)

// Config is the effective configuration of every pathways process.
type Config struct {
	Mode     string         `mapstructure:"mode"`
	Log      LogConfig      `mapstructure:"log"`
	HTTP     HTTPConfig     `mapstructure:"http"`
	Temporal TemporalConfig `mapstructure:"temporal"`
	Worker   WorkerConfig   `mapstructure:"worker"`
	Database DatabaseConfig `mapstructure:"database"`
	Dev      DevConfig      `mapstructure:"dev"`
	Sim      SimConfig      `mapstructure:"simulators"`
	Systems  SystemsConfig  `mapstructure:"systems"`
	SMTP     SMTPConfig     `mapstructure:"smtp"`
	Auth     AuthConfig     `mapstructure:"auth"`
	Demo     DemoConfig     `mapstructure:"demo"`
	Programs ProgramsConfig `mapstructure:"programmes"`
	Escalate EscalateConfig `mapstructure:"escalation"`
	Crypto   CryptoConfig   `mapstructure:"crypto"`
	Retain   RetainConfig   `mapstructure:"retention"`
	Report   ReportConfig   `mapstructure:"report"`
}

// ReportConfig is the outcome report's comparison line and the
// equal-treatment monitor's thresholds.
type ReportConfig struct {
	ComparisonValue      float64 `mapstructure:"comparison_value"`
	ComparisonLabel      string  `mapstructure:"comparison_label"`
	ComparisonSource     string  `mapstructure:"comparison_source"`
	ComparisonYear       int     `mapstructure:"comparison_year"`
	MonitorSharePoints   float64 `mapstructure:"monitor_share_points"`
	MonitorContactDays   float64 `mapstructure:"monitor_contact_days"`
	MonitorProgrammeDays float64 `mapstructure:"monitor_programme_days"`
}

// LogConfig selects zap's level and encoding.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"` // json or console; empty follows the mode
}

// HTTPConfig is the API and web console listener.
type HTTPConfig struct {
	Addr            string        `mapstructure:"addr"`
	PublicURL       string        `mapstructure:"public_url"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// TemporalConfig points at the Temporal frontend.
type TemporalConfig struct {
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	TaskQueue string `mapstructure:"task_queue"`
	UIURL     string `mapstructure:"ui_url"`
}

// WorkerConfig sizes the Temporal worker: how many activities and workflow
// tasks it runs at once, and how many workflows it keeps cached (sticky).
type WorkerConfig struct {
	ActivitySlots   int `mapstructure:"activity_slots"`
	WorkflowSlots   int `mapstructure:"workflow_slots"`
	StickyCacheSize int `mapstructure:"sticky_cache_size"`
	WorkflowPollers int `mapstructure:"workflow_pollers"`
}

// DatabaseConfig is the PostgreSQL pool. URL is a secret (it carries a password).
type DatabaseConfig struct {
	URL         string `mapstructure:"url"`
	OwnerURL    string `mapstructure:"owner_url"`
	MaxConns    int32  `mapstructure:"max_conns"`
	AutoMigrate bool   `mapstructure:"auto_migrate"`
}

// DevConfig drives `pathways dev` (make run): the private servers it starts.
type DevConfig struct {
	DataDir         string `mapstructure:"data_dir"`
	ToolsDir        string `mapstructure:"tools_dir"`
	TemporalVersion string `mapstructure:"temporal_version"`
	TemporalPort    int    `mapstructure:"temporal_port"`
	TemporalUIPort  int    `mapstructure:"temporal_ui_port"`
	PostgresPort    int    `mapstructure:"postgres_port"`
	Seed            bool   `mapstructure:"seed"`
}

// SimConfig is the listener of the outside-system simulators.
type SimConfig struct {
	Addr string `mapstructure:"addr"`
	Seed int64  `mapstructure:"seed"`
	// Faults is the simulators' fault injection at start: inline JSON or the
	// path of a JSON file (see simulators.Faults).
	Faults string `mapstructure:"faults"`
}

// SystemsConfig holds the base URLs of the systems around the centre.
type SystemsConfig struct {
	Timeout        time.Duration `mapstructure:"timeout"`
	Education      string        `mapstructure:"education_url"`
	Employment     string        `mapstructure:"employment_url"`
	JobSearch      string        `mapstructure:"jobsearch_url"`
	JobSearchKey   string        `mapstructure:"jobsearch_api_key"`
	Employers      string        `mapstructure:"employers_url"`
	SocialServices string        `mapstructure:"social_services_url"`
}

// SMTPConfig is the staff e-mail relay.
type SMTPConfig struct {
	Addr     string `mapstructure:"addr"`
	From     string `mapstructure:"from"`
	User     string `mapstructure:"user"`
	Password string `mapstructure:"password"`
	// The worker's outbox deliverer: how often it looks for due mail, and
	// the back-off after a transient failure (doubling up to RetryMax).
	PollInterval time.Duration `mapstructure:"poll_interval"`
	RetryInitial time.Duration `mapstructure:"retry_initial"`
	RetryMax     time.Duration `mapstructure:"retry_max"`
}

// AuthConfig covers console sessions and OIDC sign-in.
type AuthConfig struct {
	SessionSecret    string `mapstructure:"session_secret"`
	OIDCIssuer       string `mapstructure:"oidc_issuer"`
	OIDCClientID     string `mapstructure:"oidc_client_id"`
	OIDCClientSecret string `mapstructure:"oidc_client_secret"`
	OIDCRedirectURL  string `mapstructure:"oidc_redirect_url"`
	DevAccounts      bool   `mapstructure:"dev_accounts"`
	// SessionIdleTimeout ends a session unused this long; SessionLifetime
	// ends any session this long after sign-in.
	SessionIdleTimeout time.Duration `mapstructure:"session_idle_timeout"`
	SessionLifetime    time.Duration `mapstructure:"session_lifetime"`
}

// DemoConfig compresses programme time so a whole pathway plays out in minutes.
// TimeScale is how many real seconds one programme day lasts; 0 means real time.
type DemoConfig struct {
	SecondsPerDay float64 `mapstructure:"seconds_per_day"`
}

// ProgramsConfig locates the programme definition files.
type ProgramsConfig struct {
	Dir string `mapstructure:"dir"`
}

// EscalateConfig sets the daily sweep for stalled cases.
type EscalateConfig struct {
	Cron     string `mapstructure:"cron"`
	Timezone string `mapstructure:"timezone"`
	Rules    string `mapstructure:"rules"`
}

// CryptoConfig locates the keys that encrypt personal data in Temporal
// payloads and database columns (see package keyring). Keys is a secret.
type CryptoConfig struct {
	Keys    string `mapstructure:"keys"`
	KeyFile string `mapstructure:"key_file"`
}

// MigrationURL is the URL migrations run as: the schema owner's when set.
func (d DatabaseConfig) MigrationURL() string {
	if d.OwnerURL != "" {
		return d.OwnerURL
	}
	return d.URL
}

// RetainConfig is the retention policy (gallring) and its daily schedule.
type RetainConfig struct {
	ClosedCaseDays     int    `mapstructure:"closed_case_days"`
	AuditAfterCaseDays int    `mapstructure:"audit_after_case_days"`
	AuditDays          int    `mapstructure:"audit_days"`
	MailDays           int    `mapstructure:"mail_days"`
	Cron               string `mapstructure:"cron"`
	Timezone           string `mapstructure:"timezone"`
	BatchSize          int    `mapstructure:"batch_size"`
}

// Production reports whether the process runs in production mode.
func (c *Config) Production() bool { return c.Mode == ModeProduction }
