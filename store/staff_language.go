package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// SetStaffLanguage keeps staffID's choice of console language; "" forgets
// it, so the browser's choice applies again.
func SetStaffLanguage(ctx context.Context, pool *pgxpool.Pool, staffID, language string) error {
	if language == "" {
		_, err := pool.Exec(ctx, `DELETE FROM staff_settings WHERE staff_id = $1`, staffID)
		return err
	}
	_, err := pool.Exec(ctx, `INSERT INTO staff_settings (staff_id, language) VALUES ($1, $2)
		ON CONFLICT (staff_id) DO UPDATE SET language = excluded.language, updated_at = now()`, staffID, language)
	return err
}

// MailboxLanguage is the console language of the staff member whose
// address addr is, Swedish when none is chosen or the address is a shared
// mailbox. A failed read is Swedish too: the mail still goes out.
func MailboxLanguage(ctx context.Context, pool *pgxpool.Pool, addr string) string {
	var l string
	err := pool.QueryRow(ctx, `SELECT ss.language FROM staff s JOIN staff_settings ss ON ss.staff_id = s.id
		WHERE lower(s.email) = lower($1) LIMIT 1`, addr).Scan(&l)
	if err != nil || l == "" {
		return "sv"
	}
	return l
}
