package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Server-side console sessions and sign-in throttling (migration 00070).
// Sessions are keyed by the SHA-256 of the ID the cookie carries, so the
// table alone cannot be replayed as cookies.

// StaffSession is one sign-in.
type StaffSession struct {
	StaffID    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	EndedAt    *time.Time
}

// sessionsKept is how long a finished session stays on record.
const sessionsKept = 30 * 24 * time.Hour

// CreateSession records a new sign-in and forgets sessions that finished
// long ago.
func CreateSession(ctx context.Context, pool *pgxpool.Pool, idHash []byte, staffID string, now, expires time.Time) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM staff_sessions WHERE expires_at < $1`, now.Add(-sessionsKept)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO staff_sessions (id_hash, staff_id, created_at, last_seen_at, expires_at)
			VALUES ($1,$2,$3,$3,$4)`, idHash, staffID, now, expires)
		return err
	})
}

// SessionStaff is a session with its staff member and their console
// language ("" when none chosen), read in one query: every request pays
// for it.
type SessionStaff struct {
	Session  StaffSession
	Staff    Staff
	Language string
}

// GetSessionStaff returns a session, its staff member and their language by
// the session's ID hash. ErrNotFound when the session or its staff member
// does not exist.
func GetSessionStaff(ctx context.Context, db Querier, idHash []byte) (SessionStaff, error) {
	return scanSessionStaff(db.QueryRow(ctx, sessionStaff, idHash))
}

const sessionStaff = `SELECT ss.staff_id, ss.created_at, ss.last_seen_at, ss.expires_at, ss.ended_at,
			st.id, st.name, st.email, st.centre_id, st.roles, st.password_hash, st.active, COALESCE(se.language, '')
		FROM staff_sessions ss
		JOIN staff st ON st.id = ss.staff_id
		LEFT JOIN staff_settings se ON se.staff_id = ss.staff_id
		WHERE ss.id_hash = $1`

func scanSessionStaff(row pgx.Row) (SessionStaff, error) {
	var out SessionStaff
	s, st := &out.Session, &out.Staff
	err := row.Scan(&s.StaffID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.EndedAt,
		&st.ID, &st.Name, &st.Email, &st.CentreID, &st.Roles, &st.PasswordHash, &st.Active, &out.Language)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, ErrNotFound
	}
	return out, err
}

// CaseRead is what a request about one case needs besides its session: the
// pathway and its protected-identity flag for the access rule and, for a
// staff action, what the audit log recorded of its action ID.
type CaseRead struct {
	CaseID   string
	ActionID string // empty: no action to look up
	// Read is true once the reads below succeeded; Found says whether the
	// case exists.
	Read, Found bool
	Row         PathwayRow
	Protected   bool
	Prior       []string // ActionResults of ActionID
}

// GetSessionStaffCase is GetSessionStaff with the case's reads in the same
// round trip (one batch): every request about a case reads both, and the
// access rule waited for the session before. The case is read before the
// session is judged, but only for a request whose signed cookie names a
// session, and nothing of it is used unless the session holds. A failed
// case read leaves cr.Read false for the caller to read it again.
func GetSessionStaffCase(ctx context.Context, pool *pgxpool.Pool, idHash []byte, cr *CaseRead) (SessionStaff, error) {
	b := &pgx.Batch{}
	b.Queue(sessionStaff, idHash)
	b.Queue(pathwayAccess, cr.CaseID)
	if cr.ActionID != "" {
		b.Queue(actionResults, cr.CaseID, cr.ActionID)
	}
	br := pool.SendBatch(ctx, b)
	defer br.Close()
	out, err := scanSessionStaff(br.QueryRow())
	if err != nil {
		return out, err
	}
	row, err := scanPathway(br.QueryRow(), &cr.Protected)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return out, nil
	default:
		cr.Row, cr.Found = row, true
	}
	if cr.ActionID != "" {
		rows, err := br.Query()
		if err != nil {
			return out, nil
		}
		prior, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return out, nil
		}
		cr.Prior = prior
	}
	cr.Read = true
	return out, nil
}

// TouchSession moves a live session's last use forward; an ended session
// stays ended.
func TouchSession(ctx context.Context, pool *pgxpool.Pool, idHash []byte, now time.Time) error {
	_, err := pool.Exec(ctx, `UPDATE staff_sessions SET last_seen_at = $2 WHERE id_hash = $1 AND ended_at IS NULL AND last_seen_at < $2`, idHash, now)
	return err
}

// EndSession ends one session (sign-out, idle timeout).
func EndSession(ctx context.Context, pool *pgxpool.Pool, idHash []byte, reason string) error {
	_, err := pool.Exec(ctx, `UPDATE staff_sessions SET ended_at = now(), end_reason = $2 WHERE id_hash = $1 AND ended_at IS NULL`, idHash, reason)
	return err
}

// EndStaffSessions ends every live session of a staff member and returns
// how many it ended.
func EndStaffSessions(ctx context.Context, pool *pgxpool.Pool, staffID, reason string) (int64, error) {
	tag, err := pool.Exec(ctx, `UPDATE staff_sessions SET ended_at = now(), end_reason = $2 WHERE staff_id = $1 AND ended_at IS NULL`, staffID, reason)
	return tag.RowsAffected(), err
}

// RecordSignInFailure notes a failed password sign-in and prunes failures
// older than keep.
func RecordSignInFailure(ctx context.Context, pool *pgxpool.Pool, account, address string, now time.Time, keep time.Duration) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sign_in_failures WHERE at < $1`, now.Add(-keep)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sign_in_failures (account, address, at) VALUES ($1,$2,$3)`, account, address, now)
		return err
	})
}

// ClearSignInFailures forgets an account's failures after a good sign-in.
func ClearSignInFailures(ctx context.Context, pool *pgxpool.Pool, account string) error {
	_, err := pool.Exec(ctx, `DELETE FROM sign_in_failures WHERE account = $1`, account)
	return err
}

// SignInLockedUntil returns when an account or address may try again: the
// limit-th newest failure since the window began, plus the window. Zero
// when neither has reached its limit.
func SignInLockedUntil(ctx context.Context, db Querier, account, address string, now time.Time, window time.Duration, accountLimit, addressLimit int) (time.Time, error) {
	var until *time.Time
	err := db.QueryRow(ctx, `SELECT greatest(
			(SELECT at FROM sign_in_failures WHERE account = $1 AND at > $3 ORDER BY at DESC OFFSET $4 - 1 LIMIT 1),
			(SELECT at FROM sign_in_failures WHERE address = $2 AND at > $3 ORDER BY at DESC OFFSET $5 - 1 LIMIT 1))`,
		account, address, now.Add(-window), accountLimit, addressLimit).Scan(&until)
	if err != nil || until == nil {
		return time.Time{}, err
	}
	return until.Add(window), nil
}
