// Package callbacks signs and checks the URLs outside systems call back on.
// The education system is given, at enrolment, a URL naming the case and
// the step with an HMAC of both under the key ring's index key:
// POST <public URL>/callbacks/education/<case>/<step>?sig=<hex>. Only a
// holder of that URL can report a result for that step, and it names no
// person.
package callbacks

import (
	"crypto/hmac"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/pathways-se/pathways/keyring"
)

// EducationPath is the route of the education system's completion callback.
const EducationPath = "/callbacks/education/{case}/{step}"

const purpose = "education-callback"

// Signature is the HMAC of the case and step, hex-encoded.
func Signature(keys *keyring.Ring, caseID, stepID string) string {
	return hex.EncodeToString(keys.Index(purpose, caseID+":"+stepID))
}

// Valid reports whether sig is the step's signature (in constant time).
func Valid(keys *keyring.Ring, caseID, stepID, sig string) bool {
	if keys == nil || sig == "" {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(Signature(keys, caseID, stepID)))
}

// Education returns the function that makes a step's callback URL under
// base (the API's public URL, as the education system reaches it). base
// is asked on each call, so a test may learn its server's address late;
// an empty base or no keys means no callback (the step polls).
func Education(base func() string, keys *keyring.Ring) func(caseID, stepID string) string {
	return func(caseID, stepID string) string {
		b := strings.TrimRight(base(), "/")
		if b == "" || keys == nil {
			return ""
		}
		return b + "/callbacks/education/" + url.PathEscape(caseID) + "/" + url.PathEscape(stepID) + "?sig=" + Signature(keys, caseID, stepID)
	}
}
