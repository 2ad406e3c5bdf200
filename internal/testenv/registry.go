package testenv

// A real image registry for tests of pulls with credentials: Debian's
// docker-registry (the CNCF distribution registry) on a loopback port,
// with htpasswd authentication and plain HTTP (the Docker engine treats
// registries on 127.0.0.0/8 as insecure registries by default, so no TLS
// is needed).

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"golang.org/x/crypto/bcrypt"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// Registry is a running registry that accepts one user.
type Registry struct {
	// Addr is host:port, the registry part of image references and the
	// key of a Docker config's "auths".
	Addr               string
	Username, Password string
}

const registryInstall = "apt-get install docker-registry (scripts/install-deps.sh does)"

// StartRegistry runs docker-registry on 127.0.0.1 with htpasswd auth for
// username and password, stopped when the test ends. Without the program
// the test fails when CI=true and is skipped loudly otherwise.
func StartRegistry(t testing.TB, username, password string) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/docker-registry"); serr != nil {
			testreq.Missing(t, "docker-registry: %s", registryInstall)
		}
		bin = "/usr/bin/docker-registry"
	}
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(username+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
auth:
  htpasswd:
    realm: maestro-test
    path: %s
`, filepath.Join(dir, "data"), addr, htpasswd)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &SyncBuffer{}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting docker-registry: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry log:\n%s", logs.String())
		}
	})
	// Up when /v2/ asks for credentials.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry at %s did not answer 401 on /v2/ within 20s (last: %v)\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &Registry{Addr: addr, Username: username, Password: password}
}

// Push tags the local image src as r.Addr/name and pushes it with r's
// credentials, then removes the tag again, so a pull of the returned
// reference has to go to the registry. (The layers stay in the engine
// under src; the registry still decides whether the manifest is given.)
func (r *Registry) Push(t testing.TB, cli *client.Client, src, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref := r.Addr + "/" + name
	if err := cli.ImageTag(ctx, src, ref); err != nil {
		t.Fatalf("tagging %s as %s: %v", src, ref, err)
	}
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: r.Username, Password: r.Password, ServerAddress: r.Addr})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	err = readProgress(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	if _, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{}); err != nil {
		t.Fatalf("untagging %s after the push: %v", ref, err)
	}
	t.Cleanup(func() { // whatever a test pulled
		_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true})
	})
	return ref
}
