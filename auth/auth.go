// Package auth signs staff in and keeps their session: a signed cookie that
// names a server-side session (staff_sessions), password sign-in for the seeded development
// accounts, and OIDC sign-in in production (staff matched by e-mail). It also
// holds the rules of access: roles decide actions, the centre decides
// visibility, and protected identities are visible to their assignee only.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/store"
)

// CookieName is the session cookie.
const CookieName = "pathways_session"

const stateCookie = "pathways_oidc_state"

// Defaults of auth.session_lifetime and auth.session_idle_timeout.
const (
	DefaultSessionLifetime    = 10 * time.Hour
	DefaultSessionIdleTimeout = 30 * time.Minute
)

// touchEvery bounds how often a busy session's last use is written.
const touchEvery = 30 * time.Second

// Session is what the cookie carries: no personal data. The session lives
// in the staff_sessions table under the SHA-256 of Nonce, so signing out
// ends it everywhere, whatever copy of the cookie remains.
type Session struct {
	StaffID string    `json:"s"`
	Nonce   string    `json:"n"` // the session ID; also binds the CSRF token to this sign-in
	Expires time.Time `json:"e"`
}

func (s Session) idHash() []byte {
	h := sha256.Sum256([]byte(s.Nonce))
	return h[:]
}

// Manager signs staff in and out.
type Manager struct {
	Pool        *pgxpool.Pool
	Log         *zap.Logger
	DevAccounts bool
	Secure      bool // cookies only over HTTPS (production)
	// Lifetime and IdleTimeout end sessions (auth.session_lifetime,
	// auth.session_idle_timeout).
	Lifetime, IdleTimeout time.Duration
	// Throttle limits failed password sign-ins.
	Throttle Throttle
	cookie   *securecookie.SecureCookie
	csrfKey  []byte

	oidcCfg  config.AuthConfig
	oidcOnce sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

// New builds a Manager. Without auth.session_secret, development derives a
// random per-process key (sessions end on restart) and production refuses.
func New(cfg *config.Config, pool *pgxpool.Pool, log *zap.Logger) (*Manager, error) {
	if log == nil {
		log = zap.NewNop()
	}
	secret := []byte(cfg.Auth.SessionSecret)
	if len(secret) == 0 {
		if cfg.Production() {
			return nil, errors.New("auth.session_secret is required in production (PATHWAYS_AUTH_SESSION_SECRET)")
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		log.Warn("auth.session_secret is not set: using a random per-process key; sessions end when the process restarts")
	} else if len(secret) < 32 {
		return nil, errors.New("auth.session_secret must be at least 32 bytes")
	}
	hashKey := derive(secret, "hash")
	blockKey := derive(secret, "block")[:32]
	sc := securecookie.New(hashKey, blockKey)
	lifetime, idle := cfg.Auth.SessionLifetime, cfg.Auth.SessionIdleTimeout
	if lifetime <= 0 {
		lifetime = DefaultSessionLifetime
	}
	if idle <= 0 {
		idle = DefaultSessionIdleTimeout
	}
	sc.MaxAge(int(lifetime / time.Second))
	sc.SetSerializer(securecookie.JSONEncoder{})
	return &Manager{Pool: pool, Log: log, DevAccounts: cfg.Auth.DevAccounts, Secure: cfg.Production(),
		Lifetime: lifetime, IdleTimeout: idle, Throttle: DefaultThrottle,
		cookie: sc, csrfKey: derive(secret, "csrf"), oidcCfg: cfg.Auth}, nil
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("pathways-" + label))
	return m.Sum(nil)
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not-a-password"), bcrypt.DefaultCost)
	return h
})

// ErrBadCredentials is a failed password sign-in; it never says which part was wrong.
var ErrBadCredentials = errors.New("the user name or password is wrong")

