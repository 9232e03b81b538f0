// Package simulators runs stand-ins for the systems around a centre as real
// HTTP servers speaking the same protocols as the clients in integrations/:
// adult education (/education), the employment service gateway
// (/employment), JobTech JobSearch (/jobsearch), employers (/employers),
// social services (/social), an SMTP sink, and /admin to look at what
// happened and to inject faults.
//
// Endpoints (all JSON):
//
//	GET  /education/courses?municipality=&form=&sun=&q=
//	POST /education/enrolments                      {case_id, course_code, person{personal_number,...}, callback_url}
//	GET  /education/enrolments/{id}
//	POST /education/enrolments/{id}/withdraw        {reason}
//	GET  /education/admin/enrolments?case_id=
//	POST /education/admin/enrolments/{id}/complete  {status: completed|failed|dropped_out, grade}
//	     → POST {enrolment_id, status, grade} to the enrolment's callback_url
//	POST /employment/registrations/lookup           {personal_number} → {registered, programme, consent[]}
//	PUT  /employment/admin/registrations            {personal_number, registered, programme, consent[]}
//	POST /employment/plans | /employment/outcomes   (403 without consent)
//	GET  /employment/admin/reports
//	GET  /jobsearch/search?q=&occupation-group=&municipality=&offset=&limit=   (JobTech JobSearch)
//	GET  /employers/needs?ssyk=&municipality=&employer=&status=   (default open; all)
//	GET  /employers/needs/{id}
//	POST /employers/needs                           {employer_id, ssyk, title, positions, start_date, expires_at, ...}
//	POST /employers/needs/{id}/status               {status: open|filled|withdrawn, reason}
//	POST /employers/agreements                      {case_id, employer_id, need_id, kind, start_date, end_date}
//	     → a need_id takes one of the need's positions; ending it before end_date gives it back
//	GET  /employers/agreements/{id}
//	POST /employers/agreements/{id}/end             {reason}
//	GET  /employers/admin/agreements
//	POST /social/notices                            {case_id, personal_number, event, reason, outcome, at}
//	GET  /social/admin/notices
//	GET  /admin/requests?system=&path=&method=&idempotency_key=&since=
//	GET  /admin/stats      counts per system, duplicate_side_effects (should stay 0)
//	GET|PUT|DELETE /admin/faults   (see Faults)
//	GET  /admin/mail       messages captured by the SMTP sink
//	GET  /admin/callbacks  completion callback deliveries
//	POST /admin/reset      clear the request log and counters
//	GET  /admin/health
//
// Data are generated from a seed, so two runs with the same seed (on the same
// day) serve the same courses, vacancies and employers. Side effects honour
// Idempotency-Key: the same key answers with the first response and creates
// nothing new.
package simulators

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
)

// Sim is the simulator state and its HTTP handler tree.
type Sim struct {
	seed int64
	log  *zap.Logger
	rng  *faultRNG
	mux  *http.ServeMux

	faultMu sync.RWMutex
	faults  Faults

	mu      sync.Mutex // guards everything below
	reqSeq  int64
	reqs    []RequestRecord
	stats   map[string]*SystemStats
	idem    map[string]*idemEntry // system + "\x00" + key
	data    *data
	edu     educationState
	emp     employmentState
	ers     employersState
	soc     socialState
	mail    mailState
	cbs     []CallbackRecord
	cbSeq   int64
	closing bool

	db      *pgxpool.Pool // nil: state in memory only (see persist.go)
	pending []change      // objects the current request changed
	stale   bool          // a write failed and the reload too: reload first

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	cbHTTP *http.Client
}

// maxRecords bounds the request log.
const maxRecords = 20000

// RequestRecord is one request as seen by the simulator. It holds no body
// and so no personal data; the JobSearch api-key is kept as a fingerprint.
type RequestRecord struct {
	Seq            int64     `json:"seq"`
	At             time.Time `json:"at"`
	System         string    `json:"system"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	Query          string    `json:"query,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	APIKey         string    `json:"api_key,omitempty"` // "sha256:<8 bytes hex>" of the api-key header
	Status         int       `json:"status"`            // 0 when the connection was dropped
	DurationMS     int64     `json:"duration_ms"`
	Fault          string    `json:"fault,omitempty"`  // latency, error, timeout, drop, lost_response
	Replay         bool      `json:"replay,omitempty"` // answered from the idempotency store
	Created        string    `json:"created,omitempty"`
}

