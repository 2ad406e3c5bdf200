//go:build linux

package multihost_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testbed"
)

// TestPodNetworkAcrossHosts checks the pod network end to end on three
// hosts in two sites: pods reach each other by IP over TCP and UDP and see
// each other's real addresses, services and DNS work whatever host the
// endpoints are on, a node port on one host serves a pod on another, what
// crosses between sites is encrypted, and only traffic leaving the cluster
// is masqueraded.
func TestPodNetworkAcrossHosts(t *testing.T) {
	b := newBed(t)
	b.createDeployment(b.demoDeployment("backend", 3))
	b.createDeployment(b.demoDeployment("remote", 1, onHost(b.h3)))
	backendSvc := b.createService(service("backend", "backend"))
	remoteSvc := b.createService(service("remote", "remote"))
	b.createService(&api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "remote-headless"},
		Spec: api.ServiceSpec{ClusterIP: "None", Selector: map[string]string{"app": "remote"},
			Ports: []api.ServicePort{{Name: "http", Port: 8080, TargetPort: api.FromInt(8080)}}}})
	backends := b.readyPods("backend", 3, 3*time.Minute)
	remote := b.readyPods("remote", 1, 2*time.Minute)[0]
	p1, p2, p3 := b.podOn(backends, b.h1), b.podOn(backends, b.h2), b.podOn(backends, b.h3)
	pods := map[*testbed.Host]*api.Pod{b.h1: p1, b.h2: p2, b.h3: p3}

	t.Run("every pod has an address from its node's pod CIDR", func(t *testing.T) {
		for h, p := range pods {
			n, err := b.c.Nodes().Get(b.ctx, h.NodeName())
			if err != nil {
				t.Fatal(err)
			}
			cidr, err := netip.ParsePrefix(n.Spec.PodCIDR)
			if err != nil {
				t.Fatalf("node %s podCIDR %q: %v", n.Name, n.Spec.PodCIDR, err)
			}
			if ip, err := netip.ParseAddr(p.Status.PodIP); err != nil || !cidr.Contains(ip) {
				t.Errorf("pod %s on %s has IP %q, want one in the node's %s", p.Name, n.Name, p.Status.PodIP, cidr)
			}
		}
	})

	t.Run("pod to pod by IP across hosts over TCP: the receiver sees the sender's pod IP", func(t *testing.T) {
		pairs := [][2]*testbed.Host{{b.h1, b.h2}, {b.h2, b.h1}, {b.h1, b.h3}, {b.h3, b.h1}, {b.h2, b.h3}}
		for _, pair := range pairs {
			from, to := pods[pair[0]], pods[pair[1]]
			target := "http://" + net.JoinHostPort(to.Status.PodIP, "8080") + "/whoami"
			code, body := b.callFrom(pair[0], from, "/call?url="+url.QueryEscape(target))
			if want := "remote=" + from.Status.PodIP + ":"; code != http.StatusOK || !strings.HasPrefix(body, want) {
				t.Errorf("%s -> %s: %d %q, want 200 %s<port>", pair[0].Name, pair[1].Name, code, body, want)
			}
		}
	})

	t.Run("pod to pod by IP across hosts over UDP", func(t *testing.T) {
		for _, pair := range [][2]*testbed.Host{{b.h1, b.h3}, {b.h3, b.h2}} {
			from, to := pods[pair[0]], pods[pair[1]]
			q := url.Values{"addr": {net.JoinHostPort(to.Status.PodIP, "5353")}, "data": {"hello-udp"}}
			code, body := b.callFrom(pair[0], from, "/udp?"+q.Encode())
			want := fmt.Sprintf("pod=%s from=%s:", to.Name, from.Status.PodIP)
			if code != http.StatusOK || !strings.HasPrefix(body, want) || !strings.HasSuffix(body, " hello-udp") {
				t.Errorf("UDP %s -> %s: %d %q, want %s<port> hello-udp", pair[0].Name, pair[1].Name, code, body, want)
			}
		}
	})

	t.Run("pod to a service whose only endpoints are on another site, by DNS name, TCP and UDP", func(t *testing.T) {
		for _, name := range []string{"remote", "remote.default.svc.cluster.local"} {
			code, body := b.callFrom(b.h1, p1, "/call?url="+url.QueryEscape("http://"+name+"/"))
			if code != http.StatusOK || !strings.Contains(body, "pod="+remote.Name) {
				t.Errorf("http://%s/ from %s: %d %q, want an answer from %s on %s", name, b.h1.Name, code, body, remote.Name, b.h3.Name)
			}
		}
		q := url.Values{"addr": {"remote:53"}, "data": {"via-service"}}
		if code, body := b.callFrom(b.h2, p2, "/udp?"+q.Encode()); code != http.StatusOK || !strings.HasPrefix(body, "pod="+remote.Name) {
			t.Errorf("UDP to remote:53 from %s: %d %q, want the echo of %s", b.h2.Name, code, body, remote.Name)
		}
	})

	t.Run("pod to backend by DNS name reaches pods on every host", func(t *testing.T) {
		seen := map[string]bool{}
		for range 30 {
			code, body := b.callFrom(b.h3, p3, "/call?url="+url.QueryEscape("http://backend/"))
			if code != http.StatusOK {
				t.Fatalf("http://backend/ from %s: %d %q", b.h3.Name, code, body)
			}
			seen[podName(body)] = true
		}
		if len(seen) != 3 {
			t.Errorf("30 calls to backend reached %v, want all three pods (one per host)", seen)
		}
	})

	t.Run("headless service and pod DNS records resolve to pod IPs on other hosts", func(t *testing.T) {
		dashed := strings.ReplaceAll(remote.Status.PodIP, ".", "-")
		for _, name := range []string{"remote-headless", dashed + ".default.pod.cluster.local"} {
			target := "http://" + net.JoinHostPort(name, "8080") + "/whoami"
			code, body := b.callFrom(b.h1, p1, "/call?url="+url.QueryEscape(target))
			if want := "remote=" + p1.Status.PodIP + ":"; code != http.StatusOK || !strings.HasPrefix(body, want) {
				t.Errorf("%s from %s: %d %q, want %s<port> (straight to the pod)", target, b.h1.Name, code, body, want)
			}
		}
	})

	t.Run("a node port on host 1 serves a pod on host 3", func(t *testing.T) {
		body, err := httpGet(nodePortURL(b.h1, remoteSvc))
		if err != nil || !strings.Contains(body, "pod="+remote.Name) || !strings.Contains(body, "node="+b.h3.NodeName()) {
			t.Errorf("node port %d on %s: %q, %v; want pod=%s node=%s", remoteSvc.Spec.Ports[0].NodePort, b.h1.Name, body, err, remote.Name, b.h3.NodeName())
		}
		if _, err := httpGet(nodePortURL(b.h3, backendSvc)); err != nil {
			t.Errorf("node port of backend on %s: %v", b.h3.Name, err)
		}
	})

	t.Run("what crosses between sites is encrypted", func(t *testing.T) {
		secret, control := randomPayload("secret"), randomPayload("control")
		capture, err := b.Capture(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		target := "http://" + net.JoinHostPort(p3.Status.PodIP, "8080") + "/whoami?payload=" + secret
		if code, body := b.callFrom(b.h1, p1, "/call?url="+url.QueryEscape(target)); code != http.StatusOK {
			t.Fatalf("pod on h1 -> pod on h3: %d %q", code, body)
		}
		q := url.Values{"addr": {net.JoinHostPort(p1.Status.PodIP, "5353")}, "data": {secret}}
		if code, body := b.callFrom(b.h3, p3, "/udp?"+q.Encode()); code != http.StatusOK {
			t.Fatalf("UDP pod on h3 -> pod on h1: %d %q", code, body)
		}
		// The control crosses in plain text from the test (site a's uplink)
		// to h3's node port: it proves the capture sees what crosses.
		if _, err := httpGet(nodePortURL(b.h3, remoteSvc) + "?payload=" + control); err != nil {
			t.Fatalf("control request: %v", err)
		}
		capture.Stop()
		if len(capture.Containing([]byte(control))) == 0 {
			t.Fatalf("the capture did not see the plain-text control crossing the router (%+v)", capture.Stats())
		}
		capture.AssertNotSeen(t, []byte(secret))
		t.Logf("capture between sites: %+v", capture.Stats())
	})

	t.Run("only traffic leaving the cluster is masqueraded", func(t *testing.T) {
		l, err := net.Listen("tcp", netip.AddrPortFrom(b.UplinkAddr(), 0).String())
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "remote=%s\n", r.RemoteAddr)
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		for h, p := range pods {
			code, body := b.callFrom(h, p, "/call?url="+url.QueryEscape("http://"+l.Addr().String()+"/"))
			if want := "remote=" + h.Addr.String() + ":"; code != http.StatusOK || !strings.HasPrefix(body, want) {
				t.Errorf("pod on %s to a server outside the cluster: %d %q, want %s<port> (the node's address)", h.Name, code, body, want)
			}
		}
	})
}

// callFrom is fromPod that fails the test on a transport error.
func (b *bed) callFrom(h *testbed.Host, p *api.Pod, path string) (int, string) {
	b.t.Helper()
	code, body, err := b.fromPod(h, p, path)
	if err != nil {
		b.t.Fatalf("asking pod %s on %s for %s: %v", p.Name, h.Name, path, err)
	}
	return code, body
}

// podName extracts the pod name from a demo answer ("pod=<name> ...").
func podName(body string) string {
	for f := range strings.FieldsSeq(body) {
		if v, ok := strings.CutPrefix(f, "pod="); ok {
			return v
		}
	}
	return ""
}

func randomPayload(kind string) string {
	buf := make([]byte, 12)
	rand.Read(buf)
	return "maestro-" + kind + "-" + hex.EncodeToString(buf)
}

// httpGet fetches url from the test process (through the bed's uplink).
func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(buf.String()))
	}
	return buf.String(), err
}
