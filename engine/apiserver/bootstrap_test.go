package apiserver_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestBootstrapEndpoints: a cloud machine without credentials reads the
// cluster CA and the server's own binary for its platform; another
// platform is a 404 saying which one is served, and nothing else under
// /v1/ opens without a token.
func TestBootstrapEndpoints(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "maestro")
	want := []byte("\x7fELF a maestro binary")
	if err := os.WriteFile(bin, want, 0o755); err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) { c.AgentBinary = bin }))
	raw := newRaw(t, env)

	if resp := raw.do(t, "GET", cloud.BootstrapCAPath, "", "", nil); resp.Code != http.StatusOK ||
		string(resp.Body) != env.Config.CertificateAuthorityData {
		t.Errorf("CA: %d %q, want 200 and the cluster CA", resp.Code, resp.Body)
	}
	agent := cloud.BootstrapAgentPath + runtime.GOOS + "/" + runtime.GOARCH
	if resp := raw.do(t, "GET", agent, "", "", nil); resp.Code != http.StatusOK || !bytes.Equal(resp.Body, want) {
		t.Errorf("agent: %d %q, want 200 and the binary", resp.Code, resp.Body)
	}
	other := cloud.BootstrapAgentPath + "plan9/mips"
	if resp := raw.do(t, "GET", other, "", "", nil); resp.Code != http.StatusNotFound ||
		!bytes.Contains(resp.Body, []byte(runtime.GOOS+"/"+runtime.GOARCH)) {
		t.Errorf("another platform: %d %q, want 404 naming the served one", resp.Code, resp.Body)
	}
	if resp := raw.do(t, "GET", "/v1/bootstrap/other", "", "", nil); resp.Code != http.StatusUnauthorized {
		t.Errorf("another path under /v1/bootstrap: %d, want 401", resp.Code)
	}
}
