package testenv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// ServeProvider serves a Terraform provider from the test process under
// address until the test ends, and returns the TF_REATTACH_PROVIDERS
// value that points a terraform binary at it: the provider's requests
// then run (and profile, and hit breakpoints) in the test.
func ServeProvider(t testing.TB, address string, newServer func() (tfprotov6.ProviderServer, error)) string {
	t.Helper()
	srv, err := newServer()
	if err != nil {
		t.Fatalf("starting the provider: %v", err)
	}
	server := func() tfprotov6.ProviderServer { return srv }
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		if err := tf6server.Serve(address, server, tf6server.WithDebug(ctx, reattach, closed)); err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
	})
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider server did not start")
	}
	type addr struct{ Network, String string }
	env, err := json.Marshal(map[string]any{address: map[string]any{
		"Protocol": rc.Protocol, "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": addr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(env)
}
