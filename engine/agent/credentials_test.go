package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestCredentialsRenewBeforeExpiry: a node's credentials expire; the agent
// renews them before they do, saves them, and its client and serving
// certificate follow without a restart. Credentials left to expire need a
// new join.
func TestCredentialsRenewBeforeExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 3 * time.Second
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) { c.NodeCredentialTTL = ttl }))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	join := func() string {
		tok, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "join", TTLSeconds: 60, Node: "rot-1", Addresses: []string{"127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	cfg := agent.BootstrapConfig{Server: env.Config.Server, JoinToken: join(), CAPEM: []byte(env.Config.CertificateAuthorityData),
		NodeName: "rot-1", Address: "127.0.0.1", DataDir: dir, Log: testenv.Logger(t)}
	creds, err := agent.Bootstrap(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if exp := creds.Expires(); exp.IsZero() || exp.After(time.Now().Add(ttl+time.Second)) {
		t.Fatalf("credentials expire %v, want within %s", exp, ttl)
	}
	cl, err := creds.Client()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "credentials.json"))
	firstCert, _ := creds.GetCertificate(nil)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); creds.Run(runCtx) }()
	// Past the first credential's expiry, the client still works: it
	// follows the renewals.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		if _, err := cl.Namespaces().Get(ctx, "default"); err != nil {
			t.Fatalf("node client at %s: %v", time.Now().Format(time.StampMilli), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	<-done
	saved, err := os.ReadFile(filepath.Join(dir, "credentials.json"))
	if err != nil || string(saved) == string(first) {
		t.Fatalf("saved credentials not renewed: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "credentials.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %v, want 0600", fi.Mode().Perm())
	}
	if cert, _ := creds.GetCertificate(nil); cert.Leaf.SerialNumber.Cmp(firstCert.Leaf.SerialNumber) == 0 {
		t.Error("the serving certificate was not renewed")
	}
	reloaded, err := agent.LoadCredentials(dir, nil)
	if err != nil || !reloaded.Expires().Equal(creds.Expires()) {
		t.Fatalf("reloaded credentials: %v (expires %v, want %v)", err, reloaded.Expires(), creds.Expires())
	}

	// Left to expire, they need a new join.
	time.Sleep(time.Until(creds.Expires()) + 100*time.Millisecond)
	cfg.JoinToken = ""
	if _, err := agent.Bootstrap(ctx, cfg); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("bootstrap with expired credentials and no token: %v", err)
	}
	cfg.JoinToken = join()
	if _, err := agent.Bootstrap(ctx, cfg); err != nil {
		t.Fatalf("re-joining with a new token: %v", err)
	}
}
