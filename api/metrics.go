package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pathways-se/pathways/store"
)

// Prometheus metrics at GET /metrics: request counts and latencies by route
// pattern (never the raw path), and gauges read from the registry at scrape
// time. No label carries a case ID or anything about a person.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pathways_http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pathways_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, registryCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// middleware records each request under its route pattern, known once the
// router has matched.
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// registryCollector reads counts from PostgreSQL when scraped.
type registryCollector struct{ s *Server }

var (
	pathwaysDesc = prometheus.NewDesc("pathways_pathways", "Pathways by status and phase.", []string{"status", "phase"}, nil)
	tasksDesc    = prometheus.NewDesc("pathways_open_tasks", "Open staff tasks by role.", []string{"role"}, nil)
	mailDesc     = prometheus.NewDesc("pathways_mail_outbox", "Staff mail in the outbox by state.", []string{"state"}, nil)
	scrapeDesc   = prometheus.NewDesc("pathways_registry_scrape_ok", "1 if the registry counts could be read.", nil, nil)
)

func (c registryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pathwaysDesc
	ch <- tasksDesc
	ch <- mailDesc
	ch <- scrapeDesc
}

func (c registryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ok := 1.0
	if err := c.collect(ctx, ch); err != nil {
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(scrapeDesc, prometheus.GaugeValue, ok)
}

func (c registryCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	if c.s.Pool == nil {
		return nil
	}
	if err := c.grouped(ctx, ch, pathwaysDesc, 2, `SELECT status, phase, count(*) FROM pathways GROUP BY status, phase`); err != nil {
		return err
	}
	if err := c.grouped(ctx, ch, tasksDesc, 1, `SELECT role, count(*) FROM tasks WHERE status = 'open' GROUP BY role`); err != nil {
		return err
	}
	mc, err := store.MailOutboxCounts(ctx, c.s.Pool)
	if err != nil {
		return err
	}
	for state, n := range map[string]int{"pending": mc.Pending, "sent": mc.Sent, "failed": mc.Failed} {
		ch <- prometheus.MustNewConstMetric(mailDesc, prometheus.GaugeValue, float64(n), state)
	}
	return nil
}

// grouped emits one gauge per row of q, which selects labels text
// columns and then a count.
func (c registryCollector) grouped(ctx context.Context, ch chan<- prometheus.Metric, desc *prometheus.Desc, labels int, q string) error {
	rows, err := c.s.Pool.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]string, labels)
		var n float64
		dest := make([]any, 0, labels+1)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(append(dest, &n)...); err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, n, vals...)
	}
	return rows.Err()
}
