package localcluster_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/loadgen"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// backendService is the demo backend: named target port, a node port, and
// a UDP echo port.
func backendService(name string) *api.Service {
	return &api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
		Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": name},
			Ports: []api.ServicePort{
				{Name: "http", Port: 80, TargetPort: api.FromString("http")},
				{Name: "echo", Port: 53, Protocol: api.ProtocolUDP, TargetPort: api.FromInt(5353)},
			}}}
}

// backendDeployment answers HTTP on 8080 and echoes UDP on 5353; readiness
// is probed every second. Like any service backend that must not drop
// requests, it keeps serving for a moment after SIGTERM (Kubernetes users
// add a preStop sleep): proxies on every host need that long to stop
// sending it new connections.
func (c *lc) backendDeployment(name string, replicas int32) *api.Deployment {
	return c.demoDeployment(name, replicas, func(d *api.Deployment) {
		ct := &d.Spec.Template.Spec.Containers[0]
		ct.Args = []string{"--udp-port=5353", "--shutdown-delay=1s"}
		ct.Ports = append(ct.Ports, api.ContainerPort{Name: "echo", ContainerPort: 5353, Protocol: api.ProtocolUDP})
		ct.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromString("http")}},
			PeriodSeconds: 1, FailureThreshold: 1}
	})
}

// podOf extracts the pod name from a demo answer ("pod=<name> ...").
func podOf(body string) string {
	for f := range strings.FieldsSeq(body) {
		if v, ok := strings.CutPrefix(f, "pod="); ok {
			return v
		}
	}
	return ""
}

