// Package mailout delivers staff mail through an outbox table: senders
// queue a mail under its idempotency key, and the worker's deliverer hands
// due mails to the SMTP relay, retrying transient failures with back-off.
// A relay outage therefore delays mail but never loses it, never blocks the
// sender, and never sends a mail twice.
package mailout

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/store"
)

// Queue is an integrations.Notifier that queues instead of sending.
type Queue struct{ Pool *pgxpool.Pool }

// Mail queues m once per key.
func (q Queue) Mail(ctx context.Context, key string, m integrations.Mail) error {
	return store.EnqueueMail(ctx, q.Pool, store.OutboxMail{Key: key, To: m.To, Subject: m.Subject, Body: m.Body})
}

// Deliverer sends queued mail.
type Deliverer struct {
	Pool  *pgxpool.Pool
	Relay integrations.Notifier // the SMTP client
	Log   *zap.Logger
	Every time.Duration // how often to look for due mail; default 2 s
	Retry Backoff
	Lease time.Duration // how long a claimed mail is held; default 2 min
	Batch int           // mails per claim; default 50
}

// Backoff is the wait after the n-th failed attempt: Initial·2^(n-1), at most Max.
type Backoff struct {
	Initial, Max time.Duration
}

// After is the wait after attempt n (1-based).
func (b Backoff) After(n int) time.Duration {
	if b.Initial <= 0 {
		b.Initial = 10 * time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Minute
	}
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	every := d.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// Drain what is due, then wait for the next tick.
		for {
			n, err := d.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				d.Log.Warn("mail outbox", zap.Error(err))
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue sends one batch of due mail and returns how many it tried.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	lease, batch := d.Lease, d.Batch
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	if batch <= 0 {
		batch = 50
	}
	claimed := time.Now()
	due, err := store.ClaimMail(ctx, d.Pool, batch, lease)
	if err != nil {
		return 0, err
	}
	for i, m := range due {
		// A slow relay can outlast the lease, and then another worker may
		// claim the rest. Stop at half the lease (a send is bounded by the
		// relay timeout, far below it): the rest are due again when it ends.
		if time.Since(claimed) > lease/2 {
			return i, nil
		}
		if err := d.deliver(ctx, m); err != nil {
			return i + 1, err
		}
	}
	return len(due), nil
}

// deliver sends one mail and records what happened. The key goes to the relay
// as the Message-ID seed, so a re-send after a lost answer is recognisable.
func (d *Deliverer) deliver(ctx context.Context, m store.OutboxMail) error {
	err := d.Relay.Mail(ctx, m.Key, integrations.Mail{To: m.To, Subject: m.Subject, Body: m.Body})
	// What the relay did is recorded even if the worker is stopping: a sent
	// mail left unmarked would go out again after the restart.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
		return store.MailSent(wctx, d.Pool, m.Key, m.Attempts)
	case integrations.IsRejected(err):
		// Logged by key only: the recipient is a mailbox, not for the log.
		d.Log.Warn("mail refused by the relay; not retried", zap.String("mail_key", m.Key), zap.Error(err))
		return store.MailFailed(wctx, d.Pool, m.Key, m.Attempts, err.Error())
	default:
		wait := d.Retry.After(m.Attempts)
		d.Log.Info("mail delivery failed; will retry", zap.String("mail_key", m.Key), zap.Int("attempt", m.Attempts),
			zap.Duration("retry_in", wait), zap.Error(err))
		return store.MailRetry(wctx, d.Pool, m.Key, m.Attempts, err.Error(), wait)
	}
}
