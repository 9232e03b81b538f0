package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fakeIssuer is a minimal OpenID provider: discovery, authorize, token and
// keys, signing ID tokens with its own RSA key.
type fakeIssuer struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	email string
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIssuer{key: key}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize",
			"token_endpoint": f.srv.URL + "/token", "jwks_uri": f.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=the-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{"iss": f.srv.URL, "aud": "pathways", "sub": "user-1", "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "email": f.email, "email_verified": true})
		jws, err := signer.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		idToken, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
	})
	return f
}

// signIn runs the browser's part: start, the provider's redirect, callback.
func signIn(t *testing.T, m *auth.Manager, f *fakeIssuer, tamperState bool) (store.Staff, error) {
	t.Helper()
	start := httptest.NewRecorder()
	if err := m.OIDCStart(start, httptest.NewRequest(http.MethodGet, "/auth/oidc/start", nil)); err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if tamperState {
		q := back.Query()
		q.Set("state", "forged")
		back.RawQuery = q.Encode()
	}
	req := httptest.NewRequest(http.MethodGet, "/auth/oidc/callback?"+back.RawQuery, nil)
	for _, c := range start.Result().Cookies() {
		req.AddCookie(c)
	}
	return m.OIDCCallback(httptest.NewRecorder(), req)
}

func TestOIDCSignInMatchesStaffByEmail(t *testing.T) {
	pool, _ := testenv.Database(t)
	if err := store.SeedDemo(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	f := newFakeIssuer(t)
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.OIDCIssuer, cfg.Auth.OIDCClientID, cfg.Auth.OIDCClientSecret = f.srv.URL, "pathways", "secret"
	cfg.Auth.OIDCRedirectURL = "http://localhost:8080/auth/oidc/callback"
	m, err := auth.New(cfg, pool, nil)
	if err != nil {
		t.Fatal(err)
	}

	f.email = "coach.angered@pathways.test"
	s, err := signIn(t, m, f, false)
	if err != nil || s.ID != "coach.angered" {
		t.Fatalf("sign-in: %+v %v", s, err)
	}
	if _, err := signIn(t, m, f, true); err == nil {
		t.Error("a forged state was accepted")
	}
	f.email = "stranger@example.org"
	if _, err := signIn(t, m, f, false); err == nil {
		t.Error("an e-mail with no staff account was accepted")
	}
}
