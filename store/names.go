package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/unicode/norm"

	"github.com/pathways-se/pathways/keyring"
)

// Names are encrypted at rest, so search by name goes through a blind index
// of name-word prefixes (participant_name_tokens, migration 00130): an HMAC
// under the keyring's index key of every prefix of two characters or more of
// each word of the given and family name. A search hashes its words the
// same way and confirms the candidates by decrypting them.

const (
	colNamePrefix = "participants.name_prefix"
	// MinNameSearch is the shortest word a name search takes.
	MinNameSearch = 2
	// maxPrefix bounds the prefixes indexed per word (longer words match by
	// their first maxPrefix characters).
	maxPrefix = 32
)

// nameWords splits a name or a search into lower-case words.
func nameWords(s string) []string {
	s = strings.ToLower(norm.NFC.String(s))
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func truncRunes(w string, n int) string {
	r := []rune(w)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// NameTokens are the blind-index tokens of a person's names, distinct
// (exported for bulk loads such as the caseload benchmark).
func NameTokens(keys *keyring.Ring, names ...string) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, n := range names {
		for _, w := range nameWords(n) {
			r := []rune(truncRunes(w, maxPrefix))
			for i := MinNameSearch; i <= len(r); i++ {
				p := string(r[:i])
				if !seen[p] {
					seen[p] = true
					out = append(out, keys.Index(colNamePrefix, p))
				}
			}
		}
	}
	return out
}

// ErrNameSearch is a name search too short to look up.
var ErrNameSearch = fmt.Errorf("each word of a name search needs at least %d letters", MinNameSearch)

// NameSearchTokens are the tokens a name search looks up: one per distinct
// word; a person matches when every word begins one of their names.
func NameSearchTokens(keys *keyring.Ring, query string) ([][]byte, error) {
	words := nameWords(query)
	if len(words) == 0 {
		return nil, ErrNameSearch
	}
	seen := map[string]bool{}
	var out [][]byte
	for _, w := range words {
		if len([]rune(w)) < MinNameSearch {
			return nil, ErrNameSearch
		}
		w = truncRunes(w, maxPrefix)
		if !seen[w] {
			seen[w] = true
			out = append(out, keys.Index(colNamePrefix, w))
		}
	}
	return out, nil
}

// NameMatches confirms a candidate: every word of the search begins a word
// of the given or family name.
func NameMatches(given, family, query string) bool {
	names := nameWords(given + " " + family)
	for _, q := range nameWords(query) {
		q = truncRunes(q, maxPrefix)
		ok := false
		for _, n := range names {
			if strings.HasPrefix(n, q) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// indexNames replaces a person's name tokens and marks the row indexed.
func indexNames(ctx context.Context, db execer, keys *keyring.Ring, p Participant) error {
	if keys == nil {
		return errors.New("store: no keyring to index names")
	}
	if _, err := db.Exec(ctx, `DELETE FROM participant_name_tokens WHERE participant_id = $1`, p.ID); err != nil {
		return err
	}
	if toks := NameTokens(keys, p.GivenName, p.FamilyName); len(toks) > 0 {
		if _, err := db.Exec(ctx, `INSERT INTO participant_name_tokens (token, participant_id)
			SELECT t, $2 FROM unnest($1::bytea[]) t ON CONFLICT DO NOTHING`, toks, p.ID); err != nil {
			return err
		}
	}
	_, err := db.Exec(ctx, `UPDATE participants SET names_indexed = true WHERE id = $1`, p.ID)
	return err
}

// nameTokenCondition selects pathways p whose person has every token: the
// pathway filter's name search.
func nameTokenCondition(ph string, n int) string {
	return fmt.Sprintf(`p.participant_id IN (SELECT participant_id FROM participant_name_tokens WHERE token = ANY(%s)
		GROUP BY participant_id HAVING count(*) = %d)`, ph, n)
}

// backfillNames indexes the names of people encrypted before the index
// existed (or whose row was converted by an older release).
func backfillNames(ctx context.Context, tx pgx.Tx, keys *keyring.Ring, batch int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT `+participantCols+` FROM participants pa
		WHERE NOT pa.names_indexed AND pa.personal_number_enc IS NOT NULL ORDER BY pa.id LIMIT $1 FOR UPDATE SKIP LOCKED`, batch)
	if err != nil {
		return 0, err
	}
	var people []Participant
	for rows.Next() {
		p, err := scanParticipant(rows, keys)
		if err != nil {
			rows.Close()
			return 0, err
		}
		people = append(people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, p := range people {
		if err := indexNames(ctx, tx, keys, p); err != nil {
			return 0, err
		}
	}
	return len(people), nil
}

// CaseName is the name a list shows for a case's participant.
type CaseName struct {
	GivenName, FamilyName string
	// Protected: the person has a protected identity; lists show a
	// neutral label unless the viewer is the case's assignee.
	Protected bool
	Assignee  string
}

// Hidden reports whether a viewer other than the assignee must see the
// neutral label instead of the name.
func (n CaseName) Hidden(staffID string) bool { return n.Protected && n.Assignee != staffID }

// CaseNames decrypts the names of the participants of caseIDs (a page of a
// list). The caller audits before showing them.
func CaseNames(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, caseIDs []string) (map[string]CaseName, error) {
	out := map[string]CaseName{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	rows, err := pool.Query(ctx, `SELECT pw.case_id, pw.assignee, `+participantCols+`
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id WHERE pw.case_id = ANY($1)`, caseIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var caseID, assignee string
		p, err := scanParticipant(prefixed{rows, []any{&caseID, &assignee}}, keys)
		if err != nil {
			return nil, err
		}
		out[caseID] = CaseName{GivenName: p.GivenName, FamilyName: p.FamilyName, Protected: p.ProtectedIdentity, Assignee: assignee}
	}
	return out, rows.Err()
}

// prefixed scans leading columns into dst before the row's own.
type prefixed struct {
	rows pgx.Rows
	dst  []any
}

func (p prefixed) Scan(dest ...any) error { return p.rows.Scan(append(p.dst, dest...)...) }

// CaseRef is who a case is about, without decrypting anything.
type CaseRef struct {
	ParticipantID uuid.UUID
	Protected     bool
	Assignee      string
}

// CaseRefs returns the participant of each of caseIDs: a list audits the
// names it will show with these before decrypting them.
func CaseRefs(ctx context.Context, pool *pgxpool.Pool, caseIDs []string) (map[string]CaseRef, error) {
	out := map[string]CaseRef{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	rows, err := pool.Query(ctx, `SELECT pw.case_id, pw.participant_id, pa.protected_identity, pw.assignee
		FROM pathways pw JOIN participants pa ON pa.id = pw.participant_id WHERE pw.case_id = ANY($1)`, caseIDs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c CaseRef
		if err := rows.Scan(&id, &c.ParticipantID, &c.Protected, &c.Assignee); err != nil {
			return nil, err
		}
		out[id] = c
	}
	return out, rows.Err()
}

// ParticipantIDByNumber finds a person by canonical personal number through
// the blind index (or the plain column of a row not yet converted) without
// decrypting anything; ErrNotFound when nobody has it.
func ParticipantIDByNumber(ctx context.Context, db Querier, keys *keyring.Ring, canonical string) (uuid.UUID, error) {
	var id uuid.UUID
	err := db.QueryRow(ctx, `SELECT id FROM participants
		WHERE personal_number_idx = $1 OR (personal_number_enc IS NULL AND personal_number = $2) LIMIT 1`,
		PersonalNumberIndex(keys, canonical), canonical).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, ErrNotFound
	}
	return id, err
}

// WriteAuditRows appends several rows in one transaction: all or none.
func WriteAuditRows(ctx context.Context, pool *pgxpool.Pool, es []AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	// One round trip: a list page's rows go as one batch in one transaction.
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, e := range es {
			var detail []byte
			if len(e.Detail) > 0 {
				var err error
				if detail, err = json.Marshal(e.Detail); err != nil {
					return err
				}
			}
			b.Queue(`INSERT INTO audit_log (staff_id, action, case_id, participant_id, detail, request_id)
				VALUES ($1,$2,$3,$4,$5,$6)`, e.StaffID, e.Action, e.CaseID, e.ParticipantID, detail, e.RequestID)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
