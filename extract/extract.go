// Package extract produces a register extract (GDPR art. 15: everything
// pathways holds about one person) and applies rectifications (art. 16:
// corrected name and contact details). The CLI, the API and the console all
// go through it, so every extract and every correction is audited the same
// way, and the audit row never holds the person's data.
package extract

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/store"
)

// Audit actions of this package.
const (
	AuditExtract = "register_extract"      // detail: via, found, pathways
	AuditRectify = "rectify_personal_data" // detail: via, fields (names only)
)

// Roles may request extracts and rectify: team leads for people known at
// their centre, administrators for everyone. Protected identities only for
// staff assigned to one of the person's pathways.
var Roles = []string{store.RoleTeamLead, store.RoleAdministrator}

// Errors a caller maps to its own answer.
var (
	ErrNotFound  = errors.New("no participant with that personal identity number")
	ErrForbidden = errors.New("your role or centre does not allow a register extract of this person")
)

// Service reads and corrects what is held about people.
type Service struct {
	Pool *pgxpool.Pool
	Keys *keyring.Ring
	Now  func() time.Time
}

// Requester is who asks, and through which channel, for the audit row.
type Requester struct {
	Staff     store.Staff
	Via       string // cli, api, console
	RequestID string
}

// Extract is everything pathways holds about one person.
type Extract struct {
	GeneratedAt time.Time         `json:"generated_at"`
	GeneratedBy string            `json:"generated_by"`
	Participant store.Participant `json:"participant"`
	Consents    []store.Consent   `json:"consents"`
	Pathways    []Pathway         `json:"pathways"`
	// Audit is the log of every access to and change of this person's data,
	// this extract's own row included.
	Audit []store.AuditEntry `json:"audit"`
	// Disclosures is what outside systems were told, as the timeline records.
	Disclosures []Disclosure `json:"disclosures"`
}

// Pathway is one case of the person, with everything recorded on it.
type Pathway struct {
	store.PathwayRow
	Timeline      []store.TimelineEntry `json:"timeline"`
	Tasks         []store.TaskRow       `json:"tasks"`
	Escalations   []store.EscalationRow `json:"escalations"`
	Notifications []store.Notification  `json:"staff_notifications"`
	Mail          []store.OutboxMail    `json:"staff_mail"`
}

// Disclosure is one message to an outside system about the person.
type Disclosure struct {
	At     time.Time `json:"at"`
	CaseID string    `json:"case_id"`
	System string    `json:"system"`
	Event  string    `json:"event"`
	Data   string    `json:"data"`
}

// Allowed applies the role, centre and protected-identity rules to a person
// with the given pathways.
func Allowed(st store.Staff, pathways []store.PathwayRow, protected bool) error {
	if !st.HasRole(Roles...) {
		return ErrForbidden
	}
	centre, assigned := st.SeesAllCentres(), false
	for _, p := range pathways {
		centre = centre || p.CentreID == st.CentreID
		assigned = assigned || p.Assignee == st.ID
	}
	if !centre || (protected && !assigned) {
		return ErrForbidden
	}
	return nil
}

// find resolves a personal number to the person and their pathways, and
// checks access. Nothing is returned to the caller before the audit.
func (s *Service) find(ctx context.Context, who Requester, personalNumber string) (store.Participant, []store.PathwayRow, error) {
	num, err := identity.Parse(personalNumber, s.now())
	if err != nil {
		return store.Participant{}, nil, &FieldError{"personal_number", err.Error()}
	}
	p, err := store.FindParticipant(ctx, s.Pool, s.Keys, num.Canonical)
	if errors.Is(err, store.ErrNotFound) {
		// A search that finds no one is audited too: it reveals that.
		if aerr := s.audit(ctx, who, AuditExtract, nil, map[string]any{"found": false}); aerr != nil {
			return p, nil, aerr
		}
		return p, nil, ErrNotFound
	}
	if err != nil {
		return p, nil, err
	}
	pws, err := store.PathwaysOf(ctx, s.Pool, p.ID)
	if err != nil {
		return p, nil, err
	}
	if err := Allowed(who.Staff, pws, p.ProtectedIdentity); err != nil {
		if aerr := s.audit(ctx, who, store.AuditDenied, &p.ID, map[string]any{"reason": "register_extract"}); aerr != nil {
			return p, nil, aerr
		}
		return p, nil, err
	}
	return p, pws, nil
}

