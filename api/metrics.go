package api

import (
	"errors"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"crmgate/api/answer"
	"crmgate/events"
	"crmgate/gateway"
)

const ctxStart = "crmgate.start"

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	recs     *prometheus.CounterVec
	calls    *prometheus.CounterVec
	callDur  *prometheus.HistogramVec

	retries    *prometheus.CounterVec
	limited    prometheus.Counter
	replays    prometheus.Counter
	webhooks   *prometheus.CounterVec
	validation *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	lag        *prometheus.GaugeVec
}

// newMetrics builds the registry; resets, when not nil, is the count behind
// crmgate_redis_resets_total.
func newMetrics(resets func() uint64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmgate_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crmgate_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		recs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crmgate_records_total", Help: "Imported records by connection, provider and status.",
		}, []string{"connection", "provider", "status"}),
	}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crmgate_provider_calls_total", Help: "Provider calls by connection, provider and outcome (answered, unavailable, error).",
	}, []string{"connection", "provider", "outcome"})
	m.callDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "crmgate_provider_call_duration_seconds", Help: "Provider call duration, retries included, by connection.",
		Buckets: prometheus.DefBuckets,
	}, []string{"connection", "provider"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crmgate_provider_retries_total", Help: "Provider call attempts after the first, by connection.",
	}, []string{"connection", "provider"})
	m.limited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "crmgate_rate_limited_total", Help: "Requests answered 429: the app's rate limit was spent.",
	})
	m.replays = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "crmgate_idempotency_replays_total", Help: "Answers replayed for an Idempotency-Key seen before (Idempotent-Replayed: true).",
	})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crmgate_webhooks_received_total", Help: "Provider webhooks received, by connection and outcome (stored, refused, malformed, not_stored).",
	}, []string{"connection", "outcome"})
	m.validation = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crmgate_validation_errors_total", Help: "Per-record errors of processed imports and validations, by connection and code.",
	}, []string{"connection", "code"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "crmgate_event_deliveries_total", Help: "Event delivery attempts to subscriptions, by outcome (delivered, retry: failed and to be made again, failed: given up and listed in the subscription's failures).",
	}, []string{"outcome"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "crmgate_event_delivery_lag_seconds", Help: "The delivery backlog of each subscription: how long the event last attempted had waited since it was received (0 when nothing is waiting).",
	}, []string{"subscription"})
	m.reg.MustRegister(m.retries, m.limited, m.replays, m.webhooks, m.validation, m.deliveries, m.lag)
	m.reg.MustRegister(m.requests, m.duration, m.recs, m.calls, m.callDur,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if resets != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "crmgate_redis_resets_total",
			Help: "Times this instance found that Redis had lost its data set (restarted empty or flushed): events, subscriptions, idempotency keys and field-configuration versions stored before were lost.",
		}, func() float64 { return float64(resets()) }))
	}
	return m
}

// breakerStates gauges each connection's circuit: 0 closed, 1 half-open,
// 2 open, as crmgate_breaker_state{connection}.
func (m *metrics) breakerStates(conns []*gateway.Connection) {
	for _, c := range conns {
		b := c.Breaker
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "crmgate_breaker_state", Help: "The connection's circuit: 0 closed, 1 half-open (one trial call out), 2 open (calls fail at once).",
			ConstLabels: prometheus.Labels{"connection": c.ID, "provider": c.Common.Provider},
		}, func() float64 {
			switch b.State() {
			case "open":
				return 2
			case "half_open":
				return 1
			}
			return 0
		}))
	}
}

// buildInfo is crmgate_build_info{version,goversion} 1.
func (m *metrics) buildInfo() {
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "crmgate_build_info", Help: "The running build: its module version and Go version."},
		[]string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	m.reg.MustRegister(g)
}

func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Set(ctxStart, start)
	c.Writer = &timingWriter{ResponseWriter: c.Writer, start: start}
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(c.Request.Method, route, statusLabel(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
}

// statusLabels are the status label of every status code from 100 to 599,
// made once instead of for every request.
var statusLabels = func() (l [600]string) {
	for code := 100; code < len(l); code++ {
		l[code] = strconv.Itoa(code)
	}
	return l
}()

// statusLabel is code as the status label: its decimal digits.
func statusLabel(code int) string {
	if code >= 100 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

func (m *metrics) records(conn *gateway.Connection, a *answer.Answer) {
	for _, r := range a.Results {
		m.recs.WithLabelValues(conn.ID, conn.Common.Provider, string(r.Status)).Inc()
		for _, e := range r.Errors {
			m.validation.WithLabelValues(conn.ID, string(e.Code)).Inc()
		}
	}
}

// ObserveCall records one provider call; give it to gateway.Service.Observe.
func (s *Server) ObserveCall(conn *gateway.Connection, report answer.CallReport, err error, elapsed time.Duration) {
	if report.Attempts > 1 {
		s.metrics.retries.WithLabelValues(conn.ID, conn.Common.Provider).Add(float64(report.Attempts - 1))
	}
	outcome := "answered"
	switch {
	case errors.Is(err, gateway.ErrUnavailable):
		outcome = "unavailable"
	case err != nil:
		outcome = "error"
	}
	s.metrics.calls.WithLabelValues(conn.ID, conn.Common.Provider, outcome).Inc()
	s.metrics.callDur.WithLabelValues(conn.ID, conn.Common.Provider).Observe(elapsed.Seconds())
}

// ObserveDelivery records one event delivery attempt or an idle
// subscription; give it to events.DispatcherOptions.Observe.
func (s *Server) ObserveDelivery(d events.Delivery) {
	if d.Outcome != "idle" {
		s.metrics.deliveries.WithLabelValues(d.Outcome).Inc()
	}
	s.metrics.lag.WithLabelValues(d.Subscription).Set(d.Lag.Seconds())
}

func (m *metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}

func sinceStart(c *gin.Context) time.Duration {
	if v, ok := c.Get(ctxStart); ok {
		return time.Since(v.(time.Time))
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// appendTiming appends one Server-Timing metric, name;dur= and d in
// milliseconds with three decimals (what %.3f writes).
func appendTiming(b []byte, name string, d time.Duration) []byte {
	b = append(append(b, name...), ";dur="...)
	return strconv.AppendFloat(b, ms(d), 'f', 3, 64)
}

// timingWriter gives every response a Server-Timing header with its total
// time, stamped when the headers go out; handlers that know more (imports:
// validation, upstream) set the header themselves and it is left alone.
type timingWriter struct {
	gin.ResponseWriter
	start   time.Time
	stamped bool
}

func (w *timingWriter) stamp() {
	if w.stamped {
		return
	}
	w.stamped = true
	if w.Header().Get("Server-Timing") == "" {
		var b [32]byte
		w.Header().Set("Server-Timing", string(appendTiming(b[:0], "total", time.Since(w.start))))
	}
}

func (w *timingWriter) WriteHeader(code int) {
	w.stamp()
	w.ResponseWriter.WriteHeader(code)
}

func (w *timingWriter) WriteHeaderNow() {
	w.stamp()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *timingWriter) Write(b []byte) (int, error) {
	w.stamp()
	return w.ResponseWriter.Write(b)
}

func (w *timingWriter) WriteString(s string) (int, error) {
	w.stamp()
	return w.ResponseWriter.WriteString(s)
}
