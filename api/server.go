// Package api is the HTTP API and web console: JSON under /api/v1, HTML
// pages for staff, and the health endpoints.
package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/pathways-se/pathways/auth"
	"github.com/pathways-se/pathways/cases"
	"github.com/pathways-se/pathways/config"
	"github.com/pathways-se/pathways/keyring"
)

// Server holds what handlers need.
type Server struct {
	Config   *config.Config
	Pool     *pgxpool.Pool
	Temporal client.Client
	Cases    *cases.Service
	Log      *zap.Logger
	// Outside answers matching (needs and vacancies); nil lists none.
	Outside Outside
	// Auth signs staff in; nil builds one from Config on first Handler call.
	Auth *auth.Manager
	// Keys decrypt payloads for the Temporal Web UI's codec server (codec.go).
	Keys *keyring.Ring
	// UpdateTimeout bounds a staff action waiting for the worker (default 20 s).
	UpdateTimeout time.Duration
}

// Handler builds the router.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	m := newMetrics(s)
	r.Use(middleware.RequestID, s.requestLog, m.middleware, middleware.Recoverer)
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

// routes and pages let each feature file mount its own endpoints.
var (
	routes []func(*Server, chi.Router)
	pages  []func(*Server, chi.Router)
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

// Run serves until ctx ends, then drains in-flight requests.
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
