package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/report"
)

// ReportScope narrows the participants a report reads: one centre, or all
// (Centre ""), pathways that took part in [From, To).
type ReportScope struct {
	Centre   string
	From, To time.Time
}

// ReportParticipants reads the pathways that took part in the scope's
// period from the read model, with what the report and the monitor need:
// no names and no identity numbers, only groups, dates and the outcome.
// The way through the programme comes from the timeline's kinds and times
// (plain columns; the encrypted text is not read).
func ReportParticipants(ctx context.Context, db *pgxpool.Pool, s ReportScope) ([]report.Participant, error) {
	rows, err := db.Query(ctx, `
		SELECT pw.case_id, c.municipality, pw.centre_id, pa.district, pw.programme, pw.track, pa.gender, pa.birth_date,
			pw.referred_at, pw.closed_at, pw.closure_reason, pw.outcome, pw.need_id <> '',
			pw.first_contact_due, pw.mapping_due, tl.first_contact, tl.mapping, tl.plan, tl.step, tl.outcome
		FROM pathways pw
		JOIN participants pa ON pa.id = pw.participant_id
		JOIN centres c ON c.id = pw.centre_id
		LEFT JOIN LATERAL (SELECT
				min(at) FILTER (WHERE kind = 'first_contact') AS first_contact,
				min(at) FILTER (WHERE kind = 'mapping') AS mapping,
				min(at) FILTER (WHERE kind = 'plan') AS plan,
				min(at) FILTER (WHERE kind = 'step_started') AS step,
				min(at) FILTER (WHERE kind = 'outcome') AS outcome
			FROM timeline t WHERE t.case_id = pw.case_id) tl ON true
		WHERE ($1 = '' OR pw.centre_id = $1) AND pw.referred_at < $3 AND (pw.closed_at IS NULL OR pw.closed_at >= $2)
		ORDER BY pw.case_id`, s.Centre, s.From, s.To)
	if err != nil {
		return nil, fmt.Errorf("report participants: %w", err)
	}
	defer rows.Close()
	var out []report.Participant
	for rows.Next() {
		var p report.Participant
		var closed, fcDue, mapDue, fc, mapping, plan, step, outcomeAt *time.Time
		var outcome []byte
		if err := rows.Scan(&p.CaseID, &p.Municipality, &p.Centre, &p.District, &p.Programme, &p.Track, &p.Gender, &p.BirthDate,
			&p.StartedAt, &closed, &p.ClosureReason, &outcome, &p.PlanNeed,
			&fcDue, &mapDue, &fc, &mapping, &plan, &step, &outcomeAt); err != nil {
			return nil, err
		}
		p.EndedAt, p.FirstContactDue, p.MappingDue = val(closed), val(fcDue), val(mapDue)
		p.FirstContactAt, p.MappingAt, p.PlanAt, p.StepAt, p.OutcomeAt = val(fc), val(mapping), val(plan), val(step), val(outcomeAt)
		if len(outcome) > 0 {
			var o pathway.Outcome
			if err := json.Unmarshal(outcome, &o); err != nil {
				return nil, fmt.Errorf("report participants: case %s: outcome: %w", p.CaseID, err)
			}
			p.Outcome = &o
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func val(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// BackfillGender sets the gender of participants registered before it was
// kept, from their (encrypted) identity numbers, batch rows per
// transaction; it returns how many rows it set. A finished run is a no-op.
func BackfillGender(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	total := 0
	for {
		n, read := 0, 0
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+participantCols+` FROM participants pa
				WHERE pa.gender = '' AND (pa.personal_number_enc IS NOT NULL OR pa.personal_number IS NOT NULL)
				ORDER BY pa.id LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
			if err != nil {
				return err
			}
			type set struct {
				id     any
				gender string
			}
			var sets []set
			for rows.Next() {
				read++
				p, err := scanParticipant(rows, keys)
				if err != nil {
					rows.Close()
					return err
				}
				g := identity.Gender(p.PersonalNumber)
				if g == "" {
					continue // unreadable: stays unknown and is not asked again this run
				}
				sets = append(sets, set{p.ID, g})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, s := range sets {
				if _, err := tx.Exec(ctx, `UPDATE participants SET gender = $2 WHERE id = $1`, s.id, s.gender); err != nil {
					return err
				}
			}
			n = len(sets)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("backfill gender: %w", err)
		}
		total += n
		if read < batch || n == 0 {
			return total, nil
		}
	}
}
