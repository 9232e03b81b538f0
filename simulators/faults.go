package simulators

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults is the fault-injection setting, as PUT on /admin/faults:
//
//	{
//	  "global":  {"latency_ms": 50, "errors": {"503": 0.3}},
//	  "systems": {"education": {"timeout_rate": 0.1, "hang_ms": 15000, "duplicate_callback_rate": 1}}
//	}
//
// A system with its own entry uses that entry alone; the others use global.
// Systems: education, employment, jobsearch, employers, social, smtp.
type Faults struct {
	Global  *FaultSpec            `json:"global,omitempty"`
	Systems map[string]*FaultSpec `json:"systems,omitempty"`
}

// FaultSpec is what can go wrong with one system. Rates are probabilities
// in [0, 1], drawn from the simulator's seeded RNG.
type FaultSpec struct {
	// LatencyMS is added to every request; JitterMS adds up to that much more.
	LatencyMS int `json:"latency_ms,omitempty"`
	JitterMS  int `json:"jitter_ms,omitempty"`
	// Errors answers with a status code instead of handling the request:
	// {"503": 0.3, "429": 0.05}. For smtp the codes are SMTP replies (421, 451, 550).
	Errors map[string]float64 `json:"errors,omitempty"`
	// TimeoutRate hangs the request for HangMS (default 60 s, longer than any
	// sane client timeout) before anything is done.
	TimeoutRate float64 `json:"timeout_rate,omitempty"`
	HangMS      int     `json:"hang_ms,omitempty"`
	// DropRate closes the connection without an answer, before handling.
	DropRate float64 `json:"drop_rate,omitempty"`
	// LostResponseRate handles the request (the side effect happens) and then
	// closes the connection without answering: the client must retry with the
	// same idempotency key.
	LostResponseRate float64 `json:"lost_response_rate,omitempty"`
	// DuplicateCallbackRate delivers an education completion callback twice.
	DuplicateCallbackRate float64 `json:"duplicate_callback_rate,omitempty"`
	// SideEffectsOnly limits the faults to POST, PUT, PATCH and DELETE.
	SideEffectsOnly bool `json:"side_effects_only,omitempty"`
}

// Systems are the simulated systems, as mounted and as named in faults.
var Systems = []string{"education", "employment", "jobsearch", "employers", "social", "smtp"}

// Validate checks rates and codes.
func (f *Faults) Validate() error {
	check := func(name string, s *FaultSpec) error {
		if s == nil {
			return nil
		}
		for n, r := range map[string]float64{"timeout_rate": s.TimeoutRate, "drop_rate": s.DropRate,
			"lost_response_rate": s.LostResponseRate, "duplicate_callback_rate": s.DuplicateCallbackRate} {
			if r < 0 || r > 1 {
				return fmt.Errorf("%s.%s must be within [0, 1]", name, n)
			}
		}
		if s.LatencyMS < 0 || s.JitterMS < 0 || s.HangMS < 0 {
			return fmt.Errorf("%s: latencies must not be negative", name)
		}
		sum := 0.0
		for code, r := range s.Errors {
			c, err := strconv.Atoi(code)
			if err != nil || c < 400 || c > 599 {
				return fmt.Errorf("%s.errors: %q is not a status code 400-599", name, code)
			}
			if r < 0 || r > 1 {
				return fmt.Errorf("%s.errors.%s must be within [0, 1]", name, code)
			}
			sum += r
		}
		if sum > 1.0000001 {
			return fmt.Errorf("%s.errors: rates add up to more than 1", name)
		}
		return nil
	}
	if err := check("global", f.Global); err != nil {
		return err
	}
	for sys, s := range f.Systems {
		if !known(sys) {
			return fmt.Errorf("systems: unknown system %q (one of %s)", sys, strings.Join(Systems, ", "))
		}
		if err := check("systems."+sys, s); err != nil {
			return err
		}
	}
	return nil
}

func known(sys string) bool {
	for _, s := range Systems {
		if s == sys {
			return true
		}
	}
	return false
}

// ParseFaults reads a fault setting from inline JSON (starting with "{") or
// from a JSON file path. Empty means no faults.
func ParseFaults(s string) (Faults, error) {
	s = strings.TrimSpace(s)
	var f Faults
	if s == "" {
		return f, nil
	}
	data := []byte(s)
	if !strings.HasPrefix(s, "{") {
		b, err := os.ReadFile(s)
		if err != nil {
			return f, fmt.Errorf("simulators.faults: %w", err)
		}
		data = b
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("simulators.faults: %w", err)
	}
	return f, f.Validate()
}

// faultRNG is the seeded source of every fault decision.
type faultRNG struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (f *faultRNG) float() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r.Float64()
}

func (f *faultRNG) intn(n int) int {
	if n <= 0 {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r.IntN(n)
}

// spec returns the faults that apply to system.
func (s *Sim) spec(system string) *FaultSpec {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	if fs, ok := s.faults.Systems[system]; ok {
		return fs
	}
	return s.faults.Global
}

// SetFaults replaces the fault setting.
func (s *Sim) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faultMu.Lock()
	s.faults = f
	s.faultMu.Unlock()
	return nil
}

// CurrentFaults returns the fault setting.
func (s *Sim) CurrentFaults() Faults {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	return s.faults
}

// pickError draws an injected status code, or 0.
func (s *Sim) pickError(fs *FaultSpec) int {
	if len(fs.Errors) == 0 {
		return 0
	}
	codes := make([]string, 0, len(fs.Errors))
	for c := range fs.Errors {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	x := s.rng.float()
	acc := 0.0
	for _, c := range codes {
		acc += fs.Errors[c]
		if x < acc {
			n, _ := strconv.Atoi(c)
			return n
		}
	}
	return 0
}

func (s *Sim) latency(fs *FaultSpec) time.Duration {
	d := time.Duration(fs.LatencyMS) * time.Millisecond
	if fs.JitterMS > 0 {
		d += time.Duration(s.rng.intn(fs.JitterMS+1)) * time.Millisecond
	}
	return d
}

func (fs *FaultSpec) hang() time.Duration {
	if fs.HangMS > 0 {
		return time.Duration(fs.HangMS) * time.Millisecond
	}
	return 60 * time.Second
}

func isSideEffect(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (s *Sim) roll(rate float64) bool {
	return rate > 0 && s.rng.float() < rate
}
