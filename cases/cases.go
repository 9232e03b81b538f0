// Package cases starts pathways: it validates a referral, writes the
// participant, the case, the consent and the audit row to the registry in one
// transaction, then starts the workflow, so the API, the console, the starter
// CLI and the CSV import all start pathways the same way.
//
// The row comes first and carries the start request until the workflow is
// known to run; Reconcile starts whatever a crash left pending. The workflow
// ID is pathway-<case> and a repeated start is a no-op, so the registry and
// Temporal never disagree for longer than the reconciler's grace period.
package cases

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/pathways-se/pathways/identity"
	"github.com/pathways-se/pathways/internal/plaintext"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/pathway"
	"github.com/pathways-se/pathways/programmes"
	"github.com/pathways-se/pathways/store"
)

// Service starts pathways.
type Service struct {
	Pool          *pgxpool.Pool
	Temporal      client.Client
	TaskQueue     string
	Programmes    *programmes.Catalog
	SecondsPerDay float64
	Now           func() time.Time
	Keys          *keyring.Ring // encrypts the participant's identifiers
	// Hooks run at each point of a start; tests use them to kill a server there.
	Hooks Hooks
}

// Hooks are called, when set, at the points of a start where a crash matters.
// An error stops the start there, as a crash would.
type Hooks struct {
	BeforeRow     func(ctx context.Context, caseID string) error // validated, nothing written
	AfterRow      func(ctx context.Context, caseID string) error // row committed, workflow not started
	AfterWorkflow func(ctx context.Context, caseID string) error // workflow started, row not yet confirmed
}

func hook(ctx context.Context, h func(context.Context, string) error, caseID string) error {
	if h == nil {
		return nil
	}
	return h(ctx, caseID)
}

// Referral is a request to start a pathway for a person.
type Referral struct {
	PersonalNumber    string    `json:"personal_number"`
	GivenName         string    `json:"given_name"`
	FamilyName        string    `json:"family_name"`
	Email             string    `json:"email,omitempty"`
	Phone             string    `json:"phone,omitempty"`
	District          string    `json:"district"`
	CentreID          string    `json:"centre_id,omitempty"` // empty: routed by district and age
	Programme         string    `json:"programme,omitempty"` // empty: chosen by age
	Source            string    `json:"source"`
	ReferredAt        time.Time `json:"referred_at,omitempty"`
	Consent           bool      `json:"consent"`
	ProtectedIdentity bool      `json:"protected_identity,omitempty"`
	Assignee          string    `json:"assignee,omitempty"`
	// ConsentScope is what the registered consent covers (default DefaultConsentScope).
	ConsentScope []string `json:"consent_scope,omitempty"`

	// Who starts it and through which door, for the consent and audit rows.
	StaffID   string `json:"-"`
	Via       string `json:"-"` // api, console, cli or import
	RequestID string `json:"-"`
}

// DefaultConsentScope is what a referral's consent covers unless told otherwise.
var DefaultConsentScope = []string{"programme", "employment_service", "education"}

// FieldError is a refusal tied to one input field. Its message never
// repeats the value, which may be personal data.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ErrUnavailable: the registry could not be read while validating, so
// nothing was written and the same referral may be sent again.
var ErrUnavailable = errors.New("the case registry could not be reached; nothing was written; send the referral again")

// ErrDuplicate refuses a second active pathway for a person.
var ErrDuplicate = &FieldError{Field: "personal_number", Code: "duplicate_active_pathway", Message: store.ErrActivePathway.Error()}

// Started is the new case.
type Started struct {
	CaseID     string `json:"case_id"`
	WorkflowID string `json:"workflow_id"`
	CentreID   string `json:"centre_id"`
	Programme  string `json:"programme"`
	Track      string `json:"track"`
	// Pending: the case is registered but its workflow did not answer yet;
	// the worker's reconciler starts it.
	Pending bool `json:"pending,omitempty"`
}

// ErrUnconfirmed means the registry did not confirm the write (the database
// went away during the commit): the case may or may not exist. Starting the
// same person again is safe: it is never started twice.
var ErrUnconfirmed = errors.New("the registry did not confirm the start; the case may exist: look the person up, or start again (a person is never started twice)")

// startRequest is what a pending row holds: enough to start its workflow
// exactly as the first attempt would have. It holds case IDs, no personal data.
type startRequest struct {
	TaskQueue string        `json:"task_queue"`
	Input     pathway.Start `json:"input"`
}

const maxField = 200