// PasswordSignIn checks a development account's password, from a client
// address. While the account or the address has failed too often it
// refuses with a *ThrottledError before checking anything; a wrong
// password counts against both.
func (m *Manager) PasswordSignIn(ctx context.Context, id, password, address string) (store.Staff, error) {
	if !m.DevAccounts {
		return store.Staff{}, errors.New("password sign-in is turned off; sign in with your organisation account")
	}
	account := accountKey(id)
	if err := m.checkThrottle(ctx, account, address); err != nil {
		return store.Staff{}, err
	}
	s, err := m.checkPassword(ctx, account, password)
	if errors.Is(err, ErrBadCredentials) {
		if rerr := store.RecordSignInFailure(ctx, m.Pool, account, address, time.Now(), max(m.Throttle.Window, time.Hour)); rerr != nil {
			m.Log.Error("record failed sign-in", zap.Error(rerr))
		}
		return s, err
	}
	if err == nil {
		if cerr := store.ClearSignInFailures(ctx, m.Pool, account); cerr != nil {
			m.Log.Warn("clear failed sign-ins", zap.Error(cerr))
		}
	}
	return s, err
}

func (m *Manager) checkPassword(ctx context.Context, id, password string) (store.Staff, error) {
	s, err := store.GetStaff(ctx, m.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so timing does not reveal accounts.
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return store.Staff{}, ErrBadCredentials
	}
	if err != nil {
		return store.Staff{}, err
	}
	if !s.Active || s.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(s.PasswordHash), []byte(password)) != nil {
		return store.Staff{}, ErrBadCredentials
	}
	return s, nil
}

// SetSession records a new session and writes its cookie.
func (m *Manager) SetSession(ctx context.Context, w http.ResponseWriter, staffID string) error {
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	now := time.Now()
	sess := Session{StaffID: staffID, Nonce: base64.RawURLEncoding.EncodeToString(id), Expires: now.Add(m.Lifetime)}
	v, err := m.cookie.Encode(CookieName, sess)
	if err != nil {
		return err
	}
	if err := store.CreateSession(ctx, m.Pool, sess.idHash(), staffID, now, sess.Expires); err != nil {
		return fmt.Errorf("record session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: v, Path: "/", HttpOnly: true, Secure: m.Secure,
		SameSite: http.SameSiteLaxMode, Expires: sess.Expires})
	return nil
}

// ClearSession signs out: the session ends in the table, so a copy of the
// cookie no longer answers, and the browser drops its cookie.
func (m *Manager) ClearSession(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	var err error
	if s, ok := m.cookieSession(r); ok {
		err = store.EndSession(ctx, m.Pool, s.idHash(), "signed_out")
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: m.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return err
}

// EndAll ends every session of a staff member ("sign out everywhere").
func (m *Manager) EndAll(ctx context.Context, staffID string) (int64, error) {
	return store.EndStaffSessions(ctx, m.Pool, staffID, "signed_out_everywhere")
}

// cookieSession decodes the request's cookie without asking the table.
func (m *Manager) cookieSession(r *http.Request) (Session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Session{}, false
	}
	var s Session
	if err := m.cookie.Decode(CookieName, c.Value, &s); err != nil || s.StaffID == "" || s.Nonce == "" || time.Now().After(s.Expires) {
		return Session{}, false
	}
	return s, true
}

// Session reads the request's cookie and checks its session in the table:
// not ended, not past its lifetime, used within the idle timeout. A live
// session's last use moves forward.
func (m *Manager) Session(r *http.Request) (Session, bool) {
	s, err := m.SessionErr(r)
	return s, err == nil
}

// ErrNoSession: the request carries no valid session (sign in).
var ErrNoSession = errors.New("no valid session")

// ErrSessionsUnavailable: the session store could not be read, so whether
// the session is valid is unknown. It is an outage to answer with 503, never
// a reason to send someone to the sign-in page (and lose their form).
var ErrSessionsUnavailable = errors.New("the session store could not be reached")

// SessionErr is Session, telling a missing session from an outage.
func (m *Manager) SessionErr(r *http.Request) (Session, error) {
	s, _, err := m.session(r, nil)
	return s, err
}

