package auth

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pathways-se/pathways/store"
)

// Throttle limits failed password sign-ins per account and per client
// address within a sliding window. The failures are kept in PostgreSQL, so
// every API instance counts the same ones.
type Throttle struct {
	Window       time.Duration
	AccountLimit int // failures of one account name
	AddressLimit int // failures from one client address, any account
}

// DefaultThrottle: five wrong passwords for an account, or twenty from one
// address, within fifteen minutes lock that account or address until the
// oldest of them is fifteen minutes old.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, AccountLimit: 5, AddressLimit: 20}

// ThrottledError refuses a sign-in attempt until RetryAfter has passed.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	mins := int(math.Ceil(e.RetryAfter.Minutes()))
	return fmt.Sprintf("Too many failed sign-ins for this account or from this computer. Wait %d minute(s) and try again, or ask an administrator.", max(mins, 1))
}

// Seconds is the Retry-After value.
func (e *ThrottledError) Seconds() int { return max(1, int(math.Ceil(e.RetryAfter.Seconds()))) }

// ClientAddress is the request's peer address without its port. Behind a
// proxy it is the proxy's, so the address limit must then be set there too.
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// accountKey normalises the typed account name the way sign-in looks it up.
func accountKey(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 200 {
		id = id[:200]
	}
	return id
}

// checkThrottle refuses while the account or the address is locked.
func (m *Manager) checkThrottle(ctx context.Context, account, address string) error {
	t := m.Throttle
	if t.Window <= 0 {
		return nil
	}
	now := time.Now()
	until, err := store.SignInLockedUntil(ctx, m.Pool, account, address, now, t.Window, t.AccountLimit, t.AddressLimit)
	if err != nil {
		return err
	}
	if until.After(now) {
		return &ThrottledError{RetryAfter: until.Sub(now)}
	}
	return nil
}
