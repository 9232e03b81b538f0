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

// UpsertParticipant inserts the person, keyed by personal number, and
// returns their ID. See RegisterParticipant.
func UpsertParticipant(ctx context.Context, tx pgx.Tx, p Participant) (uuid.UUID, error) {
	ref, err := RegisterParticipant(ctx, tx, p)
	return ref.ID, err
}

// ParticipantRef is who a referral named.
type ParticipantRef struct {
	ID uuid.UUID
	// Existing: the person was already registered; their details were kept.
	Existing bool
	// Differs: the referral's name, contact details or district differ from
	// those registered (a correction is a separate, audited action).
	Differs bool
}

// RegisterParticipant inserts the person, keyed by personal number. A person
// already registered keeps their name and contact details whoever refers
// them again; only a protected identity is added, never removed.
func RegisterParticipant(ctx context.Context, tx pgx.Tx, p Participant) (ParticipantRef, error) {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	var ref ParticipantRef
	err := tx.QueryRow(ctx, `INSERT INTO participants
		(id, personal_number, given_name, family_name, email, phone, district, birth_date, protected_identity)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (personal_number) DO UPDATE SET
			protected_identity = participants.protected_identity OR EXCLUDED.protected_identity
		RETURNING id, id <> $1,
			(given_name, family_name, email, phone, district) IS DISTINCT FROM ($3::text, $4::text, $5::text, $6::text, $7::text)`,
		p.ID, p.PersonalNumber, p.GivenName, p.FamilyName, p.Email, p.Phone, p.District, p.BirthDate, p.ProtectedIdentity).
		Scan(&ref.ID, &ref.Existing, &ref.Differs)
	return ref, err
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
