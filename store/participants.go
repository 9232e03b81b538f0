package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
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

// The encrypted columns of participants. Each is sealed with its plain
// column's name as associated data, so a value cannot be moved to another
// column; the blind index is an HMAC under the same purpose.
const (
	colPersonalNumber = "participants.personal_number"
	colGivenName      = "participants.given_name"
	colFamilyName     = "participants.family_name"
	colEmail          = "participants.email"
	colPhone          = "participants.phone"
)

// PersonalNumberIndex is the blind index of a canonical personal number.
func PersonalNumberIndex(keys *keyring.Ring, canonical string) []byte {
	return keys.Index(colPersonalNumber, canonical)
}

// sealedIdentifiers are a participant's encrypted columns, in the order of
// identifierCols.
type sealedIdentifiers struct {
	index                               []byte
	number, given, family, email, phone []byte
}

func sealIdentifiers(keys *keyring.Ring, p Participant) (sealedIdentifiers, error) {
	if keys == nil {
		return sealedIdentifiers{}, errors.New("store: no keyring: personal data is never written unencrypted")
	}
	s := sealedIdentifiers{index: PersonalNumberIndex(keys, p.PersonalNumber)}
	var err error
	for _, f := range []struct {
		dst *[]byte
		v   string
		col string
	}{{&s.number, p.PersonalNumber, colPersonalNumber}, {&s.given, p.GivenName, colGivenName}, {&s.family, p.FamilyName, colFamilyName},
		{&s.email, p.Email, colEmail}, {&s.phone, p.Phone, colPhone}} {
		if *f.dst, err = keys.SealString(f.v, []byte(f.col)); err != nil {
			return s, err
		}
	}
	return s, nil
}

