package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
)

// ErrActivePathway means the participant already has an active pathway.
var ErrActivePathway = errors.New("the participant already has an active pathway")

// NewPathway is the registry row written when a pathway starts.
type NewPathway struct {
	CaseID           string
	ParticipantID    uuid.UUID
	CentreID         string
	Programme        string
	ProgrammeVersion int
	Track            string
	ActivityDuty     bool
	ReferralSource   string
	ReferredAt       time.Time
	Assignee         string
	// StartPending is the workflow start this row waits for (see PendingStarts).
	StartPending json.RawMessage
}

// InsertPathway writes the row; the partial unique index turns a second
// active pathway for the same person into ErrActivePathway.
func InsertPathway(ctx context.Context, tx pgx.Tx, p NewPathway) error {
	_, err := tx.Exec(ctx, `INSERT INTO pathways
		(case_id, participant_id, centre_id, workflow_id, programme, programme_version, track, activity_duty,
		 phase, referral_source, referred_at, assignee, start_pending)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		p.CaseID, p.ParticipantID, p.CentreID, pathway.WorkflowID(p.CaseID), p.Programme, p.ProgrammeVersion,
		p.Track, p.ActivityDuty, pathway.PhaseReferral, p.ReferralSource, p.ReferredAt, p.Assignee, nullJSON(p.StartPending))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "pathways_one_active" {
		return ErrActivePathway
	}
	return err
}

// Projection and TimelineEvent are the workflow's contract types: the
// workflow builds them without importing the store.
type (
	Projection    = pathway.Projection
	TimelineEvent = pathway.TimelineEvent
)

// ApplyProjection writes a change in one transaction and one round trip. It is idempotent: the
// timeline keys on (case, seq), tasks on their key, and the row only moves
// forward.
func ApplyProjection(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, p Projection) error {
	var summary, data []byte
	if e := p.Event; e != nil {
		var err error
		if summary, data, err = sealEvent(keys, e.Summary, e.Data); err != nil {
			return err
		}
	}
	// One batch, one round trip: PostgreSQL runs a batch's statements in
	// one implicit transaction, so the change lands whole or not at all.
	// A staff action waits for this write.
	var b pgx.Batch
	s := p.Status
	var outcome []byte
	if s.Outcome != nil {
		o, err := json.Marshal(withoutNotes(*s.Outcome))
		if err != nil {
			return err
		}
		outcome = o
	}
	status := "active"
	var closedAt *time.Time
	if s.Phase == pathway.PhaseClosed {
		status = "closed"
		closedAt = &p.At
	}
	// The row moves only forward: an older change arriving late updates
	// nothing. Timeline and tasks still apply, since concurrent handlers
	// each carry their own. The same sequence number applies again: the
	// projection Temporal recorded owns its number and replaces what a
	// worker killed before its workflow task completed wrote under it
	// (a local activity's write the history never kept).
	b.Queue(`UPDATE pathways SET
				phase = $3, current_step = $4, centre_id = $5, first_contact_due = $6, mapping_due = $7,
				time_limit_at = $8, days_left = $9, paused = $10, closure_reason = $11, outcome = $12,
				status = $13, closed_at = COALESCE(closed_at, $14),
				last_progress_at = CASE WHEN $15 THEN $16 ELSE last_progress_at END,
				step_end_at = $17, need_id = $18, projection_seq = $2, updated_at = now()
			WHERE case_id = $1 AND projection_seq <= $2`,
		p.CaseID, p.Seq, s.Phase, s.CurrentStep, s.CentreID, nullTime(s.Deadlines.FirstContact),
		nullTime(s.Deadlines.Mapping), nullTime(s.Deadlines.TimeLimit), s.DaysLeft, s.Paused,
		s.ClosureReason, outcome, status, closedAt, p.Progress, p.At, nullTime(s.Deadlines.StepEnd), s.NeedID)
	if e := p.Event; e != nil {
		b.Queue(`INSERT INTO timeline (case_id, seq, at, kind, actor, summary_enc, data_enc)
				VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (case_id, seq) DO UPDATE
				SET at = EXCLUDED.at, kind = EXCLUDED.kind, actor = EXCLUDED.actor,
					summary_enc = EXCLUDED.summary_enc, data_enc = EXCLUDED.data_enc, summary = DEFAULT, data = DEFAULT`,
			p.CaseID, p.Seq, p.At, e.Kind, e.Actor, summary, data)
	} else {
		// A lost write may have put a line under a number whose recorded change has none.
		b.Queue(`DELETE FROM timeline WHERE case_id = $1 AND seq = $2`, p.CaseID, p.Seq)
	}
	// Tasks follow their own sequence: a change applies only when it is
	// newer than the last one that touched the task, so a late, older
	// open never reopens a task a newer projection closed. A key that
	// comes back newer (the same stall recurring after calming) reopens.
	for _, t := range p.OpenTasks {
		b.Queue(`INSERT INTO tasks (task_key, case_id, kind, title, role, due_at, created_at, seq)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (task_key) DO UPDATE
				SET status = CASE WHEN tasks.seq < EXCLUDED.seq THEN 'open' ELSE tasks.status END,
					closed_at = CASE WHEN tasks.seq < EXCLUDED.seq THEN NULL ELSE tasks.closed_at END,
					seq = GREATEST(tasks.seq, EXCLUDED.seq),
					kind = EXCLUDED.kind, title = EXCLUDED.title, role = EXCLUDED.role, due_at = EXCLUDED.due_at,
					created_at = CASE WHEN tasks.status = 'open' AND tasks.kind <> '' THEN tasks.created_at ELSE EXCLUDED.created_at END
				WHERE tasks.case_id = EXCLUDED.case_id AND (tasks.seq < EXCLUDED.seq OR tasks.kind = '')`,
			t.Key, p.CaseID, t.Kind, t.Title, t.Role, nullTime(t.Due), p.At, p.Seq)
	}
	// A close that arrives before its open leaves a closed placeholder
	// (kind ''), which the late open fills in without reopening.
	for _, key := range p.CloseTasks {
		b.Queue(`INSERT INTO tasks (task_key, case_id, kind, title, status, created_at, closed_at, seq)
				VALUES ($1,$2,'','','done',$3,$3,$4) ON CONFLICT (task_key) DO UPDATE
				SET status = CASE WHEN tasks.status = 'open' THEN 'done' ELSE tasks.status END,
					closed_at = COALESCE(tasks.closed_at, EXCLUDED.closed_at), seq = EXCLUDED.seq
				WHERE tasks.case_id = EXCLUDED.case_id AND tasks.seq <= EXCLUDED.seq`,
			key, p.CaseID, p.At, p.Seq)
	}
	// Tasks a lost write put under this number that the recorded change
	// does not name: it started from the same state, so what it opened
	// was not open and what it closed still is.
	named := make([]string, 0, len(p.OpenTasks)+len(p.CloseTasks))
	for _, t := range p.OpenTasks {
		named = append(named, t.Key)
	}
	named = append(named, p.CloseTasks...)
	b.Queue(repairLostPlaceholders, p.CaseID, p.Seq, named)
	b.Queue(repairLostTaskChanges, p.CaseID, p.Seq, named, p.At)
	if err := pool.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("project pathway %s change %d: %w", p.CaseID, p.Seq, err)
	}
	return nil
}

// The repairs of a lost write run with every projection: both read the
// case's tasks at one sequence number through tasks_case_seq
// (TestPerChangeStatementsUseIndexes).
const (
	repairLostPlaceholders = `DELETE FROM tasks WHERE case_id = $1 AND seq = $2 AND kind = '' AND NOT (task_key = ANY($3))`
	repairLostTaskChanges  = `UPDATE tasks SET
				status = CASE WHEN status = 'open' THEN 'cancelled' ELSE 'open' END,
				closed_at = CASE WHEN status = 'open' THEN $4::timestamptz END
			WHERE case_id = $1 AND seq = $2 AND status IN ('open', 'done') AND NOT (task_key = ANY($3))`
)

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// withoutNotes drops the follow-up notes (staff free text) from an outcome
// for the plain pathways row; the follow_up timeline line keeps each note,
// encrypted.
func withoutNotes(o pathway.Outcome) pathway.Outcome {
	o.FollowUps = append([]pathway.FollowUp(nil), o.FollowUps...)
	for i := range o.FollowUps {
		o.FollowUps[i].Note = ""
	}
	return o
}

// nullJSON writes an empty document as NULL.
func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}