// session checks the request's session and reads it with its staff member
// and their language in one query.
// With cr, the case's reads go in the same round trip (store.CaseRead).
func (m *Manager) session(r *http.Request, cr *store.CaseRead) (Session, store.SessionStaff, error) {
	s, ok := m.cookieSession(r)
	if !ok {
		return Session{}, store.SessionStaff{}, ErrNoSession
	}
	ctx := r.Context()
	var row store.SessionStaff
	var err error
	if cr != nil {
		row, err = store.GetSessionStaffCase(ctx, m.Pool, s.idHash(), cr)
	} else {
		row, err = store.GetSessionStaff(ctx, m.Pool, s.idHash())
	}
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, row, ErrNoSession
	}
	if err != nil {
		m.Log.Error("read session", zap.Error(err))
		return Session{}, row, ErrSessionsUnavailable
	}
	now, sess := time.Now(), row.Session
	switch {
	case sess.EndedAt != nil || sess.StaffID != s.StaffID || now.After(sess.ExpiresAt) || now.Sub(sess.CreatedAt) > m.Lifetime:
		return Session{}, row, ErrNoSession
	case now.Sub(sess.LastSeenAt) > m.IdleTimeout:
		if err := store.EndSession(ctx, m.Pool, s.idHash(), "idle"); err != nil {
			m.Log.Warn("end idle session", zap.Error(err))
		}
		return Session{}, row, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) > min(touchEvery, m.IdleTimeout/10) {
		if err := store.TouchSession(ctx, m.Pool, s.idHash(), now); err != nil {
			m.Log.Warn("touch session", zap.Error(err))
		}
	}
	return s, row, nil
}

// CSRFToken is the form token of a session.
func (m *Manager) CSRFToken(s Session) string {
	h := hmac.New(sha256.New, m.csrfKey)
	h.Write([]byte(s.StaffID + "|" + s.Nonce))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// CheckCSRF compares a submitted token with the session's.
func (m *Manager) CheckCSRF(s Session, token string) bool {
	return hmac.Equal([]byte(m.CSRFToken(s)), []byte(token))
}

// OIDCEnabled reports whether an OIDC issuer is configured.
func (m *Manager) OIDCEnabled() bool { return m.oidcCfg.OIDCIssuer != "" }

// oidcSetup discovers the issuer on first use, so the server starts even
// while the identity provider is briefly down.
func (m *Manager) oidcSetup(ctx context.Context) error {
	m.oidcOnce.Lock()
	defer m.oidcOnce.Unlock()
	if m.provider != nil {
		return nil
	}
	p, err := oidc.NewProvider(ctx, m.oidcCfg.OIDCIssuer)
	if err != nil {
		return fmt.Errorf("oidc discovery: %w", err)
	}
	m.provider = p
	m.verifier = p.Verifier(&oidc.Config{ClientID: m.oidcCfg.OIDCClientID})
	m.oauth = &oauth2.Config{ClientID: m.oidcCfg.OIDCClientID, ClientSecret: m.oidcCfg.OIDCClientSecret,
		RedirectURL: m.oidcCfg.OIDCRedirectURL, Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	return nil
}

// OIDCStart redirects to the identity provider.
func (m *Manager) OIDCStart(w http.ResponseWriter, r *http.Request) error {
	if err := m.oidcSetup(r.Context()); err != nil {
		return err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/", HttpOnly: true, Secure: m.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, m.oauth.AuthCodeURL(state), http.StatusFound)
	return nil
}

// OIDCCallback finishes sign-in and returns the matched staff member.
func (m *Manager) OIDCCallback(w http.ResponseWriter, r *http.Request) (store.Staff, error) {
	if err := m.oidcSetup(r.Context()); err != nil {
		return store.Staff{}, err
	}
	c, err := r.Cookie(stateCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.URL.Query().Get("state"))) {
		return store.Staff{}, errors.New("the sign-in state does not match; start again")
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: "/", MaxAge: -1})
	tok, err := m.oauth.Exchange(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		return store.Staff{}, fmt.Errorf("oidc exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return store.Staff{}, errors.New("the identity provider sent no id_token")
	}
	idt, err := m.verifier.Verify(r.Context(), raw)
	if err != nil {
		return store.Staff{}, fmt.Errorf("oidc verify: %w", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return store.Staff{}, err
	}
	if claims.Email == "" || (claims.EmailVerified != nil && !*claims.EmailVerified) {
		return store.Staff{}, errors.New("the identity provider sent no verified e-mail")
	}
	s, err := store.GetStaffByEmail(r.Context(), m.Pool, claims.Email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.Active) {
		return store.Staff{}, errors.New("no active staff account has this e-mail address")
	}
	return s, err
}
