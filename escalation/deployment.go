package escalation

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/mailout"
)

// ForDeployment builds the activities as the worker, the API and the CLI
// run them: mail goes to the outbox (the worker delivers it) when an SMTP
// relay is configured, and dates read in the sweep's time zone.
func ForDeployment(cfg *config.Config, pool *pgxpool.Pool, c client.Client) *Activities {
	loc, err := time.LoadLocation(cfg.Escalate.Timezone)
	if err != nil {
		loc = time.UTC // Validate refuses an unknown zone before this runs
	}
	var mailer integrations.Notifier // nil: console notices only
	if cfg.SMTP.Addr != "" {
		mailer = mailout.Queue{Pool: pool}
	}
	return New(pool, c, mailer, cfg.HTTP.PublicURL, loc)
}