// Build audits the request, then gathers the extract. No audit row, no data.
func (s *Service) Build(ctx context.Context, who Requester, personalNumber string) (*Extract, error) {
	p, pws, err := s.find(ctx, who, personalNumber)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, who, AuditExtract, &p.ID, map[string]any{"found": true, "pathways": len(pws)}); err != nil {
		return nil, err
	}
	x := &Extract{GeneratedAt: s.now().UTC(), GeneratedBy: who.Staff.ID, Participant: p, Pathways: []Pathway{},
		Disclosures: []Disclosure{}}
	if x.Consents, err = store.Consents(ctx, s.Pool, p.ID); err != nil {
		return nil, err
	}
	audit, err := store.ListAudit(ctx, s.Pool, store.AuditFilter{ParticipantID: &p.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, a := range audit {
		seen[a.ID] = true
	}
	for _, row := range pws {
		pw := Pathway{PathwayRow: row}
		if pw.Timeline, err = store.Timeline(ctx, s.Pool, s.Keys, row.CaseID); err != nil {
			return nil, err
		}
		tasks, err := store.ListTasks(ctx, s.Pool, store.TaskFilter{CaseID: row.CaseID, Limit: 500})
		if err != nil {
			return nil, err
		}
		pw.Tasks = tasks.Items
		if pw.Escalations, err = store.EscalationsOf(ctx, s.Pool, row.CaseID); err != nil {
			return nil, err
		}
		notes, err := store.ListNotifications(ctx, s.Pool, store.NotificationFilter{CaseID: row.CaseID, Limit: 500})
		if err != nil {
			return nil, err
		}
		pw.Notifications = notes.Items
		if pw.Mail, err = store.MailAbout(ctx, s.Pool, row.CaseID); err != nil {
			return nil, err
		}
		// Rows about the case that do not name the participant (actions).
		caseAudit, err := store.ListAudit(ctx, s.Pool, store.AuditFilter{CaseID: row.CaseID, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, a := range caseAudit {
			if !seen[a.ID] {
				seen[a.ID] = true
				audit = append(audit, a)
			}
		}
		x.Disclosures = append(x.Disclosures, disclosures(row.CaseID, pw.Timeline)...)
		x.Pathways = append(x.Pathways, pw)
	}
	sort.Slice(audit, func(i, j int) bool { return audit[i].ID < audit[j].ID })
	x.Audit = audit
	return x, nil
}

// disclosures lists what the timeline shows went to outside systems. The
// adapters send the personal identity number with every message; steps that
// enrol or place the person send name and e-mail as well.
func disclosures(caseID string, tl []store.TimelineEntry) []Disclosure {
	var out []Disclosure
	add := func(e store.TimelineEntry, system, data string) {
		out = append(out, Disclosure{At: e.At, CaseID: caseID, System: system, Event: e.Kind, Data: data})
	}
	for _, e := range tl {
		switch e.Kind {
		case "step_started":
			add(e, "the step's provider (education, employer or employment service)", "case ID, personal identity number, name, e-mail; the step: "+e.Summary)
		case "step_ended":
			add(e, "the step's provider (education, employer or employment service)", "case ID, personal identity number; withdrawal or end of the step when cut short: "+e.Summary)
		case "outcome":
			add(e, "social services", "case ID, personal identity number, outcome")
			add(e, "employment service (only with the person's consent to outcome reports)", "case ID, personal identity number, outcome, start date, occupation")
		case "closed":
			add(e, "social services", "case ID, personal identity number, closure reason")
		}
	}
	return out
}

// Rectify corrects name and contact details of the person behind
// personalNumber (art. 16), audited with the names of the changed fields;
// old and new values never reach the audit log.
func (s *Service) Rectify(ctx context.Context, who Requester, personalNumber string, r store.Rectification) ([]string, error) {
	r, err := normalize(r)
	if err != nil {
		return nil, err
	}
	p, _, err := s.find(ctx, who, personalNumber)
	if err != nil {
		return nil, err
	}
	return s.rectify(ctx, who, p.ID, r)
}

// RectifyByID is Rectify for a participant already found (the console's form).
func (s *Service) RectifyByID(ctx context.Context, who Requester, id uuid.UUID, r store.Rectification) ([]string, error) {
	r, err := normalize(r)
	if err != nil {
		return nil, err
	}
	p, err := store.GetParticipant(ctx, s.Pool, s.Keys, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	pws, err := store.PathwaysOf(ctx, s.Pool, id)
	if err != nil {
		return nil, err
	}
	if err := Allowed(who.Staff, pws, p.ProtectedIdentity); err != nil {
		if aerr := s.audit(ctx, who, store.AuditDenied, &id, map[string]any{"reason": "rectify"}); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	return s.rectify(ctx, who, id, r)
}

func (s *Service) rectify(ctx context.Context, who Requester, id uuid.UUID, r store.Rectification) ([]string, error) {
	changed, err := store.RectifyParticipant(ctx, s.Pool, s.Keys, id, r)
	if err != nil {
		return nil, err
	}
	if changed == nil {
		changed = []string{}
	}
	// The change is made; a failed audit write is reported, never hidden.
	if err := s.audit(ctx, who, AuditRectify, &id, map[string]any{"fields": changed}); err != nil {
		return changed, fmt.Errorf("corrected %v, but the audit row could not be written: %w", changed, err)
	}
	return changed, nil
}

// FieldError names a rejected rectification field; it never repeats the value.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// normalize trims the given fields and checks them.
func normalize(r store.Rectification) (store.Rectification, error) {
	for _, f := range []struct {
		name     string
		v        **string
		required bool
	}{{"given_name", &r.GivenName, true}, {"family_name", &r.FamilyName, true}, {"email", &r.Email, false}, {"phone", &r.Phone, false}} {
		if *f.v == nil {
			continue
		}
		v := strings.TrimSpace(**f.v)
		*f.v = &v
		switch {
		case f.required && v == "":
			return r, &FieldError{f.name, "must not be empty"}
		case len(v) > 200:
			return r, &FieldError{f.name, "is longer than 200 characters"}
		case f.name == "email" && v != "" && !strings.Contains(v, "@"):
			return r, &FieldError{f.name, "is not an e-mail address"}
		}
	}
	return r, nil
}

func (s *Service) audit(ctx context.Context, who Requester, action string, pid *uuid.UUID, detail map[string]any) error {
	d := map[string]any{"via": who.Via}
	for k, v := range detail {
		d[k] = v
	}
	return store.WriteAudit(ctx, s.Pool, store.AuditEntry{StaffID: who.Staff.ID, Action: action, ParticipantID: pid, Detail: d, RequestID: who.RequestID})
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
