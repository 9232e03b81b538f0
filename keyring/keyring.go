// Package keyring holds the application's encryption keys: AES-256-GCM data
// keys under short IDs (so keys rotate: new data uses the current key, old
// data names the key it needs) and one HMAC key for blind indexes, which
// never rotates with the data keys since an index must stay searchable.
//
// The Temporal payload codec and the database's encrypted columns both use
// a Ring, so there is one key handling for every place personal data rests.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pathways-se/pathways/config"
)

// KeySize is the length of every key: AES-256 and HMAC-SHA256.
const KeySize = 32

// sealVersion is the first byte of a sealed value, so the format can change.
const sealVersion = 1

// File is the key file's (and PATHWAYS_CRYPTO_KEYS') JSON form. Keys are
// standard base64 of 32 random bytes.
type File struct {
	Current  string            `json:"current"`
	Keys     map[string]string `json:"keys"`
	IndexKey string            `json:"index_key"`
}

// Ring is a loaded, validated set of keys. It is safe for concurrent use.
type Ring struct {
	current string
	aeads   map[string]cipher.AEAD
	index   []byte
}

// ErrUnknownKey means a value names a key the ring does not hold.
var ErrUnknownKey = errors.New("keyring: unknown key ID")

// Parse reads a key file's JSON.
func Parse(data []byte) (*Ring, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("keyring: not valid key JSON: %w", err)
	}
	return f.Ring()
}

// Ring validates the file and builds the ring. Errors name the key ID, never
// the key.
func (f File) Ring() (*Ring, error) {
	if f.Current == "" {
		return nil, errors.New(`keyring: "current" is required`)
	}
	if _, ok := f.Keys[f.Current]; !ok {
		return nil, fmt.Errorf("keyring: current key %q is not in keys", f.Current)
	}
	r := &Ring{current: f.Current, aeads: map[string]cipher.AEAD{}}
	for id, enc := range f.Keys {
		if id == "" || len(id) > 64 {
			return nil, errors.New("keyring: a key ID must be 1 to 64 characters")
		}
		k, err := decodeKey(enc)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads[id] = aead
	}
	idx, err := decodeKey(f.IndexKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: index_key: %w", err)
	}
	r.index = idx
	return r, nil
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not standard base64")
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("must be %d bytes, got %d", KeySize, len(k))
	}
	return k, nil
}

// NewKey returns a fresh random key in the file's encoding.
func NewKey() string {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(k)
}

// Generate returns a new key file with one data key and an index key.
func Generate(id string) File {
	return File{Current: id, Keys: map[string]string{id: NewKey()}, IndexKey: NewKey()}
}

// Rotate adds a new data key and makes it current; old keys stay so old
// data still opens.
func (f File) Rotate(id string) (File, error) {
	if _, ok := f.Keys[id]; ok {
		return f, fmt.Errorf("keyring: key %q exists already", id)
	}
	keys := map[string]string{id: NewKey()}
	for k, v := range f.Keys {
		keys[k] = v
	}
	return File{Current: id, Keys: keys, IndexKey: f.IndexKey}, nil
}

// LoadFile reads a key file. It refuses a file others can read.
func LoadFile(path string) (*Ring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keyring: %s is readable by others (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return Parse(data)
}

// EnsureFile loads the key file at path, creating it with fresh keys first
// if it does not exist (development: `make run` keeps its keys in its data
// folder so a restart still opens what it wrote).
func EnsureFile(path string) (*Ring, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		data, _ := json.MarshalIndent(Generate("k1"), "", "  ")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, err = f.Write(append(data, '\n'))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("keyring: create %s: %w", path, err)
		}
	}
	return LoadFile(path)
}

// CurrentID is the ID of the key new data is encrypted under.
func (r *Ring) CurrentID() string { return r.current }

