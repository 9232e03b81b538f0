package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validate returns one clear message per bad value, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.Mode != ModeDevelopment && c.Mode != ModeProduction {
		bad("mode", "must be %q or %q, got %q", ModeDevelopment, ModeProduction, c.Mode)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "unknown level %q (use debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "json", "console":
	default:
		bad("log.format", "unknown format %q (use json or console)", c.Log.Format)
	}
	checkAddr := func(key, v string) {
		_, port, err := net.SplitHostPort(v)
		if err != nil || port == "" {
			bad(key, "%q is not a host:port address", v)
			return
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad(key, "%q has no valid port number", v)
		}
	}
	checkAddr("http.addr", c.HTTP.Addr)
	checkAddr("temporal.address", c.Temporal.Address)
	checkAddr("simulators.addr", c.Sim.Addr)
	checkAddr("smtp.addr", c.SMTP.Addr)
	checkURL := func(key, v string, required bool) {
		if v == "" {
			if required {
				bad(key, "is required")
			}
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key, "%q is not an http(s) URL", v)
		}
	}
	checkURL("http.public_url", c.HTTP.PublicURL, true)
	checkURL("temporal.ui_url", c.Temporal.UIURL, false)
	checkURL("systems.education_url", c.Systems.Education, true)
	checkURL("systems.employment_url", c.Systems.Employment, true)
	checkURL("systems.jobsearch_url", c.Systems.JobSearch, true)
	checkURL("systems.employers_url", c.Systems.Employers, true)
	checkURL("systems.social_services_url", c.Systems.SocialServices, true)
	checkURL("auth.oidc_issuer", c.Auth.OIDCIssuer, false)
	if c.Temporal.Namespace == "" {
		bad("temporal.namespace", "is required")
	}
	if c.Temporal.TaskQueue == "" {
		bad("temporal.task_queue", "is required")
	}
	if c.Database.URL != "" {
		if u, err := url.Parse(c.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			// Never echo the URL: it may carry a password.
			bad("database.url", "is not a postgres:// URL")
		}
	} else if c.Production() {
		bad("database.url", "is required in production (set PATHWAYS_DATABASE_URL or DATABASE_URL)")
	}
	if c.Worker.ActivitySlots < 1 || c.Worker.WorkflowSlots < 1 {
		bad("worker.activity_slots", "and worker.workflow_slots must be at least 1, got %d and %d", c.Worker.ActivitySlots, c.Worker.WorkflowSlots)
	}
	if c.Worker.WorkflowPollers < 1 {
		bad("worker.workflow_pollers", "must be at least 1, got %d", c.Worker.WorkflowPollers)
	}
	if c.Worker.StickyCacheSize < 0 {
		bad("worker.sticky_cache_size", "must not be negative, got %d", c.Worker.StickyCacheSize)
	}
	if c.Database.MaxConns < 1 {
		bad("database.max_conns", "must be at least 1, got %d", c.Database.MaxConns)
	}
	if c.Systems.Timeout <= 0 {
		bad("systems.timeout", "must be positive, got %s", c.Systems.Timeout)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"smtp.poll_interval", c.SMTP.PollInterval}, {"smtp.retry_initial", c.SMTP.RetryInitial}, {"smtp.retry_max", c.SMTP.RetryMax}} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %s", d.v)
		}
	}
	if c.Auth.SessionIdleTimeout < 0 || c.Auth.SessionLifetime < 0 {
		bad("auth.session_idle_timeout", "session timeouts must not be negative (0 means the default)")
	}
	if c.SMTP.RetryMax < c.SMTP.RetryInitial {
		bad("smtp.retry_max", "must not be below smtp.retry_initial (%s)", c.SMTP.RetryInitial)
	}
	if c.Demo.SecondsPerDay < 0 {
		bad("demo.seconds_per_day", "must not be negative")
	}
	if _, err := time.LoadLocation(c.Escalate.Timezone); err != nil {
		bad("escalation.timezone", "unknown time zone %q", c.Escalate.Timezone)
	}
	for _, d := range []struct {
		key string
		v   int
	}{{"retention.closed_case_days", c.Retain.ClosedCaseDays}, {"retention.audit_after_case_days", c.Retain.AuditAfterCaseDays},
		{"retention.audit_days", c.Retain.AuditDays}, {"retention.mail_days", c.Retain.MailDays}, {"retention.batch_size", c.Retain.BatchSize}} {
		if d.v < 1 {
			bad(d.key, "must be at least 1, got %d", d.v)
		}
	}
	if v := c.Report.ComparisonValue; v < 0 || v > 100 {
		bad("report.comparison_value", "must be a percentage from 0 to 100, got %v", v)
	}
	for _, d := range []struct {
		key string
		v   float64
	}{{"report.monitor_share_points", c.Report.MonitorSharePoints}, {"report.monitor_contact_days", c.Report.MonitorContactDays},
		{"report.monitor_programme_days", c.Report.MonitorProgrammeDays}} {
		if d.v < 0 {
			bad(d.key, "must not be negative, got %v", d.v)
		}
	}
	if _, err := time.LoadLocation(c.Retain.Timezone); err != nil {
		bad("retention.timezone", "unknown time zone %q", c.Retain.Timezone)
	}
	if c.Production() {
		if len(c.Auth.SessionSecret) < 32 {
			bad("auth.session_secret", "is required in production, at least 32 bytes (set %s)", EnvName("auth.session_secret"))
		}
		if c.Auth.OIDCIssuer == "" || c.Auth.OIDCClientID == "" {
			bad("auth.oidc_issuer", "OIDC issuer and client ID are required in production")
		}
		if c.Auth.OIDCIssuer != "" && c.Auth.OIDCClientSecret == "" {
			bad("auth.oidc_client_secret", "is required in production (set %s)", EnvName("auth.oidc_client_secret"))
		}
		if c.Auth.DevAccounts {
			bad("auth.dev_accounts", "must be false in production")
		}
		if c.Crypto.Keys == "" && c.Crypto.KeyFile == "" {
			bad("crypto.keys", "encryption keys are required in production (set %s or crypto.key_file)", EnvName("crypto.keys"))
		}
		if c.Demo.SecondsPerDay != 0 {
			bad("demo.seconds_per_day", "must be 0 in production")
		}
	}
	return errors.Join(errs...)
}