// SystemStats counts what happened to one system.
type SystemStats struct {
	Requests    int            `json:"requests"`
	ByStatus    map[string]int `json:"by_status"`
	SideEffects int            `json:"side_effects"` // objects created or changed
	Replays     int            `json:"replays"`      // same key answered from the store
	Unkeyed     int            `json:"unkeyed_side_effects"`
	// DuplicateSideEffects counts a business object created a second time
	// under another (or no) key: a broken idempotency chain. Should stay 0.
	DuplicateSideEffects int            `json:"duplicate_side_effects"`
	KeyMismatches        int            `json:"key_mismatches"` // same key, different request
	Faults               map[string]int `json:"faults"`
}

type idemEntry struct {
	fingerprint string
	status      int
	body        []byte
}

// New builds a simulator with data generated from seed.
func New(seed int64, log *zap.Logger) *Sim {
	return newAt(seed, log, time.Now())
}

func newAt(seed int64, log *zap.Logger, now time.Time) *Sim {
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		seed:   seed,
		log:    log,
		rng:    &faultRNG{r: rand.New(rand.NewPCG(uint64(seed), 0xfa017))},
		stats:  map[string]*SystemStats{},
		idem:   map[string]*idemEntry{},
		data:   generate(seed, now),
		ctx:    ctx,
		cancel: cancel,
		cbHTTP: &http.Client{Timeout: 5 * time.Second},
	}
	s.edu.init()
	s.emp.init()
	s.ers.init()
	s.soc.init()
	s.mail.init()
	s.routes()
	return s
}

