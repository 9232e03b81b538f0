package simulators

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
)

// The simulators keep what they hold (enrolments, agreements, reports,
// notices, registrations set by admin, idempotency records) in PostgreSQL
// when given a database, so a restarted simulator carries on: a course
// poll finds its enrolment, a replayed key gets its first answer, and an ID
// is never handed out twice. The tables live in schema "simulators", which
// the simulators create themselves: pathways' migrations know nothing of it.
// Every change is written, in one transaction with its idempotency record,
// before the answer goes out; if that fails the answer is 503 and memory is
// reloaded from the database, so it never holds what the database does not.

const schemaSQL = `
CREATE SCHEMA IF NOT EXISTS simulators;
CREATE TABLE IF NOT EXISTS simulators.objects (
	kind text NOT NULL,
	id   text NOT NULL,
	seq  bigint NOT NULL, -- creation number within kind; IDs derive from it
	body jsonb NOT NULL,
	PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS simulators.idempotency (
	system      text NOT NULL,
	key         text NOT NULL,
	fingerprint text NOT NULL,
	status      int NOT NULL,
	body        bytea NOT NULL,
	PRIMARY KEY (system, key)
);`

// Object kinds.
const (
	kindEnrolment    = "enrolment"
	kindAgreement    = "agreement"
	kindReport       = "report"
	kindNotice       = "notice"
	kindRegistration = "registration"
)

// storedEnrolment and storedReport carry the fields the API never shows.
type storedEnrolment struct {
	simEnrolment
	CallbackURL string `json:"callback_url,omitempty"`
	PNR         string `json:"pnr"`
}

type storedReport struct {
	simReport
	Content string `json:"content"`
}

// change is one object to write with the current request.
type change struct {
	kind, id string
	seq      int
	v        any
}

type idemRow struct {
	system, key string
	e           *idemEntry
}

// Persist keeps the simulator's state in pool from now on: it creates the
// schema if needed and loads what an earlier run stored.
func (s *Sim) Persist(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("simulators: storage: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	// Two simulators starting at once must not race to create the tables.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('pathways-simulators'))`); err != nil {
		return fmt.Errorf("simulators: storage: %w", err)
	}
	if _, err := tx.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("simulators: create schema: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("simulators: create schema: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.db = pool
	return s.reloadLocked(ctx)
}

// touch queues an object changed by the current request; commitLocked writes it.
func (s *Sim) touch(kind, id string, seq int, v any) {
	if s.db != nil {
		s.pending = append(s.pending, change{kind: kind, id: id, seq: seq, v: v})
	}
}

// errStorage is answered as 503: nothing was changed.
var errStorage = errors.New("simulator storage unavailable")

// commitLocked writes the queued changes and idem (if any) in one
// transaction. On failure memory is reloaded from the database.
func (s *Sim) commitLocked(idem *idemRow) error {
	ch := s.pending
	s.pending = nil
	if s.db == nil || (len(ch) == 0 && idem == nil) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		for _, c := range ch {
			body, err := json.Marshal(c.v)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO simulators.objects (kind, id, seq, body) VALUES ($1, $2, $3, $4)
				ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body`, c.kind, c.id, c.seq, body); err != nil {
				return err
			}
		}
		if idem != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO simulators.idempotency (system, key, fingerprint, status, body) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (system, key) DO NOTHING`, idem.system, idem.key, idem.e.fingerprint, idem.e.status, idem.e.body); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	s.log.Error("simulator storage write failed; reloading", zap.Error(err))
	if rerr := s.reloadLocked(ctx); rerr != nil {
		// Forget everything until a reload works (see fresh).
		s.log.Error("simulator storage reload failed", zap.Error(rerr))
		s.stale = true
		s.edu, s.emp, s.ers, s.soc, s.idem = educationState{}, employmentState{}, employersState{}, socialState{}, map[string]*idemEntry{}
		s.edu.init()
		s.emp.init()
		s.ers.init()
		s.soc.init()
	}
	return errStorage
}

// fresh reloads after a failed write; until that works every request is 503.
func (s *Sim) fresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stale {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.reloadLocked(ctx); err != nil {
		return errStorage
	}
	s.stale = false
	return nil
}

// reloadLocked replaces the state in memory by the stored one.
func (s *Sim) reloadLocked(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT kind, id, seq, body FROM simulators.objects ORDER BY kind, seq, id`)
	if err != nil {
		return err
	}
	var edu educationState
	var emp employmentState
	var ers employersState
	var soc socialState
	edu.init()
	emp.init()
	ers.init()
	soc.init()
	for rows.Next() {
		var kind, id string
		var seq int
		var body []byte
		if err := rows.Scan(&kind, &id, &seq, &body); err != nil {
			rows.Close()
			return err
		}
		switch kind {
		case kindEnrolment:
			var e storedEnrolment
			err = json.Unmarshal(body, &e)
			e.simEnrolment.callbackURL, e.simEnrolment.pnr = e.CallbackURL, e.PNR
			edu.enrolments[id] = &e.simEnrolment
			edu.order = append(edu.order, id)
			edu.seq = max(edu.seq, seq)
		case kindAgreement:
			var a simAgreement
			err = json.Unmarshal(body, &a)
			ers.agreements[id] = &a
			ers.order = append(ers.order, id)
			ers.seq = max(ers.seq, seq)
		case kindReport:
			var r storedReport
			err = json.Unmarshal(body, &r)
			r.simReport.content = r.Content
			emp.reports = append(emp.reports, &r.simReport)
			emp.seq = max(emp.seq, seq)
		case kindNotice:
			var n simNotice
			err = json.Unmarshal(body, &n)
			soc.notices = append(soc.notices, &n)
			soc.seq = max(soc.seq, seq)
		case kindNeed:
			var n simNeed
			err = json.Unmarshal(body, &n)
			ers.needs[id] = &n
			if strings.HasPrefix(id, "need-r") {
				ers.needOrder = append(ers.needOrder, id)
			}
			ers.needSeq = max(ers.needSeq, seq)
		case kindRegistration:
			var r simRegistration
			err = json.Unmarshal(body, &r)
			emp.regs[id] = r
		}
		if err != nil {
			rows.Close()
			return fmt.Errorf("simulators: stored %s %s: %w", kind, id, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	idem := map[string]*idemEntry{}
	irows, err := s.db.Query(ctx, `SELECT system, key, fingerprint, status, body FROM simulators.idempotency`)
	if err != nil {
		return err
	}
	defer irows.Close()
	for irows.Next() {
		var system, key string
		e := &idemEntry{}
		if err := irows.Scan(&system, &key, &e.fingerprint, &e.status, &e.body); err != nil {
			return err
		}
		idem[system+"\x00"+key] = e
	}
	if err := irows.Err(); err != nil {
		return err
	}
	s.edu, s.emp, s.ers, s.soc, s.idem = edu, emp, ers, soc, idem
	return nil
}
