package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/integrations"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/store"
)

// Notice tells the role that must act about an escalated case. It carries
// the case ID, never personal data.
type Notice struct {
	Key      string // idempotency key: one notice per case, rule, level and sweep
	CaseID   string
	CentreID string
	Rule     string
	Level    int
	Role     string
	Reason   string
}

// Notifier reaches the people who must act.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Notifiers sends to every notifier and joins their errors.
type Notifiers []Notifier

func (ns Notifiers) Notify(ctx context.Context, n Notice) error {
	var errs []error
	for _, x := range ns {
		if x != nil {
			errs = append(errs, x.Notify(ctx, n))
		}
	}
	return errors.Join(errs...)
}

// Contacts finds the addresses of a role for a case at a centre.
type Contacts func(ctx context.Context, caseID, centreID, role string) ([]string, error)

// Mail notifies by e-mail. Mailer is normally the outbox (mailout.Queue),
// so a relay outage delays the mail without failing the escalation.
type Mail struct {
	Mailer     integrations.Notifier
	Contacts   Contacts
	ConsoleURL string // public URL of the console, for the link; may be empty
	// Language is the language a mailbox reads (a staff member's console
	// setting); nil or "" is Swedish.
	Language func(ctx context.Context, addr string) string
}

// Subject and Body of an escalation mail, in l's language: the case ID and
// the rule only.
func (m Mail) message(n Notice, l *lang.Localizer) integrations.Mail {
	role := l.Code("role", n.Role)
	subject := l.T("mail.escalated_subject", "Case", n.CaseID, "Role", role, "Level", n.Level)
	var b strings.Builder
	b.WriteString(l.T("mail.escalated_body", "Case", n.CaseID, "Role", role, "Level", n.Level, "Top", TopLevel()))
	b.WriteString("\n\n")
	b.WriteString(l.T("mail.escalated_rule", "Rule", l.Code("rule", n.Rule), "Reason", n.Reason))
	b.WriteString("\n\n")
	b.WriteString(l.T("mail.escalated_act"))
	b.WriteString("\n")
	if m.ConsoleURL != "" {
		fmt.Fprintf(&b, "\n%s/pathways/%s\n", strings.TrimRight(m.ConsoleURL, "/"), n.CaseID)
	}
	return integrations.Mail{Subject: subject, Body: b.String()}
}

// Notify mails every mailbox of the role at the case's centre, each in its
// reader's language. No mailbox configured is not an error: the task in the
// console remains.
func (m Mail) Notify(ctx context.Context, n Notice) error {
	if m.Mailer == nil || m.Contacts == nil {
		return nil
	}
	to, err := m.Contacts(ctx, n.CaseID, n.CentreID, n.Role)
	if err != nil {
		return err
	}
	var errs []error
	for _, addr := range to {
		tag := lang.Swedish
		if m.Language != nil {
			tag = m.Language(ctx, addr)
		}
		msg := m.message(n, lang.New(tag))
		msg.To = addr
		errs = append(errs, m.Mailer.Mail(ctx, n.Key+":"+mailboxID(addr), msg))
	}
	return errors.Join(errs...)
}

// mailboxID stands for an address in a mail's key, which is logged: the
// address itself is contact data.
func mailboxID(addr string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(addr)))
	return hex.EncodeToString(sum[:6])
}

// Console posts in-console notifications to the role at the case's centre.
type Console struct{ Pool *pgxpool.Pool }

func (c Console) Notify(ctx context.Context, n Notice) error {
	if c.Pool == nil {
		return nil
	}
	return store.AddNotification(ctx, c.Pool, store.Notification{Key: n.Key, RecipientRole: n.Role, CentreID: n.CentreID,
		CaseID: n.CaseID, Subject: fmt.Sprintf("Case %s escalated to %s (level %d)", n.CaseID, n.Role, n.Level),
		Body: n.Rule + ": " + n.Reason})
}
