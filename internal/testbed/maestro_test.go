//go:build linux

package testbed

import (
	"context"
	"testing"
	"time"
)

func TestServerAndAgentsInHosts(t *testing.T) {
	tb := New(t, Options{})
	a, b := tb.AddSite("a"), tb.AddSite("b")
	h1, h2, h3 := tb.AddHost(a, "h1"), tb.AddHost(b, "h2"), tb.AddHost(a, "h3")

	srv := tb.StartServer(h1, ServerOptions{})
	if want := "https://" + h1.Addr.String() + ":6443"; srv.URL != want || srv.Config.Server != want {
		t.Errorf("server URL %s, client config %s; want %s (the host's address)", srv.URL, srv.Config.Server, want)
	}
	// h2 is on another site: it joins through the router. h3 shares the
	// server's site and the machine's Docker engine.
	h2.StartAgent(srv, AgentOptions{Runtime: "process"})
	h3.StartAgent(srv, AgentOptions{Runtime: "docker"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, h := range []*Host{h2, h3} {
		if err := srv.WaitNodeReady(ctx, h); err != nil {
			t.Fatal(err)
		}
		n, err := srv.Client.Nodes().Get(ctx, h.NodeName())
		if err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, a := range n.Status.Addresses {
			addrs = append(addrs, a.Address)
		}
		if len(addrs) == 0 || addrs[0] != h.Addr.String() {
			t.Errorf("node %s addresses %v, want %s (the host's)", n.Name, addrs, h.Addr)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("stopping the server: SIGTERM should end it cleanly: %v", err)
	}
}
