package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Participant is a person in a programme. Every field but ID and CentreID
// is personal data: the API audits each read.
type Participant struct {
	ID                uuid.UUID `json:"id"`
	PersonalNumber    string    `json:"personal_number"`
	GivenName         string    `json:"given_name"`
	FamilyName        string    `json:"family_name"`
	Email             string    `json:"email"`
	Phone             string    `json:"phone"`
	District          string    `json:"district"`
	BirthDate         time.Time `json:"birth_date"`
	ProtectedIdentity bool      `json:"protected_identity"`
}

// UpsertParticipant inserts the person or refreshes their contact details,
// keyed by personal number, and returns their ID.
func UpsertParticipant(ctx context.Context, tx pgx.Tx, p Participant) (uuid.UUID, error) {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO participants
		(id, personal_number, given_name, family_name, email, phone, district, birth_date, protected_identity)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (personal_number) DO UPDATE SET
			given_name = EXCLUDED.given_name, family_name = EXCLUDED.family_name,
			email = EXCLUDED.email, phone = EXCLUDED.phone, district = EXCLUDED.district,
			protected_identity = participants.protected_identity OR EXCLUDED.protected_identity,
			updated_at = now()
		RETURNING id`,
		p.ID, p.PersonalNumber, p.GivenName, p.FamilyName, p.Email, p.Phone, p.District, p.BirthDate, p.ProtectedIdentity).Scan(&id)
	return id, err
}

// GetParticipantByCase returns the person behind a case.
func GetParticipantByCase(ctx context.Context, db Querier, caseID string) (Participant, error) {
	var p Participant
	err := db.QueryRow(ctx, `SELECT pa.id, pa.personal_number, pa.given_name, pa.family_name, pa.email, pa.phone,
			pa.district, pa.birth_date, pa.protected_identity
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id WHERE pw.case_id = $1`, caseID).
		Scan(&p.ID, &p.PersonalNumber, &p.GivenName, &p.FamilyName, &p.Email, &p.Phone, &p.District, &p.BirthDate, &p.ProtectedIdentity)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}
