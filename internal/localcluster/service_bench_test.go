package localcluster_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/loadgen"
)

// BenchmarkServiceVsDirect drives one backend pod as hard as 16 keep-alive
// connections can, directly on its pod IP and through its cluster IP, in
// alternating rounds of the same run, and reports both.
func BenchmarkServiceVsDirect(b *testing.B) {
	c := startClusterB(b, 1)
	svc := c.createService(b, backendService("bench"))
	c.create(b, c.backendDeployment("bench", 1))
	pod := c.readyPods(b, "app=bench", 1, 90*time.Second)[0]
	urls := map[string]string{
		"direct":  "http://" + net.JoinHostPort(pod.Status.PodIP, "8080") + "/",
		"service": "http://" + net.JoinHostPort(svc.Spec.ClusterIP, "80") + "/",
	}
	servedBy(b, urls["service"], []string{pod.Name}, 10*time.Second)
	results := map[string][]loadgen.Result{}
	b.ResetTimer()
	for range b.N {
		for _, mode := range []string{"direct", "service", "direct", "service"} {
			r := loadgen.Run(context.Background(), loadgen.Config{URL: urls[mode], Workers: 16, Duration: 3 * time.Second})
			if f := r.Failures(); len(f) > 0 {
				b.Fatalf("%s: %d failures; first %+v", mode, len(f), f[0])
			}
			results[mode] = append(results[mode], r)
			b.Logf("%-7s %s", mode, r.Summary())
		}
	}
	b.StopTimer()
	best := func(mode string) loadgen.Result {
		return slices.MaxFunc(results[mode], func(x, y loadgen.Result) int { return int(x.Rate() - y.Rate()) })
	}
	d, s := best("direct"), best("service")
	b.ReportMetric(d.Rate(), "direct-req/s")
	b.ReportMetric(s.Rate(), "service-req/s")
	b.ReportMetric(s.Rate()/d.Rate(), "service/direct")
	b.ReportMetric(float64(d.Percentile(0.99).Microseconds()), "direct-p99-us")
	b.ReportMetric(float64(s.Percentile(0.99).Microseconds()), "service-p99-us")
	b.ReportMetric(float64((s.Percentile(0.99) - d.Percentile(0.99)).Microseconds()), "added-p99-us")
	b.ReportMetric(float64(d.Percentile(0.5).Microseconds()), "direct-p50-us")
	b.ReportMetric(float64(s.Percentile(0.5).Microseconds()), "service-p50-us")
}

// BenchmarkUnreadyToNoTraffic flips a pod unready (its readiness probe
// fails) under load through the service, and measures from the moment its
// Ready condition turns false in the API to the start of the last request
// it served. It reports the p50 and p99 over the rounds.
func BenchmarkUnreadyToNoTraffic(b *testing.B) {
	c := startClusterB(b, 2)
	svc := c.createService(b, backendService("flip"))
	c.create(b, c.backendDeployment("flip", 2))
	url := "http://" + net.JoinHostPort(svc.Spec.ClusterIP, "80") + "/"
	var lags []time.Duration
	b.ResetTimer()
	for range b.N {
		for range 10 {
			pods := c.readyPods(b, "app=flip", 2, 60*time.Second)
			servedBy(b, url, podNames(pods), 10*time.Second)
			victim := pods[len(lags)%2]
			lag := trafficAfterLeaving(b, c, url, "app=flip", func() {
				if err := post("http://" + victim.Status.PodIP + ":8080/unready"); err != nil {
					b.Fatal(err)
				}
			}, func(p *api.Pod) bool { return p.Name == victim.Name && !api.IsPodReady(p) })
			lags = append(lags, lag)
			if err := post("http://" + victim.Status.PodIP + ":8080/ready"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	slices.Sort(lags)
	b.Logf("lags: %v", lags)
	b.ReportMetric(float64(lags[len(lags)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lags[(len(lags)*99)/100].Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Milliseconds()), "max-ms")
}