// IDs lists the data keys held, sorted.
func (r *Ring) IDs() []string {
	ids := make([]string, 0, len(r.aeads))
	for id := range r.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Encrypt encrypts under the current key and returns its ID and nonce ||
// ciphertext. aad binds the ciphertext to its context (may be nil).
func (r *Ring) Encrypt(plaintext, aad []byte) (keyID string, data []byte, err error) {
	aead := r.aeads[r.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return r.current, aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Decrypt opens nonce || ciphertext under the named key.
func (r *Ring) Decrypt(keyID string, data, aad []byte) ([]byte, error) {
	aead, ok := r.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("keyring: ciphertext too short")
	}
	n := aead.NonceSize()
	out, err := aead.Open(nil, data[:n], data[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot decrypt under key %q (wrong key or tampered data)", keyID)
	}
	return out, nil
}

// Seal encrypts into one self-describing value (version, key ID, nonce,
// ciphertext) for a database column.
func (r *Ring) Seal(plaintext, aad []byte) ([]byte, error) {
	id, data, err := r.Encrypt(plaintext, aad)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 2+len(id)+len(data))
	out = append(out, sealVersion, byte(len(id)))
	out = append(out, id...)
	return append(out, data...), nil
}

// Open reverses Seal with whichever key the value names.
func (r *Ring) Open(sealed, aad []byte) ([]byte, error) {
	id, data, err := split(sealed)
	if err != nil {
		return nil, err
	}
	return r.Decrypt(id, data, aad)
}

// SealedKeyID names the key a sealed value was written under (for rotation
// jobs that re-encrypt old values).
func SealedKeyID(sealed []byte) (string, error) {
	id, _, err := split(sealed)
	return id, err
}

func split(sealed []byte) (string, []byte, error) {
	if len(sealed) < 2 || sealed[0] != sealVersion || len(sealed) < 2+int(sealed[1]) {
		return "", nil, errors.New("keyring: not a sealed value")
	}
	n := int(sealed[1])
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

// SealString and OpenString are Seal and Open for text columns.
func (r *Ring) SealString(s string, aad []byte) ([]byte, error) { return r.Seal([]byte(s), aad) }

// OpenString opens a sealed text value.
func (r *Ring) OpenString(sealed, aad []byte) (string, error) {
	b, err := r.Open(sealed, aad)
	return string(b), err
}

// Index is a keyed blind index of value for exact lookup: HMAC-SHA256 under
// the index key, separated by purpose so one column's index cannot be
// matched against another's.
func (r *Ring) Index(purpose, value string) []byte {
	m := hmac.New(sha256.New, r.index)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// FromConfig loads the keys the configuration names: crypto.keys (JSON from
// the environment), else crypto.key_file, else in development the keys
// `pathways dev` keeps in <dev.data_dir>/keys.json. It never generates keys:
// a process that made its own would write what no other could read.
func FromConfig(c *config.Config) (*Ring, error) {
	switch {
	case c.Crypto.Keys != "":
		return Parse([]byte(c.Crypto.Keys))
	case c.Crypto.KeyFile != "":
		return LoadFile(c.Crypto.KeyFile)
	case c.Production():
		return nil, errors.New("keyring: production needs crypto.keys or crypto.key_file")
	}
	path := DevFile(c)
	r, err := LoadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("keyring: no keys at %s: start the system once with `make run` (it creates them there), "+
			"or set PATHWAYS_CRYPTO_KEYS or crypto.key_file", path)
	}
	return r, err
}

// DevFile is where `pathways dev` keeps its keys: crypto.key_file, or
// <dev.data_dir>/keys.json.
func DevFile(c *config.Config) string {
	if c.Crypto.KeyFile != "" {
		return c.Crypto.KeyFile
	}
	return filepath.Join(c.Dev.DataDir, "keys.json")
}

// ForDev is FromConfig for `pathways dev`, the one process that creates the
// development keys on first run.
func ForDev(c *config.Config) (*Ring, error) {
	if c.Crypto.Keys != "" || c.Production() {
		return FromConfig(c)
	}
	return EnsureFile(DevFile(c))
}