// Handler is the whole HTTP tree.
func (s *Sim) Handler() http.Handler {
	h := s.middleware(s.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.fresh(); err != nil {
			writeErr(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Close stops callback deliveries and waits for them.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

func (s *Sim) routes() {
	m := http.NewServeMux()
	s.mux = m
	// education
	m.HandleFunc("GET /education/courses", s.searchCourses)
	m.HandleFunc("POST /education/enrolments", s.enrol)
	m.HandleFunc("GET /education/enrolments/{id}", s.enrolmentStatus)
	m.HandleFunc("POST /education/enrolments/{id}/withdraw", s.withdraw)
	m.HandleFunc("GET /education/admin/enrolments", s.listEnrolments)
	m.HandleFunc("POST /education/admin/enrolments/{id}/complete", s.completeEnrolment)
	// employment gateway
	m.HandleFunc("POST /employment/registrations/lookup", s.registrationLookup)
	m.HandleFunc("PUT /employment/admin/registrations", s.putRegistration)
	m.HandleFunc("POST /employment/plans", s.reportPlan)
	m.HandleFunc("POST /employment/outcomes", s.reportOutcome)
	m.HandleFunc("GET /employment/admin/reports", s.listReports)
	// JobTech JobSearch
	m.HandleFunc("GET /jobsearch/search", s.jobSearch)
	// employers
	m.HandleFunc("GET /employers/needs", s.needs)
	m.HandleFunc("GET /employers/needs/{id}", s.getNeed)
	m.HandleFunc("POST /employers/needs", s.registerNeed)
	m.HandleFunc("POST /employers/needs/{id}/status", s.setNeedStatus)
	m.HandleFunc("POST /employers/agreements", s.createAgreement)
	m.HandleFunc("GET /employers/agreements/{id}", s.getAgreement)
	m.HandleFunc("POST /employers/agreements/{id}/end", s.endAgreement)
	m.HandleFunc("GET /employers/admin/agreements", s.listAgreements)
	// social services
	m.HandleFunc("POST /social/notices", s.notice)
	m.HandleFunc("GET /social/admin/notices", s.listNotices)
	// admin
	m.HandleFunc("GET /admin/requests", s.adminRequests)
	m.HandleFunc("GET /admin/stats", s.adminStats)
	m.HandleFunc("GET /admin/faults", s.adminGetFaults)
	m.HandleFunc("PUT /admin/faults", s.adminPutFaults)
	m.HandleFunc("DELETE /admin/faults", s.adminDeleteFaults)
	m.HandleFunc("GET /admin/mail", s.adminMail)
	m.HandleFunc("GET /admin/callbacks", s.adminCallbacks)
	m.HandleFunc("POST /admin/reset", s.adminReset)
	m.HandleFunc("GET /admin/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "seed": s.seed})
	})
}

// systemOf is the first path segment.
func systemOf(path string) string {
	p := strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return p
}

// recorder captures the status and can hold back the answer (lost response).
type recorder struct {
	http.ResponseWriter
	status  int
	hold    bool
	held    bytes.Buffer
	wrote   bool
	replay  bool
	created string
}

func (r *recorder) WriteHeader(code int) {
	if r.wrote {
		return
	}
	r.wrote = true
	r.status = code
	if !r.hold {
		r.ResponseWriter.WriteHeader(code)
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.hold {
		return r.held.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// recorderFrom finds our recorder under w (handlers mark replays on it).
func recorderFrom(w http.ResponseWriter) *recorder {
	if r, ok := w.(*recorder); ok {
		return r
	}
	return nil
}

func apiKeyPrint(v string) string {
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// middleware records every request and injects faults (never on admin paths).
func (s *Sim) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		system := systemOf(r.URL.Path)
		if system == "admin" {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		fault := ""
		record := func(status int) {
			s.record(RequestRecord{
				At: start.UTC(), System: system, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
				IdempotencyKey: r.Header.Get("Idempotency-Key"), APIKey: apiKeyPrint(r.Header.Get("api-key")),
				Status: status, DurationMS: time.Since(start).Milliseconds(), Fault: fault,
				Replay: rec.replay, Created: rec.created,
			})
		}
		fs := s.spec(system)
		admin := strings.Contains(r.URL.Path, "/admin/")
		if fs == nil || admin || (fs.SideEffectsOnly && !isSideEffect(r.Method)) || !known(system) {
			next.ServeHTTP(rec, r)
			record(statusOr200(rec))
			return
		}
		if d := s.latency(fs); d > 0 {
			fault = "latency"
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				record(0)
				return
			}
		}
		if s.roll(fs.DropRate) {
			fault = "drop"
			hijackClose(w)
			record(0)
			return
		}
		if s.roll(fs.TimeoutRate) {
			fault = "timeout"
			// Read the body so that the server notices when the client gives up.
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			select {
			case <-time.After(fs.hang()):
			case <-r.Context().Done():
			case <-s.ctx.Done():
			}
			hijackClose(w)
			record(0)
			return
		}
		if code := s.pickError(fs); code != 0 {
			fault = "error"
			if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			writeJSON(rec, code, map[string]string{"error": "injected fault: " + http.StatusText(code)})
			record(code)
			return
		}
		if s.roll(fs.LostResponseRate) {
			fault = "lost_response"
			rec.hold = true
			next.ServeHTTP(rec, r)
			hijackClose(w)
			record(0)
			return
		}
		next.ServeHTTP(rec, r)
		record(statusOr200(rec))
	})
}

func statusOr200(r *recorder) int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// hijackClose drops the connection without an answer.
func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a test recorder: the closest is to abort the handler.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func (s *Sim) record(rr RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqSeq++
	rr.Seq = s.reqSeq
	if len(s.reqs) >= maxRecords {
		s.reqs = append(s.reqs[:0], s.reqs[len(s.reqs)-maxRecords/2:]...)
	}
	s.reqs = append(s.reqs, rr)
	st := s.statsLocked(rr.System)
	st.Requests++
	st.ByStatus[strconv.Itoa(rr.Status)]++
	if rr.Fault != "" {
		st.Faults[rr.Fault]++
	}
	if rr.Replay {
		st.Replays++
	}
	s.log.Debug("simulator request", zap.String("system", rr.System), zap.String("method", rr.Method),
		zap.String("path", rr.Path), zap.Int("status", rr.Status), zap.String("fault", rr.Fault), zap.Bool("replay", rr.Replay))
}

func (s *Sim) statsLocked(system string) *SystemStats {
	st := s.stats[system]
	if st == nil {
		st = &SystemStats{ByStatus: map[string]int{}, Faults: map[string]int{}}
		s.stats[system] = st
	}
	return st
}

// effect is the result of a side-effecting handler.
type effect struct {
	status int
	body   any
	// created names the object created or changed (for the log); empty when
	// nothing changed (e.g. ending an ended agreement).
	created string
	// duplicate is set when a second object was created for the same
	// business identity under a different (or no) key.
	duplicate bool
}

// sideEffect runs fn once per idempotency key of system. The same key with
// the same request replays the first 2xx answer; with another request it is
// refused (422). fn runs under s.mu and gets the raw body.
func (s *Sim) sideEffect(w http.ResponseWriter, r *http.Request, system string, fn func(body []byte) effect) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "cannot read body")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	fp := hex.EncodeToString(sum[:])
	s.mu.Lock()
	st := s.statsLocked(system)
	if key != "" {
		if e, ok := s.idem[system+"\x00"+key]; ok {
			if e.fingerprint != fp {
				st.KeyMismatches++
				s.mu.Unlock()
				writeErr(w, http.StatusUnprocessableEntity, "idempotency key reused with a different request")
				return
			}
			s.mu.Unlock()
			if rec := recorderFrom(w); rec != nil {
				rec.replay = true
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
	}
	ef := fn(body)
	out, _ := json.Marshal(ef.body)
	var idem *idemRow
	if ef.status >= 200 && ef.status < 300 && key != "" {
		idem = &idemRow{system: system, key: key, e: &idemEntry{fingerprint: fp, status: ef.status, body: out}}
	}
	if err := s.commitLocked(idem); err != nil {
		s.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if ef.status >= 200 && ef.status < 300 {
		if ef.created != "" {
			st.SideEffects++
			if key == "" {
				st.Unkeyed++
			}
		}
		if ef.duplicate {
			st.DuplicateSideEffects++
			s.log.Warn("simulator saw a duplicate side effect", zap.String("system", system), zap.String("path", r.URL.Path))
		}
		if idem != nil {
			s.idem[system+"\x00"+key] = idem.e
		}
	}
	s.mu.Unlock()
	if rec := recorderFrom(w); rec != nil {
		rec.created = ef.created
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ef.status)
	_, _ = w.Write(out)
}

func fail(status int, msg string) effect {
	return effect{status: status, body: map[string]string{"error": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(body, v)
}

// ---- admin ----

// Requests returns recorded requests, optionally filtered.
func (s *Sim) Requests(system, pathPrefix, method string) []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RequestRecord
	for _, r := range s.reqs {
		if system != "" && r.System != system {
			continue
		}
		if pathPrefix != "" && !strings.HasPrefix(r.Path, pathPrefix) {
			continue
		}
		if method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Stats is the answer of GET /admin/stats.
type Stats struct {
	Seed                 int64                   `json:"seed"`
	Systems              map[string]*SystemStats `json:"systems"`
	DuplicateSideEffects int                     `json:"duplicate_side_effects"` // all systems
	Mail                 MailStats               `json:"mail"`
	Callbacks            int                     `json:"callbacks"`
}

// MailStats counts the SMTP sink.
type MailStats struct {
	Messages   int `json:"messages"`   // distinct Message-IDs
	Deliveries int `json:"deliveries"` // DATA transactions accepted
	// Duplicates are deliveries of a Message-ID already received.
	Duplicates int `json:"duplicate_deliveries"`
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Seed: s.seed, Systems: map[string]*SystemStats{}, Callbacks: len(s.cbs)}
	for _, sys := range Systems {
		st := *s.statsLocked(sys)
		st.ByStatus = copyMap(st.ByStatus)
		st.Faults = copyMap(st.Faults)
		out.Systems[sys] = &st
		out.DuplicateSideEffects += st.DuplicateSideEffects
	}
	out.Mail = MailStats{Messages: len(s.mail.byID), Deliveries: s.mail.deliveries, Duplicates: s.mail.duplicates}
	return out
}

func copyMap(m map[string]int) map[string]int {
	o := make(map[string]int, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

func (s *Sim) adminRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	recs := s.Requests(q.Get("system"), q.Get("path"), q.Get("method"))
	if v := q.Get("since"); v != "" {
		since, _ := strconv.ParseInt(v, 10, 64)
		var f []RequestRecord
		for _, x := range recs {
			if x.Seq > since {
				f = append(f, x)
			}
		}
		recs = f
	}
	if k := q.Get("idempotency_key"); k != "" {
		var f []RequestRecord
		for _, x := range recs {
			if x.IdempotencyKey == k {
				f = append(f, x)
			}
		}
		recs = f
	}
	if recs == nil {
		recs = []RequestRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(recs), "requests": recs})
}

func (s *Sim) adminStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Sim) adminGetFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.CurrentFaults())
}

func (s *Sim) adminPutFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		writeErr(w, http.StatusBadRequest, "faults: "+err.Error())
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeErr(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	s.log.Info("simulator faults set")
	writeJSON(w, http.StatusOK, f)
}

func (s *Sim) adminDeleteFaults(w http.ResponseWriter, r *http.Request) {
	_ = s.SetFaults(Faults{})
	writeJSON(w, http.StatusOK, Faults{})
}

// Reset clears the request log and counters (not the data or the
// idempotency store).
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
	s.stats = map[string]*SystemStats{}
}

func (s *Sim) adminReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
}

// ---- running ----

// serve runs srv on ln until ctx ends, then shuts it down gracefully.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		return nil
	}
}
