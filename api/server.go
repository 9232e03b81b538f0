// Package api is the HTTP API and web console: JSON under /api/v1, HTML
// pages for staff, and the health endpoints.
package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/actions"
	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/keyring"
	"github.com/pathways-se/pathways/lang"
	"github.com/pathways-se/pathways/plans"
	"github.com/pathways-se/pathways/stepactions"
)

// Server holds what handlers need.
type Server struct {
	Config   *config.Config
	Pool     *pgxpool.Pool
	Temporal client.Client
	Cases    *cases.Service
	Log      *zap.Logger
	// Keys open the participant's identifiers and the timeline's free text,
	// and decrypt payloads for the Temporal Web UI's codec server (codec.go).
	Keys *keyring.Ring
	// Outside answers matching (needs and vacancies); nil lists none.
	Outside Outside
	// Plans validates plans and reads courses and needs; nil builds one
	// from Config's systems on first use.
	Plans *plans.Service
	// Auth signs staff in; nil builds one from Config on first Handler call.
	Auth *auth.Manager
	// UpdateTimeout bounds a staff action waiting for the worker (default 20 s).
	UpdateTimeout time.Duration

	stopOnce sync.Once
	stopCtx  context.Context
	stop     context.CancelFunc
	inflight sync.WaitGroup // requests being served, so Run returns only after them

	pollersSeen   atomic.Int64 // unix nanoseconds when a worker was last seen polling (workerReady)
	pollersAsking atomic.Bool  // a background workerPolling is under way

	actionsOnce     sync.Once
	actionsSvc      *actions.Service
	stepActionsOnce sync.Once
	stepActionsSvc  *stepactions.Service
}

// stoppingContext ends when the server starts shutting down: a staff action
// still waiting for its Update then answers 202 at once instead of holding
// the shutdown past its grace.
func (s *Server) stoppingContext() context.Context {
	s.stopOnce.Do(func() { s.stopCtx, s.stop = context.WithCancel(context.Background()) })
	return s.stopCtx
}

// track counts in-flight requests.
func (s *Server) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		next.ServeHTTP(w, r)
	})
}

// Handler builds the router.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	m := newMetrics(s)
	r.Use(s.track, middleware.RequestID, s.requestLog, m.middleware, middleware.Recoverer, withLanguage)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	// Counts only, no personal data; restrict it at the network edge like /readyz.
	r.Method(http.MethodGet, "/metrics", m.handler())
	if s.Auth == nil {
		m, err := auth.New(s.Config, s.Pool, s.Log)
		if err != nil {
			s.Log.Error("auth is not configured: every request but the health checks is refused", zap.Error(err))
			r.NotFound(func(w http.ResponseWriter, r *http.Request) {
				writeProblem(w, http.StatusServiceUnavailable, Problem{Code: "auth_unconfigured", Message: err.Error()})
			})
			return r
		}
		s.Auth = m
	}
	r.Get("/api/openapi.json", s.openapi)
	mountPublic(s, r)
	for _, mount := range public {
		mount(s, r)
	}
	mountCodec(s, r) // its own session check: the UI's CORS preflight comes without cookies
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.requireAPISession)
		for _, mount := range routes {
			mount(s, r)
		}
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requirePageSession)
		for _, mount := range pages {
			mount(s, r)
		}
	})
	return r
}

// withLanguage stores the request's language (the browser's choice; the
// staff member's own setting wins once the session is known).
func withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := lang.New(lang.Pick("", r.Header.Get("Accept-Language")))
		next.ServeHTTP(w, r.WithContext(lang.With(r.Context(), l)))
	})
}

// routes and pages let each feature file mount its own endpoints; public
// ones check their callers themselves (e.g. a signed callback URL).
var (
	routes []func(*Server, chi.Router)
	pages  []func(*Server, chi.Router)
	public []func(*Server, chi.Router)
)

// requestLog logs each request with its ID; never the query string, which
// may carry search terms about people.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.Log.Info("http",
			zap.String("request_id", middleware.GetReqID(r.Context())),
			zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", ww.Status()), zap.Duration("took", time.Since(start)))
	})
}

// Run serves until ctx ends, then drains in-flight requests. Waiting staff
// actions answer 202 as the shutdown begins and write their audit rows; Run
// returns only once every handler has finished, so the caller may close the
// pool and the Temporal client after it.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.Config.HTTP.Addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	s.Log.Info("http listening", zap.String("addr", s.Config.HTTP.Addr))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.stoppingContext()
	s.stop()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Config.HTTP.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	// Shutdown gives up waiting at its grace but handlers keep running: wait
	// for them (a stuck one is bounded by the Update wait) before returning.
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.updateTimeout() + 5*time.Second):
		s.Log.Warn("http shutdown: handlers still running after the update wait")
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
