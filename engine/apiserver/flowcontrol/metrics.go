package flowcontrol

import "github.com/prometheus/client_golang/prometheus"

// metrics are per priority level, as Kubernetes' apiserver_flowcontrol_*.
type metrics struct {
	seats, inflight, waiting, longRunning *prometheus.GaugeVec
	rejected                              *prometheus.CounterVec
	waited                                *prometheus.HistogramVec
}

// levelMetrics are one level's children of the vectors.
type levelMetrics struct {
	seats, inflight, waiting prometheus.Gauge
	rejected                 *prometheus.CounterVec // by reason, curried with the level
	waited                   prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "maestro_apiserver_flowcontrol_" + name, Help: help}, []string{"priority_level"})
	}
	m := &metrics{
		seats:       gauge("seats", "Concurrent requests a priority level admits."),
		inflight:    gauge("inflight_requests", "Requests holding a seat, by priority level."),
		waiting:     gauge("waiting_requests", "Requests queued for a seat, by priority level."),
		longRunning: gauge("long_running_requests", "Open watches and followed logs, by priority level."),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_apiserver_flowcontrol_rejected_requests_total",
			Help: "Requests refused with 429, by priority level and reason (queue-full, time-out, long-running-limit).",
		}, []string{"priority_level", "reason"}),
		waited: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "maestro_apiserver_flowcontrol_wait_seconds",
			Help:    "Time requests waited for a seat (0 when one was free), by priority level.",
			Buckets: []float64{0, .001, .005, .025, .1, .25, .5, 1, 2.5, 5},
		}, []string{"priority_level"}),
	}
	if reg != nil {
		reg.MustRegister(m.seats, m.inflight, m.waiting, m.longRunning, m.rejected, m.waited)
	}
	return m
}

func (m *metrics) level(l Level) *levelMetrics {
	name := string(l)
	// Every level appears in /metrics from the start, at zero.
	for _, reason := range []string{ReasonQueueFull, ReasonTimeout, ReasonTooMany} {
		m.rejected.WithLabelValues(name, reason)
	}
	m.longRunning.WithLabelValues(name)
	return &levelMetrics{
		seats:    m.seats.WithLabelValues(name),
		inflight: m.inflight.WithLabelValues(name),
		waiting:  m.waiting.WithLabelValues(name),
		rejected: m.rejected.MustCurryWith(prometheus.Labels{"priority_level": name}),
		waited:   m.waited.WithLabelValues(name),
	}
}
