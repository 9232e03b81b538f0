package integrations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/pathways-se/pathways/config"
)

// Mailer sends staff mail over SMTP (net/smtp). PLAIN auth is used only when
// a user is configured; STARTTLS is used when the relay offers it.
//
// Each message carries the idempotency key twice: in an Idempotency-Key
// header and as the Message-ID, which is derived from it, so the receiving
// side can drop a re-delivery. Within one process the same key is not mailed
// twice at all.
type Mailer struct {
	addr, from, user, password string
	timeout                    time.Duration

	mu       sync.Mutex
	sent     map[string]time.Time
	inflight map[string]chan struct{}
}

// NewMailer builds the notifier; timeout 0 means DefaultTimeout.
func NewMailer(cfg config.SMTPConfig, timeout time.Duration) *Mailer {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Mailer{
		addr: cfg.Addr, from: cfg.From, user: cfg.User, password: cfg.Password,
		timeout:  timeout,
		sent:     map[string]time.Time{},
		inflight: map[string]chan struct{}{},
	}
}

var _ Notifier = (*Mailer)(nil)

// sentTTL bounds how long the in-process record of a sent key is kept.
const sentTTL = 24 * time.Hour

// MessageID is the Message-ID derived from an idempotency key.
func MessageID(key, from string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "pathways.invalid"
	if i := strings.LastIndex(from, "@"); i >= 0 && i < len(from)-1 {
		domain = strings.Trim(from[i+1:], "<> ")
	}
	return "<" + hex.EncodeToString(sum[:16]) + "@" + domain + ">"
}

// Mail sends m once per key.
func (s *Mailer) Mail(ctx context.Context, key string, m Mail) error {
	if err := requireKey("smtp", key); err != nil {
		return err
	}
	if strings.ContainsAny(m.To+m.Subject+key, "\r\n") || !strings.Contains(m.To, "@") {
		return &Rejected{System: "smtp", Reason: "malformed recipient, subject or key"}
	}
	// Claim the key: wait for a concurrent send of the same key, skip a sent one.
	for {
		s.mu.Lock()
		if _, done := s.sent[key]; done {
			s.mu.Unlock()
			return nil
		}
		if ch, busy := s.inflight[key]; busy {
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return &Unavailable{System: "smtp", Err: ctx.Err()}
			}
		}
		ch := make(chan struct{})
		s.inflight[key] = ch
		s.mu.Unlock()
		err := s.send(ctx, key, m)
		s.mu.Lock()
		delete(s.inflight, key)
		close(ch)
		if err == nil {
			s.remember(key)
		}
		s.mu.Unlock()
		return err
	}
}

// remember records a sent key; called with s.mu held.
func (s *Mailer) remember(key string) {
	now := time.Now()
	if len(s.sent) > 10000 {
		for k, t := range s.sent {
			if now.Sub(t) > sentTTL {
				delete(s.sent, k)
			}
		}
	}
	s.sent[key] = now
}

func (s *Mailer) message(key string, m Mail) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", s.from)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("Message-ID", MessageID(key, s.from))
	h(IdempotencyHeader, key)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	_, _ = qp.Write([]byte(body))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

func (s *Mailer) send(ctx context.Context, key string, m Mail) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	host, _, splitErr := net.SplitHostPort(s.addr)
	if splitErr != nil {
		return &Rejected{System: "smtp", Reason: "smtp.addr is not host:port"}
	}
	d := net.Dialer{Timeout: s.timeout}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return &Unavailable{System: "smtp", Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return smtpErr(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return smtpErr(err)
		}
	}
	if s.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return &Rejected{System: "smtp", Reason: "the relay does not offer AUTH but smtp.user is set"}
		}
		if err := c.Auth(smtp.PlainAuth("", s.user, s.password, host)); err != nil {
			return smtpErr(err)
		}
	}
	envelope := s.from
	if a, err := mail.ParseAddress(s.from); err == nil {
		envelope = a.Address
	}
	if err := c.Mail(envelope); err != nil {
		return smtpErr(err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return smtpErr(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(err)
	}
	if _, err := w.Write(s.message(key, m)); err != nil {
		return smtpErr(err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(err)
	}
	_ = c.Quit()
	return nil
}

// smtpErr maps 5xx replies to *Rejected and the rest to *Unavailable; the
// server's text is scrubbed (it may echo the recipient).
func smtpErr(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 {
			return &Rejected{System: "smtp", Status: te.Code, Reason: Scrub(te.Msg)}
		}
		return &Unavailable{System: "smtp", Status: te.Code, Err: errors.New(Scrub(te.Msg))}
	}
	return &Unavailable{System: "smtp", Err: errors.New(Scrub(err.Error()))}
}
