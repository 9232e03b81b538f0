package mailout_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/mailout"
	"github.com/pathways-se/pathways/simulators"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestBackoffDoublesToItsCap(t *testing.T) {
	b := mailout.Backoff{Initial: time.Second, Max: 5 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := b.After(i + 1); got != w {
			t.Errorf("after attempt %d: %s, want %s", i+1, got, w)
		}
	}
	if got := b.After(1000); got != 5*time.Second {
		t.Errorf("after attempt 1000: %s", got)
	}
}

// relay is the simulators' SMTP sink on loopback.
func relay(t *testing.T) (*simulators.Sim, integrations.Notifier) {
	t.Helper()
	sim := simulators.New(1, zap.NewNop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.ServeSMTP(ctx, ln) }()
	t.Cleanup(func() { stop(); <-done; sim.Close() })
	return sim, integrations.NewMailer(config.SMTPConfig{Addr: ln.Addr().String(), From: "pathways@kommun.example"}, 2*time.Second)
}

func TestQueuedMailIsSentOnceRetriedAndRefusalsKept(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	sim, smtp := relay(t)
	q := mailout.Queue{Pool: pool}
	m := integrations.Mail{To: "team_lead@centre.example", Subject: "Case C-1 escalated", Body: "Open case C-1."}
	for range 3 { // a retried sweep queues the same key again
		if err := q.Mail(ctx, "esc:C-1:lead", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Mail(ctx, "", m); err == nil {
		t.Fatal("a mail without key was queued")
	}
	d := &mailout.Deliverer{Pool: pool, Relay: smtp, Log: zap.NewNop(), Retry: mailout.Backoff{Initial: time.Hour, Max: time.Hour}}

	// The relay defers everything: the mail stays queued with the reason
	// and is not due again before the back-off.
	if err := sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"smtp": {Errors: map[string]float64{"451": 1}}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("first try: %d %v", n, err)
	}
	if n, err := d.DeliverDue(ctx); n != 0 || err != nil {
		t.Fatalf("retried before its back-off: %d %v", n, err)
	}
	list, err := store.MailOutbox(ctx, pool, "esc:", 10)
	if err != nil || len(list) != 1 || list[0].SentAt != nil || list[0].Attempts != 1 || !strings.Contains(list[0].LastError, "451") {
		t.Fatalf("after a deferral: %+v %v", list, err)
	}
	if strings.Contains(list[0].LastError, m.To) {
		t.Fatalf("the error names the mailbox: %q", list[0].LastError)
	}

	// Due again (as after the back-off) with the relay back: sent once.
	if _, err := pool.Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	_ = sim.SetFaults(simulators.Faults{})
	if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("second try: %d %v", n, err)
	}
	if n, _ := d.DeliverDue(ctx); n != 0 {
		t.Fatalf("a sent mail was claimed again")
	}
	got := sim.Mail()
	if len(got) != 1 || got[0].Deliveries != 1 || got[0].Subject != m.Subject || got[0].IdempotencyKey != "esc:C-1:lead" {
		t.Fatalf("relay received %+v", got)
	}

	// A refusal (550) is final: kept as failed with the reason, not retried.
	if err := q.Mail(ctx, "esc:C-2:lead", integrations.Mail{To: "nobody@centre.example", Subject: "Case C-2 escalated"}); err != nil {
		t.Fatal(err)
	}
	_ = sim.SetFaults(simulators.Faults{Systems: map[string]*simulators.FaultSpec{"smtp": {Errors: map[string]float64{"550": 1}}}})
	if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("refused: %d %v", n, err)
	}
	c, err := store.MailOutboxCounts(ctx, pool)
	if err != nil || c != (store.OutboxCounts{Sent: 1, Failed: 1}) {
		t.Fatalf("counts %+v %v", c, err)
	}
}

// Two deliverers (two workers) never claim the same mail.
func TestClaimsDoNotOverlap(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	for i := range 40 {
		if err := store.EnqueueMail(ctx, pool, store.OutboxMail{Key: "k" + string(rune('A'+i)), To: "a@b.example", Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	results := make(chan []store.OutboxMail, 4)
	for range 4 {
		go func() {
			got, err := store.ClaimMail(ctx, pool, 15, time.Minute)
			if err != nil {
				t.Error(err)
			}
			results <- got
		}()
	}
	total := 0
	for range 4 {
		for _, m := range <-results {
			seen[m.Key]++
			total++
		}
	}
	if total != 40 || len(seen) != 40 {
		t.Fatalf("claimed %d mails, %d distinct; want 40 once each", total, len(seen))
	}
	if more, err := store.ClaimMail(ctx, pool, 15, time.Minute); err != nil || len(more) != 0 {
		t.Fatalf("leased mails claimed again: %d %v", len(more), err)
	}
}

// A deliverer whose lease ran out, and whose mail another claimed, cannot
// mark it: only the current claim's attempt number counts.
func TestStaleClaimMarksNothing(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	if err := store.EnqueueMail(ctx, pool, store.OutboxMail{Key: "k-stale", To: "a@b.example", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	first, err := store.ClaimMail(ctx, pool, 1, time.Minute)
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim: %v %v", first, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = now()`); err != nil { // the lease ends
		t.Fatal(err)
	}
	second, err := store.ClaimMail(ctx, pool, 1, time.Minute)
	if err != nil || len(second) != 1 || second[0].Attempts != first[0].Attempts+1 {
		t.Fatalf("second claim: %v %v", second, err)
	}
	if err := store.MailSent(ctx, pool, "k-stale", first[0].Attempts); err != nil {
		t.Fatal(err)
	}
	if c, _ := store.MailOutboxCounts(ctx, pool); c.Sent != 0 || c.Pending != 1 {
		t.Fatalf("the stale claim marked the mail: %+v", c)
	}
	if err := store.MailSent(ctx, pool, "k-stale", second[0].Attempts); err != nil {
		t.Fatal(err)
	}
	if c, _ := store.MailOutboxCounts(ctx, pool); c.Sent != 1 {
		t.Fatalf("the current claim could not mark the mail: %+v", c)
	}
}
