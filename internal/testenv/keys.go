package testenv

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/pathways-se/pathways/keyring"
)

// Every test process encrypts under one generated key set, exported in
// PATHWAYS_CRYPTO_KEYS before any test runs, so config.Load, the code under
// test and any child process share it and nothing writes a key file into a
// package folder. `pathways testenv` sets it once for the whole run.
func init() {
	if os.Getenv("PATHWAYS_CRYPTO_KEYS") == "" {
		data, _ := json.Marshal(keyring.Generate("test1"))
		_ = os.Setenv("PATHWAYS_CRYPTO_KEYS", string(data))
	}
}

// Keyring is the test process's key ring.
func Keyring(tb testing.TB) *keyring.Ring {
	tb.Helper()
	r, err := keyring.Parse([]byte(os.Getenv("PATHWAYS_CRYPTO_KEYS")))
	if err != nil {
		tb.Fatalf("test keys: %v", err)
	}
	return r
}
