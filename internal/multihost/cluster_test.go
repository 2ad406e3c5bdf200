//go:build linux

package multihost_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// bed is a three-host cluster over two sites.
type bed struct {
	*testbed.Testbed
	t          testing.TB
	ctx        context.Context
	siteA      *testbed.Site
	siteB      *testbed.Site
	h1, h2, h3 *testbed.Host
	srv        *testbed.Server
	c          *client.Client
	demo       string
}

// hosts are the bed's hosts in order.
func (b *bed) hosts() []*testbed.Host { return []*testbed.Host{b.h1, b.h2, b.h3} }

// newBed starts the server on h1 and an agent on every host, and waits
// until all three nodes are Ready with a pod CIDR. serverArgs are more
// `maestro server` flags.
func newBed(t testing.TB, serverArgs ...string) *bed {
	t.Helper()
	testenv.RequireDocker(t)
	tb := testbed.New(t, testbed.Options{})
	b := &bed{Testbed: tb, t: t, demo: testenv.DemoImage(t)}
	b.siteA, b.siteB = tb.AddSite("a"), tb.AddSite("b")
	b.h1, b.h2, b.h3 = tb.AddHost(b.siteA, "h1"), tb.AddHost(b.siteA, "h2"), tb.AddHost(b.siteB, "h3")
	b.srv = tb.StartServer(b.h1, testbed.ServerOptions{Args: serverArgs})
	b.c = b.srv.Client
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	b.ctx = ctx
	for _, h := range b.hosts() {
		h.StartAgent(b.srv, testbed.AgentOptions{Args: []string{"--labels", "site=" + siteOf(b, h)}})
	}
	wait, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	for _, h := range b.hosts() {
		if err := b.srv.WaitNodeReady(wait, h); err != nil {
			t.Fatal(err)
		}
	}
	b.eventually(time.Minute, "every node has a pod CIDR", func() (bool, string) {
		for _, h := range b.hosts() {
			n, err := b.c.Nodes().Get(ctx, h.NodeName())
			if err != nil || n.Spec.PodCIDR == "" {
				return false, fmt.Sprintf("node %s: podCIDR %q, err %v", h.NodeName(), podCIDROf(n), err)
			}
		}
		return true, ""
	})
	return b
}

func siteOf(b *bed, h *testbed.Host) string {
	if h == b.h3 {
		return "b"
	}
	return "a"
}

func podCIDROf(n *api.Node) string {
	if n == nil {
		return ""
	}
	return n.Spec.PodCIDR
}

// eventually polls cond every 200 ms until it holds or timeout passes.
func (b *bed) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not within %v: %s", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// demoDeployment runs the demo app (HTTP on 8080, UDP echo on 5353) with a
// readiness probe, spread one per node while replicas allow. It keeps
// serving 3 s after SIGTERM, as an application behind a service must (a
// Kubernetes preStop sleep): every host's proxy has to drop the pod from
// its endpoints before the pod stops answering, and on a loaded CI machine
// under -race that took more than the 1 s this used to allow (one request
// of 1448 lost in TestRollingUpdateAcrossHosts, sent to a pod that had
// just exited).
func (b *bed) demoDeployment(name string, replicas int32, mutate ...func(*api.Deployment)) *api.Deployment {
	return testenv.DemoDeployment(b.demo, name, replicas, append([]func(*api.Deployment){func(d *api.Deployment) {
		spec := &d.Spec.Template.Spec
		spec.TopologySpreadConstraints = []api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: api.LabelHostname,
			WhenUnsatisfiable: api.DoNotSchedule, LabelSelector: d.Spec.Selector}}
		ct := &spec.Containers[0]
		ct.Args = []string{"--udp-port=5353", "--shutdown-delay=3s"}
		ct.Ports = append(ct.Ports, api.ContainerPort{Name: "echo", ContainerPort: 5353, Protocol: api.ProtocolUDP})
		ct.Env = append(ct.Env, api.EnvVar{Name: "NODE_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "spec.nodeName"}}})
		ct.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromString("http")}},
			PeriodSeconds: 1, FailureThreshold: 1}
	}}, mutate...)...)
}

// onHost pins a deployment's pods to host h.
func onHost(h *testbed.Host) func(*api.Deployment) {
	return func(d *api.Deployment) {
		d.Spec.Template.Spec.NodeSelector = map[string]string{api.LabelHostname: h.NodeName()}
	}
}

// service is a NodePort service in front of app's HTTP and UDP ports.
func service(name, app string, mutate ...func(*api.Service)) *api.Service {
	s := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
		Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": app},
			Ports: []api.ServicePort{
				{Name: "http", Port: 80, TargetPort: api.FromString("http")},
				{Name: "echo", Port: 53, Protocol: api.ProtocolUDP, TargetPort: api.FromInt(5353)},
			}}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func (b *bed) createDeployment(d *api.Deployment) {
	b.t.Helper()
	if _, err := b.c.Deployments(d.Namespace).Create(b.ctx, d); err != nil {
		b.t.Fatalf("creating deployment %s: %v", d.Name, err)
	}
}

func (b *bed) createService(s *api.Service) *api.Service {
	b.t.Helper()
	got, err := b.c.Services(s.Namespace).Create(b.ctx, s)
	if err != nil {
		b.t.Fatalf("creating service %s: %v", s.Name, err)
	}
	return got
}

// readyPods waits until app has n Ready pods with IPs and returns them.
func (b *bed) readyPods(app string, n int, timeout time.Duration) []*api.Pod {
	b.t.Helper()
	var ready []*api.Pod
	b.eventually(timeout, fmt.Sprintf("%d ready pods of %s", n, app), func() (bool, string) {
		list, _, err := b.c.Pods("default").List(b.ctx, client.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err.Error()
		}
		ready = ready[:0]
		var states []string
		for _, p := range list {
			states = append(states, fmt.Sprintf("%s on %s: %s ip=%s", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP))
			if api.IsPodReady(p) && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				ready = append(ready, p)
			}
		}
		return len(ready) == n, strings.Join(states, "; ")
	})
	return ready
}

// podOn returns the pod of pods running on host h.
func (b *bed) podOn(pods []*api.Pod, h *testbed.Host) *api.Pod {
	b.t.Helper()
	for _, p := range pods {
		if p.Spec.NodeName == h.NodeName() {
			return p
		}
	}
	b.t.Fatalf("no pod on %s among %d", h.NodeName(), len(pods))
	return nil
}

// fromPod asks the demo app in pod p (reached from its own host, where
// the pod's bridge is) to run path, e.g. "/call?url=...", and returns the
// status and answer.
func (b *bed) fromPod(h *testbed.Host, p *api.Pod, path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	url := "http://" + netip.AddrPortFrom(netip.MustParseAddr(p.Status.PodIP), 8080).String() + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := h.HTTPClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

// nodePortURL is the URL of a service's HTTP node port on host h.
func nodePortURL(h *testbed.Host, s *api.Service) string {
	return "http://" + netip.AddrPortFrom(h.Addr, uint16(s.Spec.Ports[0].NodePort)).String() + "/"
}