// Validate checks a referral without writing anything. It returns every
// field error, not just the first.
func (s *Service) Validate(ctx context.Context, r *Referral) (identity.Number, []*FieldError) {
	var errs []*FieldError
	bad := func(field, code, msg string) {
		errs = append(errs, &FieldError{Field: field, Code: code, Message: msg})
	}
	num, err := identity.Parse(r.PersonalNumber, s.now())
	if err != nil {
		bad("personal_number", "invalid", err.Error())
	}
	for _, f := range []struct{ name, v string }{{"given_name", r.GivenName}, {"family_name", r.FamilyName}, {"district", r.District}} {
		if strings.TrimSpace(f.v) == "" {
			bad(f.name, "required", "is required")
		}
	}
	for _, f := range []struct{ name, v string }{{"given_name", r.GivenName}, {"family_name", r.FamilyName}, {"district", r.District}, {"email", r.Email}, {"phone", r.Phone}, {"assignee", r.Assignee}, {"centre_id", r.CentreID}, {"programme", r.Programme}} {
		if len(f.v) > maxField {
			bad(f.name, "too_long", fmt.Sprintf("is longer than %d characters", maxField))
		} else if msg := plaintext.Problem(f.v); msg != "" {
			bad(f.name, "invalid_text", msg)
		}
	}
	if r.Email != "" && !strings.Contains(r.Email, "@") {
		bad("email", "invalid", "is not an e-mail address")
	}
	switch r.Source {
	case pathway.SourceSocialServices, pathway.SourceEmployment:
	default:
		bad("source", "invalid", "must be social_services or employment_service")
	}
	if !r.Consent {
		bad("consent", "required", "the participant's registered consent is required")
	}
	if err != nil {
		return num, errs
	}
	age := num.AgeOn(s.now())
	if r.Programme != "" {
		p, ok := s.Programmes.Get(r.Programme)
		switch {
		case !ok:
			bad("programme", "unknown", fmt.Sprintf("no programme %q", r.Programme))
		case age < p.MinAge || age > p.MaxAge:
			bad("programme", "age_outside", fmt.Sprintf("the participant's age (%d) is outside the programme's range %d–%d", age, p.MinAge, p.MaxAge))
		}
	} else if _, ok := s.Programmes.ForAge(age); !ok {
		bad("personal_number", "age_outside", fmt.Sprintf("no programme takes participants aged %d", age))
	}
	if r.CentreID != "" {
		c, err := store.GetCentre(ctx, s.Pool, r.CentreID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			bad("centre_id", "unknown", fmt.Sprintf("no centre %q", r.CentreID))
		case err != nil:
			bad("centre_id", "unavailable", "the centre registry could not be read")
		case age < c.MinAge || age > c.MaxAge:
			bad("centre_id", "age_outside", fmt.Sprintf("%s takes ages %d–%d", c.Name, c.MinAge, c.MaxAge))
		}
	} else if r.District != "" {
		var none *store.NoCentreError
		if _, err := store.CentreFor(ctx, s.Pool, r.District, age); errors.As(err, &none) {
			bad("district", "unrouted", err.Error())
		} else if err != nil {
			bad("district", "unavailable", "the centre registry could not be read")
		}
	}
	return num, errs
}

// Start validates the referral, writes the case and starts its workflow.
// On any refusal nothing is written.
func (s *Service) Start(ctx context.Context, r Referral) (Started, error) {
	reg, err := s.Register(ctx, r)
	if err != nil {
		return reg.Started, err
	}
	if err := s.Launch(ctx, &reg); err != nil {
		return reg.Started, err
	}
	if !reg.Pending {
		_ = store.ConfirmStart(ctx, s.Pool, reg.CaseID) // if lost, the reconciler confirms it
	}
	return reg.Started, nil
}

// Registered is a case whose registry row is committed with its workflow
// start pending: Launch starts it.
type Registered struct {
	Started
	in pathway.Start
}

