//go:build linux

package testbed

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
)

// TestBooterJoinsANode: an instance booted with cloud.UserData on an
// emulated host fetches the CA (checked by hash) and the agent binary from
// the server's bootstrap endpoints, joins with its single-use token and
// becomes a Ready node; Halt powers it off (the node goes NotReady, the
// host is gone).
func TestBooterJoinsANode(t *testing.T) {
	tb := New(t, Options{})
	site := tb.AddSite("cloud")
	srv := tb.StartServer(tb.AddHost(site, "cp"), ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	node := tb.Run() + "-vm1"
	tok, err := srv.Client.CreateToken(ctx, api.TokenRequest{Role: "join", Node: node, Uses: 1, TTLSeconds: 600})
	if err != nil {
		t.Fatal(err)
	}
	script, err := cloud.UserData(cloud.MachineRequest{Name: node, Cluster: "c1", Pool: "p", Zone: "z1", IdempotencyKey: "k1",
		Bootstrap: cloud.Bootstrap{ServerURL: srv.URL, CAPEM: []byte(srv.Config.CertificateAuthorityData), JoinToken: cloud.Secret(tok.Token)}},
		"--runtime", "process")
	if err != nil {
		t.Fatal(err)
	}
	b := tb.Booter(site)
	addr, err := b.Boot(ctx, "i-0001", script)
	if err != nil {
		t.Fatal(err)
	}
	var n *api.Node
	for {
		n, err = srv.Client.Nodes().Get(ctx, node)
		if err == nil && api.IsNodeReady(n) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("node %s not Ready: %v; console:\n%s", node, err, b.Console("i-0001"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := api.NodeAddressOf(n, api.NodeInternalIP); got != addr.String() {
		t.Errorf("node address %s, want the instance's %s", got, addr)
	}
	if n.Labels[api.LabelZone] != "z1" || n.Labels[api.LabelNodePool] != "p" {
		t.Errorf("node labels %v, want zone z1 and pool p", n.Labels)
	}
	if strings.Contains(b.Console("i-0001"), tok.Token) {
		t.Error("the join token is in the instance's console output")
	}
	if err := b.Halt(ctx, "i-0001"); err != nil {
		t.Fatal(err)
	}
	if name := hostOf(t, tb, addr.String()); name != "" {
		t.Error("the halted instance's host is still in the test bed")
	}
}

func hostOf(t *testing.T, tb *Testbed, addr string) string {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for name, h := range tb.hosts {
		if h.Addr.String() == addr {
			return name
		}
	}
	return ""
}
