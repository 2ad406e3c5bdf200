package apiserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watchers *prometheus.GaugeVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_apiserver_requests_total",
			Help: "API requests by verb, resource and HTTP code.",
		}, []string{"verb", "resource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "maestro_apiserver_request_duration_seconds",
			Help:    "API request latency (watches excluded) by verb and resource.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"verb", "resource"}),
		watchers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "maestro_apiserver_watchers",
			Help: "Open watch streams by resource.",
		}, []string{"resource"}),
	}
	reg.MustRegister(m.requests, m.latency, m.watchers)
	// A private registry does not get the process collectors by default.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(r *http.Request, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	verb, resource := classify(r)
	m.requests.WithLabelValues(verb, resource, strconv.Itoa(code)).Inc()
	if verb != "watch" {
		m.latency.WithLabelValues(verb, resource).Observe(d.Seconds())
	}
}

// classify names a request's verb and resource with bounded cardinality
// (never object names).
func classify(r *http.Request) (verb, resource string) {
	info, err := parsePath(r.URL.Path)
	if err != nil {
		resource = "other"
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/tokens"):
			resource = "tokens"
		case strings.HasPrefix(r.URL.Path, "/v1/nodemetrics"):
			resource = "nodemetrics" // POST: an agent's usage report
		case strings.Contains(r.URL.Path, "/podmetrics"):
			resource = "podmetrics"
		}
	} else {
		resource = info.Kind.Plural
		if info.Subresource != "" {
			resource += "/" + info.Subresource
		}
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case err == nil && isWatch(r, info):
			verb = "watch"
		case err == nil && info.Name == "":
			verb = "list"
		default:
			verb = "get"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	case http.MethodDelete:
		verb = "delete"
	default:
		verb = strings.ToLower(r.Method)
	}
	return verb, resource
}
