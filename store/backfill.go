package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
)

// Timeline free text is sealed under these names (see participants' columns).
const (
	colTimelineSummary = "timeline.summary"
	colTimelineData    = "timeline.data"
)

// sealEvent encrypts a timeline line's summary and data (nil data stays nil).
func sealEvent(keys *keyring.Ring, summary string, data json.RawMessage) (sealedSummary, sealedData []byte, err error) {
	if keys == nil {
		return nil, nil, errors.New("store: no keyring: staff free text is never written unencrypted")
	}
	if sealedSummary, err = keys.SealString(summary, []byte(colTimelineSummary)); err != nil {
		return nil, nil, err
	}
	if len(data) > 0 {
		if sealedData, err = keys.Seal(data, []byte(colTimelineData)); err != nil {
			return nil, nil, err
		}
	}
	return sealedSummary, sealedData, nil
}

// openEvent decrypts what sealEvent wrote; a line the backfill has not
// converted yet keeps its plain summary and data.
func openEvent(keys *keyring.Ring, sealedSummary, sealedData []byte, summary *string, data *json.RawMessage) error {
	if sealedSummary == nil && sealedData == nil {
		return nil
	}
	if keys == nil {
		return errors.New("store: no keyring to read the timeline")
	}
	if sealedSummary != nil {
		s, err := keys.OpenString(sealedSummary, []byte(colTimelineSummary))
		if err != nil {
			return err
		}
		*summary = s
	}
	if sealedData != nil {
		d, err := keys.Open(sealedData, []byte(colTimelineData))
		if err != nil {
			return err
		}
		*data = d
	}
	return nil
}

// BackfillProgress is reported after every batch of the backfill.
type BackfillProgress struct {
	Table     string
	Converted int // rows converted by this run so far
	Remaining int // rows still plain
}

// Plain counts rows whose personal data is still in plain columns.
type Plain struct {
	Participants int `json:"participants"`
	Timeline     int `json:"timeline"`
	OutcomeNotes int `json:"outcome_notes"` // pathway rows with follow-up notes in outcome
	// NamesUnindexed: encrypted people whose names the search index lacks.
	NamesUnindexed int `json:"names_unindexed"`
}

// Of is the count for one backfill table.
func (p Plain) Of(table string) int {
	return map[string]int{"participants": p.Participants, "timeline": p.Timeline, "pathways": p.OutcomeNotes, "participant names": p.NamesUnindexed}[table]
}

// PlainRemaining counts what the backfill still has to convert.
func PlainRemaining(ctx context.Context, pool *pgxpool.Pool) (Plain, error) {
	var p Plain
	err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM participants WHERE personal_number_enc IS NULL),
		(SELECT count(*) FROM timeline WHERE summary_enc IS NULL), (SELECT count(*) FROM pathways WHERE `+outcomeHasNotes+`),
		(SELECT count(*) FROM participants WHERE NOT names_indexed AND personal_number_enc IS NOT NULL)`).
		Scan(&p.Participants, &p.Timeline, &p.OutcomeNotes, &p.NamesUnindexed)
	return p, err
}

// outcomeHasNotes selects pathway rows written before follow-up notes were
// kept out of the plain outcome column.
const outcomeHasNotes = `jsonb_path_exists(outcome, '$.follow_ups[*] ? (@.note != "")')`

// backfillOutcomeNotes drops follow-up notes from plain outcome columns; the
// timeline's follow_up lines hold them (encrypted by backfillTimeline).
func backfillOutcomeNotes(ctx context.Context, tx pgx.Tx, _ *keyring.Ring, batch int) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE pathways p SET outcome = jsonb_set(p.outcome, '{follow_ups}',
			(SELECT jsonb_agg(f - 'note' ORDER BY n) FROM jsonb_array_elements(p.outcome->'follow_ups') WITH ORDINALITY AS a(f, n)))
		WHERE p.case_id IN (SELECT case_id FROM pathways WHERE `+outcomeHasNotes+` LIMIT $1 FOR UPDATE SKIP LOCKED)`, batch)
	return int(tag.RowsAffected()), err
}

// BackfillEncryption converts rows written before encryption: it seals the
// plain identifiers and timeline text into the *_enc columns and clears the
// plain ones, batch rows per transaction. Each batch commits on its own and
// locks only its rows (FOR UPDATE SKIP LOCKED), so readers carry on (they
// fall back to the plain columns until a row is converted), an interrupted
// run resumes where it stopped, and a finished one is a no-op.
func BackfillEncryption(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, batch int, progress func(BackfillProgress)) error {
	if batch <= 0 {
		batch = 500
	}
	for _, t := range []struct {
		table string
		step  func(context.Context, pgx.Tx, *keyring.Ring, int) (int, error)
	}{{"participants", backfillParticipants}, {"timeline", backfillTimeline}, {"pathways", backfillOutcomeNotes}, {"participant names", backfillNames}} {
		done := 0
		for {
			var n int
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				var err error
				n, err = t.step(ctx, tx, keys, batch)
				return err
			})
			if err != nil {
				return fmt.Errorf("backfill %s: %w", t.table, err)
			}
			done += n
			if progress != nil {
				left, err := PlainRemaining(ctx, pool)
				if err != nil {
					return err
				}
				progress(BackfillProgress{Table: t.table, Converted: done, Remaining: left.Of(t.table)})
			}
			if n < batch {
				break
			}
		}
	}
	return nil
}

func backfillParticipants(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, batch int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id, personal_number, given_name, family_name, email, phone FROM participants
		WHERE personal_number_enc IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
	if err != nil {
		return 0, err
	}
	var people []Participant
	for rows.Next() {
		var p Participant
		var number, given, family *string
		if err := rows.Scan(&p.ID, &number, &given, &family, &p.Email, &p.Phone); err != nil {
			rows.Close()
			return 0, err
		}
		p.PersonalNumber, p.GivenName, p.FamilyName = deref(number), deref(given), deref(family)
		people = append(people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, p := range people {
		s, err := sealIdentifiers(keys, p)
		if err != nil {
			return 0, err
		}
		if err := convertParticipant(ctx, tx, `id = $1`, p.ID, s); err != nil {
			return 0, err
		}
		if err := indexNames(ctx, tx, keys, p); err != nil {
			return 0, err
		}
	}
	return len(people), nil
}

func backfillTimeline(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, batch int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT case_id, seq, COALESCE(summary, ''), data FROM timeline
		WHERE summary_enc IS NULL ORDER BY case_id, seq LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
	if err != nil {
		return 0, err
	}
	type line struct {
		caseID  string
		seq     int64
		summary string
		data    []byte
	}
	var lines []line
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.caseID, &l.seq, &l.summary, &l.data); err != nil {
			rows.Close()
			return 0, err
		}
		lines = append(lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, l := range lines {
		summary, data, err := sealEvent(keys, l.summary, l.data)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE timeline SET summary_enc = $3, data_enc = $4, summary = NULL, data = NULL
			WHERE case_id = $1 AND seq = $2`, l.caseID, l.seq, summary, data); err != nil {
			return 0, err
		}
	}
	return len(lines), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
