package keyring

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathways-se/pathways/config"
)

func TestRotationKeepsOldValuesOpen(t *testing.T) {
	f1 := Generate("k1")
	r1, err := f1.Ring()
	if err != nil {
		t.Fatal(err)
	}
	old, err := r1.Seal([]byte("19811218-9876"), []byte("participants.personal_number"))
	if err != nil {
		t.Fatal(err)
	}
	f2, err := f1.Rotate("k2")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := f2.Ring()
	got, err := r2.Open(old, []byte("participants.personal_number"))
	if err != nil || string(got) != "19811218-9876" {
		t.Fatalf("old value under k2 ring: %q, %v", got, err)
	}
	fresh, _ := r2.Seal([]byte("x"), nil)
	if id, _ := SealedKeyID(fresh); id != "k2" {
		t.Fatalf("new value sealed under %q, want k2", id)
	}
	if id, _ := SealedKeyID(old); id != "k1" {
		t.Fatalf("old value names %q, want k1", id)
	}
	if !bytes.Equal(r1.Index("pnr", "a"), r2.Index("pnr", "a")) {
		t.Fatal("rotation changed the blind index")
	}
}

func TestOpenRefusesTamperingAndWrongContext(t *testing.T) {
	r, _ := Generate("k1").Ring()
	s, _ := r.Seal([]byte("secret"), []byte("a"))
	if _, err := r.Open(s, []byte("b")); err == nil {
		t.Fatal("opened under another context")
	}
	s[len(s)-1] ^= 1
	if _, err := r.Open(s, []byte("a")); err == nil {
		t.Fatal("opened a tampered value")
	}
	if _, err := r.Open([]byte("plain"), nil); err == nil {
		t.Fatal("opened a value that was never sealed")
	}
	other, _ := Generate("k9").Ring()
	s2, _ := other.Seal([]byte("x"), nil)
	if _, err := r.Open(s2, nil); err == nil || !strings.Contains(err.Error(), `"k9"`) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestIndexSeparatesPurposes(t *testing.T) {
	r, _ := Generate("k1").Ring()
	if bytes.Equal(r.Index("a", "x"), r.Index("b", "x")) {
		t.Fatal("index ignores purpose")
	}
	if !bytes.Equal(r.Index("a", "x"), r.Index("a", "x")) {
		t.Fatal("index not stable")
	}
}

func TestEnsureFileKeepsKeysAndRefusesOpenFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "keys.json")
	r1, err := EnsureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r1.Seal([]byte("x"), nil)
	r2, err := EnsureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Open(s, nil); err != nil {
		t.Fatalf("second load has other keys: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
}

func TestParseErrorsNameTheKeyNotTheSecret(t *testing.T) {
	f := Generate("k1")
	f.Keys["k1"] = "c2hvcnQ=" // "short"
	data, _ := json.Marshal(f)
	_, err := Parse(data)
	if err == nil || !strings.Contains(err.Error(), `"k1"`) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse([]byte(`{"current":"k2","keys":{},"index_key":""}`)); err == nil {
		t.Fatal("missing current key accepted")
	}
}

// Only `pathways dev` creates development keys: any other process that made
// its own would encrypt what the rest cannot open.
func TestOnlyDevCreatesKeys(t *testing.T) {
	c := &config.Config{Mode: config.ModeDevelopment, Dev: config.DevConfig{DataDir: t.TempDir()}}
	if _, err := FromConfig(c); err == nil || !strings.Contains(err.Error(), "make run") {
		t.Fatalf("FromConfig without keys: %v", err)
	}
	made, err := ForDev(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := FromConfig(c)
	if err != nil || again.CurrentID() != made.CurrentID() || !bytes.Equal(again.Index("p", "x"), made.Index("p", "x")) {
		t.Fatalf("FromConfig after dev: %v", err)
	}
	c.Mode = config.ModeProduction
	if _, err := ForDev(c); err == nil {
		t.Fatal("production made keys")
	}
}