func (c *lc) createService(t testing.TB, s *api.Service) *api.Service {
	t.Helper()
	out, err := c.Client.Services(s.Namespace).Create(c.ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// servedBy polls url until the answers name exactly the pods, and returns
// how long that took.
func servedBy(t testing.TB, url string, pods []string, timeout time.Duration) time.Duration {
	t.Helper()
	want := slices.Sorted(slices.Values(pods))
	var seen []string
	return eventually(t, timeout, fmt.Sprintf("%s served by exactly %v", url, want), func() (bool, string) {
		set := map[string]bool{}
		for range 3 * len(pods) {
			body, err := getFresh(url)
			if err != nil {
				return false, err.Error()
			}
			set[podOf(body)] = true
		}
		seen = slices.Sorted(maps.Keys(set))
		return slices.Equal(seen, want), fmt.Sprint(seen)
	})
}

// getFresh fetches url on a connection of its own, as a new client would
// (the proxy balances connections, not requests).
func getFresh(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func podNames(pods []*api.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestServicesEndToEnd(t *testing.T) {
	c := startCluster(t, 3)
	svc := c.createService(t, backendService("backend"))
	if svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("service not allocated: clusterIP %q nodePort %d", svc.Spec.ClusterIP, svc.Spec.Ports[0].NodePort)
	}
	c.create(t, c.backendDeployment("backend", 3))
	c.create(t, c.demoDeployment("frontend", 1))
	backends := c.readyPods(t, "app=backend", 3, 90*time.Second)
	frontend := c.readyPods(t, "app=frontend", 1, 60*time.Second)[0]
	clusterURL := fmt.Sprintf("http://%s/", net.JoinHostPort(svc.Spec.ClusterIP, "80"))

	t.Run("frontend reaches the backend by name, all replicas in turn", func(t *testing.T) {
		for _, name := range []string{"backend", "backend.default.svc.cluster.local"} {
			call := "http://" + frontend.Status.PodIP + ":8080/call?url=http://" + name + "/"
			// Ready pods reach the frontend's node's proxy a moment after
			// their status says so: wait until it knows all three, then
			// check the turn.
			servedBy(t, call, podNames(backends), 15*time.Second)
			var order []string
			for range 6 {
				body, err := get(call)
				if err != nil {
					t.Fatalf("frontend calling http://%s/: %v (%s)", name, err, body)
				}
				order = append(order, podOf(body))
			}
			if got := slices.Sorted(slices.Values(order[:3])); !slices.Equal(got, slices.Sorted(slices.Values(podNames(backends)))) {
				t.Fatalf("http://%s/ answered by %v, want each of %v in turn", name, order, podNames(backends))
			}
			if !slices.Equal(order[:3], order[3:]) {
				t.Fatalf("http://%s/ not in turn: %v", name, order)
			}
		}
		env, err := get("http://" + frontend.Status.PodIP + ":8080/env")
		if err != nil || !strings.Contains(env, "BACKEND_SERVICE_HOST="+svc.Spec.ClusterIP+"\n") || !strings.Contains(env, "BACKEND_SERVICE_PORT=80\n") {
			t.Fatalf("frontend environment lacks the backend service variables (%v):\n%s", err, env)
		}
	})

	t.Run("host reaches the cluster IP and the node port on every node address", func(t *testing.T) {
		servedBy(t, clusterURL, podNames(backends), 5*time.Second)
		for _, n := range c.Nodes {
			url := fmt.Sprintf("http://%s/", net.JoinHostPort(n.Address, fmt.Sprint(svc.Spec.Ports[0].NodePort)))
			if body, err := get(url); err != nil || podOf(body) == "" {
				t.Fatalf("node port on %s: %q, %v", n.Name, body, err)
			}
		}
	})

	t.Run("UDP round trip, SRV for a named port, NXDOMAIN for a missing service", func(t *testing.T) {
		conn, err := net.Dial("udp", net.JoinHostPort(svc.Spec.ClusterIP, "53"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		eventually(t, 5*time.Second, "a UDP echo through the service", func() (bool, string) {
			conn.Write([]byte("hello"))
			conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 512)
			n, err := conn.Read(buf)
			return err == nil && strings.Contains(string(buf[:n]), "hello"), fmt.Sprint(err)
		})
		dnsAddr := c.Host.DNSAddress()
		q := func(name string, typ uint16) *mdns.Msg {
			m := new(mdns.Msg)
			m.SetQuestion(name, typ)
			r, err := mdns.Exchange(m, dnsAddr)
			if err != nil {
				t.Fatalf("querying %s: %v", name, err)
			}
			return r
		}
		r := q("_http._tcp.backend.default.svc.cluster.local.", mdns.TypeSRV)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.SRV).Port != 80 {
			t.Fatalf("SRV answer %v, want port 80", r.Answer)
		}
		if r := q("backend.default.svc.cluster.local.", mdns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != svc.Spec.ClusterIP {
			t.Fatalf("A answer %v, want %s", r.Answer, svc.Spec.ClusterIP)
		}
		if r := q("missing.default.svc.cluster.local.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
			t.Fatalf("missing service: rcode %s, want NXDOMAIN", mdns.RcodeToString[r.Rcode])
		}
	})

	t.Run("scaling: new pods get traffic within a second of ready, removed ones none", func(t *testing.T) {
		scale(t, c, "backend", 5)
		pods := c.readyPods(t, "app=backend", 5, 90*time.Second)
		took := servedBy(t, clusterURL, podNames(pods), 5*time.Second)
		t.Logf("3 -> 5: all five served %s after the test saw them ready", took)
		if took > time.Second {
			t.Errorf("new pods took %s to receive traffic, want <= 1s", took)
		}
		lag := trafficAfterLeaving(t, c, clusterURL, "app=backend", func() { scale(t, c, "backend", 2) }, func(p *api.Pod) bool { return p.DeletionTimestamp != nil })
		t.Logf("5 -> 2: last request served by a terminating pod %s after the test saw it terminating", lag)
		if lag > time.Second {
			t.Errorf("a terminating pod received traffic %s after it started terminating", lag)
		}
		c.readyPods(t, "app=backend", 2, 60*time.Second)
	})

	t.Run("an unready pod stops receiving requests within a second", func(t *testing.T) {
		pods := c.readyPods(t, "app=backend", 2, 60*time.Second)
		victim := pods[0]
		lag := trafficAfterLeaving(t, c, clusterURL, "app=backend", func() {
			if err := post("http://" + victim.Status.PodIP + ":8080/unready"); err != nil {
				t.Fatal(err)
			}
		}, func(p *api.Pod) bool { return p.Name == victim.Name && !api.IsPodReady(p) })
		t.Logf("unready: last request served %s after the pod turned unready", lag)
		if lag > time.Second {
			t.Errorf("an unready pod received traffic %s after turning unready", lag)
		}
		if err := post("http://" + victim.Status.PodIP + ":8080/ready"); err != nil {
			t.Fatal(err)
		}
		c.readyPods(t, "app=backend", 2, 30*time.Second)
	})

	t.Run("a killed container causes no client-visible error", func(t *testing.T) {
		pods := c.readyPods(t, "app=backend", 2, 60*time.Second)
		servedBy(t, clusterURL, podNames(pods), 5*time.Second)
		ctr := c.appContainer(t, pods[0], "app")
		ctx, cancel := context.WithCancel(c.ctx)
		res := make(chan loadgen.Result, 1)
		go func() {
			res <- loadgen.Run(ctx, loadgen.Config{URL: clusterURL, Rate: 100, Workers: 8, Duration: 6 * time.Second, FreshConnections: true})
		}()
		time.Sleep(time.Second)
		killFrom := time.Now()
		if err := c.docker.ContainerKill(c.ctx, ctr.ID, "SIGKILL"); err != nil {
			t.Fatal(err)
		}
		killTo := time.Now()
		r := <-res
		cancel()
		t.Logf("load across the kill: %s", r.Summary())
		// A request the killed process was serving dies with it, behind any
		// proxy (one that splices cannot replay it); every other request
		// must find the live endpoint.
		var lost, failed []loadgen.Sample
		for _, f := range r.Failures() {
			if f.Start.Before(killTo) && f.Start.Add(f.Latency).After(killFrom) {
				lost = append(lost, f)
			} else {
				failed = append(failed, f)
			}
		}
		if len(lost) > 0 {
			t.Logf("%d requests in flight at the kill failed with it; first: %+v", len(lost), lost[0])
		}
		if len(failed) > 0 {
			t.Fatalf("%d requests not in flight at the kill failed while another endpoint was ready; first: %+v", len(failed), failed[0])
		}
	})

	t.Run("rolling update of 10 replicas under 200 req/s: zero failures", func(t *testing.T) {
		scale(t, c, "backend", 10)
		c.readyPods(t, "app=backend", 10, 120*time.Second)
		testenv.RolloutUnderLoad{Client: c.Client, Namespace: "default", Name: "backend",
			Load: loadgen.Config{URL: clusterURL, Rate: 200, Workers: 16, Duration: 5 * time.Minute},
			Change: func(d *api.Deployment) {
				d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxUnavailable: api.Ptr(api.FromInt(0)), MaxSurge: api.Ptr(api.FromInt(3))}
				d.Spec.Template.Spec.Containers[0].Env = append(d.Spec.Template.Spec.Containers[0].Env, api.EnvVar{Name: "VERSION", Value: "v2"})
			},
			MinRequests: 1000, Want: "version=v2", Timeout: 3 * time.Minute,
		}.Run(c.ctx, t)
	})
}

func scale(t testing.TB, c *lc, name string, replicas int32) {
	t.Helper()
	d, err := c.Client.Deployments("default").Get(c.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = api.Ptr(replicas)
	if _, err := c.Client.Deployments("default").Update(c.ctx, d); err != nil {
		t.Fatal(err)
	}
}

// trafficAfterLeaving runs load through url, calls act, watches for pods
// matching leaving, and returns how long after the test first saw a pod
// leave the last request it served started (0 when none did).
func trafficAfterLeaving(t testing.TB, c *lc, url, selector string, act func(), leaving func(*api.Pod) bool) time.Duration {
	t.Helper()
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	var mu sync.Mutex
	left := map[string]time.Time{}
	w, err := c.Client.Pods("default").Watch(ctx, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range w.Events() {
			if ev.Object != nil && leaving(ev.Object) {
				mu.Lock()
				if _, ok := left[ev.Object.Name]; !ok {
					left[ev.Object.Name] = time.Now()
				}
				mu.Unlock()
			}
		}
	}()
	res := make(chan loadgen.Result, 1)
	go func() {
		res <- loadgen.Run(ctx, loadgen.Config{URL: url, Rate: 200, Workers: 8, Duration: 5 * time.Second, FreshConnections: true})
	}()
	time.Sleep(500 * time.Millisecond)
	act()
	r := <-res
	mu.Lock()
	defer mu.Unlock()
	if len(left) == 0 {
		t.Fatal("no pod was seen leaving")
	}
	var lag time.Duration
	for _, s := range r.Samples {
		if at, ok := left[podOf(s.Body)]; ok && s.Start.After(at) {
			lag = max(lag, s.Start.Sub(at))
		}
	}
	if f := r.Failures(); len(f) > 0 {
		t.Errorf("%d requests failed; first: %+v", len(f), f[0])
	}
	return lag
}