// Register is Start's first half: it validates the referral and writes the
// person, the case with its pending start, the consent and the audit row in
// one transaction. On any refusal nothing is written. From its return on the
// case exists and, whatever happens to the caller, the reconciler starts its
// workflow; a caller that starts many (the import) launches them apart from
// the writes, so no start holds a database connection.
func (s *Service) Register(ctx context.Context, r Referral) (Registered, error) {
	num, errs := s.Validate(ctx, &r)
	for _, e := range errs {
		// A registry that cannot be read is an outage, not bad input: the
		// referral is fine and may simply be sent again.
		if e.Code == "unavailable" {
			return Registered{}, ErrUnavailable
		}
	}
	if len(errs) > 0 {
		return Registered{}, Invalid(errs)
	}
	now := s.now()
	age := num.AgeOn(now)
	prog, _ := s.Programmes.ForAge(age)
	if r.Programme != "" {
		prog, _ = s.Programmes.Get(r.Programme)
	}
	centre, err := s.centre(ctx, r, age)
	if err != nil {
		return Registered{}, err
	}
	if r.ReferredAt.IsZero() {
		r.ReferredAt = now
	}
	track := pathway.TrackAdult
	if age <= 24 {
		track = pathway.TrackYouth
	}
	caseID := NewCaseID(now)
	in := pathway.Start{
		CaseID: caseID, CentreID: centre.ID, MunicipalityCode: centre.MunicipalityCode,
		Track: track, ActivityDuty: age < 20, ReferralSource: r.Source, ReferredAt: r.ReferredAt,
		Programme: prog, SecondsPerDay: s.SecondsPerDay, ChangeLevel: pathway.ChangeLevel,
	}
	req, err := json.Marshal(startRequest{TaskQueue: s.TaskQueue, Input: in})
	if err != nil {
		return Registered{}, err
	}
	if err := hook(ctx, s.Hooks.BeforeRow, caseID); err != nil {
		return Registered{}, fmt.Errorf("start pathway: %w", err)
	}
	// Everything the registry learns from a start is one transaction: the
	// person, the case with its pending start, the consent and the audit row.
	committing := false
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		who, err := store.RegisterParticipant(ctx, tx, s.Keys, store.Participant{
			PersonalNumber: num.Canonical, GivenName: strings.TrimSpace(r.GivenName), FamilyName: strings.TrimSpace(r.FamilyName),
			Email: r.Email, Phone: r.Phone, District: r.District, BirthDate: num.BirthDate, ProtectedIdentity: r.ProtectedIdentity,
		})
		if err != nil {
			return err
		}
		if err := store.InsertPathway(ctx, tx, store.NewPathway{
			CaseID: caseID, ParticipantID: who.ID, CentreID: centre.ID, Programme: prog.Name, ProgrammeVersion: prog.Version,
			Track: track, ActivityDuty: in.ActivityDuty, ReferralSource: r.Source, ReferredAt: r.ReferredAt, Assignee: r.Assignee,
			StartPending: req,
		}); err != nil {
			return err
		}
		scope := r.ConsentScope
		if len(scope) == 0 {
			scope = DefaultConsentScope
		}
		staff := r.StaffID
		if staff == "" {
			staff = "system"
		}
		if err := store.RecordConsent(ctx, tx, who.ID, scope, staff); err != nil {
			return err
		}
		action, detail := store.AuditStartPathway, map[string]any{"centre_id": centre.ID, "programme": prog.Name, "via": r.Via}
		if r.Via == "import" {
			action = store.AuditImport
		}
		if who.Existing {
			detail["existing_participant"] = true
			if who.Differs {
				detail["details_differ"] = true // kept the registered ones; the values are not logged
			}
		}
		if err := store.WriteAudit(ctx, tx, store.AuditEntry{StaffID: staff, Action: action, CaseID: caseID, ParticipantID: &who.ID,
			Detail: detail, RequestID: r.RequestID}); err != nil {
			return err
		}
		committing = true
		return nil
	})
	switch {
	case errors.Is(err, store.ErrActivePathway):
		return Registered{}, ErrDuplicate
	case err != nil && committing:
		return Registered{}, fmt.Errorf("start pathway: %w: %v", ErrUnconfirmed, err)
	case err != nil:
		return Registered{}, fmt.Errorf("start pathway: %w", err)
	}
	reg := Registered{Started: Started{CaseID: caseID, WorkflowID: pathway.WorkflowID(caseID), CentreID: centre.ID, Programme: prog.Name, Track: track}, in: in}
	// From here the case exists: whatever fails, the reconciler finishes it.
	if err := hook(ctx, s.Hooks.AfterRow, caseID); err != nil {
		return reg, fmt.Errorf("start pathway: %w", err)
	}
	return reg, nil
}

// Launch is Start's second half: it starts a registered case's workflow.
// When Temporal does not take the start now, it marks the case Pending and
// returns nil: the reconciler starts it. It does not confirm the start in the
// registry: the caller does, for one case (store.ConfirmStart) or many at
// once (store.ConfirmStarts); a lost confirmation is the reconciler's too.
func (s *Service) Launch(ctx context.Context, reg *Registered) error {
	if err := s.startWorkflow(ctx, reg.CaseID, s.TaskQueue, reg.in); err != nil {
		reg.Pending = true
		return nil
	}
	if err := hook(ctx, s.Hooks.AfterWorkflow, reg.CaseID); err != nil {
		return fmt.Errorf("start pathway: %w", err)
	}
	return nil
}

// startWorkflow starts the case's workflow; a workflow that already exists,
// running or ended, counts as started, so every retry is a no-op.
func (s *Service) startWorkflow(ctx context.Context, caseID, taskQueue string, in pathway.Start) error {
	// Not long: a start Temporal cannot take now is the reconciler's.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       pathway.WorkflowID(caseID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, pathway.WorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return nil
	}
	return err
}

func (s *Service) centre(ctx context.Context, r Referral, age int) (store.Centre, error) {
	if r.CentreID != "" {
		return store.GetCentre(ctx, s.Pool, r.CentreID)
	}
	return store.CentreFor(ctx, s.Pool, r.District, age)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// InvalidError carries every field error of a refused referral.
type InvalidError struct{ Fields []*FieldError }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid referral: " + strings.Join(parts, "; ")
}

// Invalid wraps field errors.
func Invalid(fields []*FieldError) error { return &InvalidError{Fields: fields} }

// caseAlphabet is Crockford's base32: no I, L, O or U to misread.
const caseAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewCaseID returns a random, readable case ID such as "2026-7KQ2M9X4". It
// carries nothing about the person.
func NewCaseID(now time.Time) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = caseAlphabet[int(b[i])%len(caseAlphabet)]
	}
	return fmt.Sprintf("%d-%s", now.Year(), b)
}
