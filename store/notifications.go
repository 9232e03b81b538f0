package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Notification is an in-console message to staff: to one staff member
// (RecipientStaff) or to everyone with a role (RecipientRole), optionally
// limited to one centre. It names the case, never the participant.
type Notification struct {
	ID             int64      `json:"id"`
	Key            string     `json:"key"`
	RecipientStaff string     `json:"recipient_staff,omitempty"`
	RecipientRole  string     `json:"recipient_role,omitempty"`
	CentreID       string     `json:"centre_id,omitempty"`
	CaseID         string     `json:"case_id,omitempty"`
	Subject        string     `json:"subject"`
	Body           string     `json:"body,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	ReadAt         *time.Time `json:"read_at,omitempty"`
}

// AddNotification stores n once per n.Key: a second call with the same key
// does nothing (and is not an error).
func AddNotification(ctx context.Context, pool *pgxpool.Pool, n Notification) error {
	if strings.TrimSpace(n.Key) == "" {
		return errors.New("notification: key is required")
	}
	if n.RecipientStaff == "" && n.RecipientRole == "" {
		return errors.New("notification: a recipient staff ID or role is required")
	}
	if strings.TrimSpace(n.Subject) == "" {
		return errors.New("notification: subject is required")
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	_, err := pool.Exec(ctx, `INSERT INTO notifications
		(notification_key, recipient_staff, recipient_role, centre_id, case_id, subject, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (notification_key) DO NOTHING`,
		n.Key, n.RecipientStaff, n.RecipientRole, n.CentreID, n.CaseID, n.Subject, n.Body, created)
	if err != nil {
		return fmt.Errorf("add notification: %w", err)
	}
	return nil
}

// NotificationFilter selects the notifications one staff member sees: those
// addressed to StaffID, plus those addressed to one of Roles, either without
// a centre or for one of CentreIDs. An empty filter lists everything (callers
// enforce visibility).
type NotificationFilter struct {
	StaffID    string
	Roles      []string
	CentreIDs  []string
	CaseID     string
	UnreadOnly bool
	Limit      int // default 50, at most 500
	Offset     int
}

// ListNotifications returns a page of notifications, newest first.
func ListNotifications(ctx context.Context, pool *pgxpool.Pool, f NotificationFilter) (Page[Notification], error) {
	where, args := []string{"true"}, []any{}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.StaffID != "" || len(f.Roles) > 0 {
		var who []string
		if f.StaffID != "" {
			who = append(who, "recipient_staff = "+arg(f.StaffID))
		}
		if len(f.Roles) > 0 {
			cond := "(recipient_role = ANY(" + arg(f.Roles) + ") AND (centre_id = ''"
			if len(f.CentreIDs) > 0 {
				cond += " OR centre_id = ANY(" + arg(f.CentreIDs) + ")"
			}
			who = append(who, cond+"))")
		}
		where = append(where, "("+strings.Join(who, " OR ")+")")
	} else if len(f.CentreIDs) > 0 {
		where = append(where, "(centre_id = '' OR centre_id = ANY("+arg(f.CentreIDs)+"))")
	}
	if f.CaseID != "" {
		where = append(where, "case_id = "+arg(f.CaseID))
	}
	if f.UnreadOnly {
		where = append(where, "read_at IS NULL")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	offset := max(f.Offset, 0)
	cond := strings.Join(where, " AND ")
	page := Page[Notification]{Items: []Notification{}, Limit: limit, Offset: offset}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count notifications: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT id, notification_key, recipient_staff, recipient_role, centre_id, case_id,
		subject, body, created_at, read_at FROM notifications WHERE `+cond+
		` ORDER BY created_at DESC, id DESC LIMIT `+arg(limit)+` OFFSET `+arg(offset), args...)
	if err != nil {
		return page, fmt.Errorf("list notifications: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Notification, error) {
		var n Notification
		err := row.Scan(&n.ID, &n.Key, &n.RecipientStaff, &n.RecipientRole, &n.CentreID, &n.CaseID,
			&n.Subject, &n.Body, &n.CreatedAt, &n.ReadAt)
		return n, err
	})
	if err != nil {
		return page, fmt.Errorf("list notifications: %w", err)
	}
	page.Items = items
	return page, nil
}

// MarkNotificationsRead sets read_at on the given notifications that are
// still unread and reports how many changed.
func MarkNotificationsRead(ctx context.Context, pool *pgxpool.Pool, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := pool.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE id = ANY($1) AND read_at IS NULL`, ids)
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return tag.RowsAffected(), nil
}