// UpsertParticipant inserts the person, keyed by the blind index of their
// personal number, and returns their ID. See RegisterParticipant.
func UpsertParticipant(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, p Participant) (uuid.UUID, error) {
	ref, err := RegisterParticipant(ctx, tx, keys, p)
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

// RegisterParticipant inserts the person, keyed by the blind index of their
// personal number; identifiers are written encrypted only. A person already
// registered keeps their name and contact details whoever refers them
// again; only a protected identity is added, never removed.
func RegisterParticipant(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, p Participant) (ParticipantRef, error) {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	s, err := sealIdentifiers(keys, p)
	if err != nil {
		return ParticipantRef{}, err
	}
	// A row written before encryption and not yet converted is the same
	// person: convert it now, so the insert below finds it by its index.
	if err := convertLegacyParticipant(ctx, tx, keys, p.PersonalNumber); err != nil {
		return ParticipantRef{}, err
	}
	var ref ParticipantRef
	err = tx.QueryRow(ctx, `INSERT INTO participants
		(id, personal_number_idx, personal_number_enc, given_name_enc, family_name_enc, email_enc, phone_enc,
		 district, birth_date, protected_identity)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (personal_number_idx) WHERE personal_number_idx IS NOT NULL DO UPDATE SET
			protected_identity = participants.protected_identity OR EXCLUDED.protected_identity
		RETURNING id, id <> $1`,
		p.ID, s.index, s.number, s.given, s.family, s.email, s.phone, p.District, p.BirthDate, p.ProtectedIdentity).Scan(&ref.ID, &ref.Existing)
	if err != nil {
		return ref, err
	}
	if !ref.Existing {
		return ref, indexNames(ctx, tx, keys, p)
	}
	// Ciphertexts differ each time: compare what they hold.
	cur, err := scanParticipant(tx.QueryRow(ctx, `SELECT `+participantCols+` FROM participants pa WHERE pa.id = $1`, ref.ID), keys)
	if err != nil {
		return ref, err
	}
	ref.Differs = cur.GivenName != p.GivenName || cur.FamilyName != p.FamilyName || cur.Email != p.Email ||
		cur.Phone != p.Phone || cur.District != p.District
	return ref, nil
}

// convertLegacyParticipant encrypts, with its own details, a row of this
// personal number written before encryption and not yet converted.
func convertLegacyParticipant(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, personalNumber string) error {
	old, err := scanParticipant(tx.QueryRow(ctx, `SELECT `+participantCols+` FROM participants pa
		WHERE pa.personal_number = $1 AND pa.personal_number_enc IS NULL FOR UPDATE`, personalNumber), keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	sealed, err := sealIdentifiers(keys, old)
	if err != nil {
		return err
	}
	if err := convertParticipant(ctx, tx, `id = $1`, old.ID, sealed); err != nil {
		return err
	}
	return indexNames(ctx, tx, keys, old)
}

// convertParticipant writes the sealed identifiers into the row(s) cond
// selects and clears the plain columns.
func convertParticipant(ctx context.Context, db execer, cond string, arg any, s sealedIdentifiers) error {
	_, err := db.Exec(ctx, `UPDATE participants SET personal_number_idx = $2, personal_number_enc = $3,
			given_name_enc = $4, family_name_enc = $5, email_enc = $6, phone_enc = $7,
			personal_number = NULL, given_name = NULL, family_name = NULL, email = '', phone = ''
		WHERE `+cond, arg, s.index, s.number, s.given, s.family, s.email, s.phone)
	return err
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// participantCols are read by scanParticipant; pa is the participants alias.
const participantCols = `pa.id, pa.personal_number_enc, pa.given_name_enc, pa.family_name_enc, pa.email_enc, pa.phone_enc,
	COALESCE(pa.personal_number, ''), COALESCE(pa.given_name, ''), COALESCE(pa.family_name, ''), pa.email, pa.phone,
	pa.district, pa.birth_date, pa.protected_identity`

// scanParticipant reads the encrypted columns, falling back to the plain
// ones for a row the backfill has not converted yet.
func scanParticipant(row pgx.Row, keys *keyring.Ring) (Participant, error) {
	var p Participant
	var enc [5][]byte
	err := row.Scan(&p.ID, &enc[0], &enc[1], &enc[2], &enc[3], &enc[4],
		&p.PersonalNumber, &p.GivenName, &p.FamilyName, &p.Email, &p.Phone, &p.District, &p.BirthDate, &p.ProtectedIdentity)
	if err != nil {
		return p, err
	}
	for i, f := range []struct {
		dst *string
		col string
	}{{&p.PersonalNumber, colPersonalNumber}, {&p.GivenName, colGivenName}, {&p.FamilyName, colFamilyName},
		{&p.Email, colEmail}, {&p.Phone, colPhone}} {
		if enc[i] == nil {
			continue
		}
		if keys == nil {
			return p, errors.New("store: no keyring to read personal data")
		}
		v, err := keys.OpenString(enc[i], []byte(f.col))
		if err != nil {
			return p, fmt.Errorf("participant %s: %s: %w", p.ID, f.col, err)
		}
		*f.dst = v
	}
	return p, nil
}

// GetParticipantByCase returns the person behind a case.
func GetParticipantByCase(ctx context.Context, db Querier, keys *keyring.Ring, caseID string) (Participant, error) {
	p, err := scanParticipant(db.QueryRow(ctx, `SELECT `+participantCols+`
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id WHERE pw.case_id = $1`, caseID), keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// GetParticipant returns one person by ID.
func GetParticipant(ctx context.Context, db Querier, keys *keyring.Ring, id uuid.UUID) (Participant, error) {
	p, err := scanParticipant(db.QueryRow(ctx, `SELECT `+participantCols+` FROM participants pa WHERE pa.id = $1`, id), keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// FindParticipant looks a person up by canonical personal number: by blind
// index, or by the plain column for a row not yet converted.
func FindParticipant(ctx context.Context, db Querier, keys *keyring.Ring, canonical string) (Participant, error) {
	p, err := scanParticipant(db.QueryRow(ctx, `SELECT `+participantCols+` FROM participants pa
		WHERE pa.personal_number_idx = $1 OR (pa.personal_number_enc IS NULL AND pa.personal_number = $2)`,
		PersonalNumberIndex(keys, canonical), canonical), keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// Rectification is a correction of a person's name and contact details
// (GDPR art. 16); nil fields stay as they are.
type Rectification struct {
	GivenName  *string `json:"given_name,omitempty"`
	FamilyName *string `json:"family_name,omitempty"`
	Email      *string `json:"email,omitempty"`
	Phone      *string `json:"phone,omitempty"`
}

// RectifyParticipant applies r and returns the names of the fields whose
// value changed (never the values, which are personal data).
func RectifyParticipant(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, id uuid.UUID, r Rectification) ([]string, error) {
	var changed []string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		p, err := scanParticipant(tx.QueryRow(ctx, `SELECT `+participantCols+` FROM participants pa WHERE pa.id = $1 FOR UPDATE`, id), keys)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			dst  *string
			v    *string
		}{{"given_name", &p.GivenName, r.GivenName}, {"family_name", &p.FamilyName, r.FamilyName},
			{"email", &p.Email, r.Email}, {"phone", &p.Phone, r.Phone}} {
			if f.v != nil && *f.v != *f.dst {
				*f.dst = *f.v
				changed = append(changed, f.name)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		s, err := sealIdentifiers(keys, p)
		if err != nil {
			return err
		}
		if err := convertParticipant(ctx, tx, `id = $1`, id, s); err != nil {
			return err
		}
		if err := indexNames(ctx, tx, keys, p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE participants SET updated_at = now() WHERE id = $1`, id)
		return err
	})
	return changed, err
}
