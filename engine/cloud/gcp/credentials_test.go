package gcp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestApplicationDefaultCredentials: with no credentials option, the
// cloud finds the service-account key GOOGLE_APPLICATION_CREDENTIALS names,
// gets a token from the key's token_uri (the fake's) and calls with it.
func TestApplicationDefaultCredentials(t *testing.T) {
	fake := gcefake.New(gcefake.Options{Zones: []string{"zone-a"}})
	t.Cleanup(fake.Close)
	creds, err := fake.WriteCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", creds)
	c, err := gcp.New(t.Context(), gcp.Options{Project: fake.Project(), Zone: "zone-a", Endpoint: fake.URL()})
	if err != nil {
		t.Fatalf("gcp.New with ADC: %v", err)
	}
	defer c.Close()
	m, err := c.Create(ctx(t), request("m1"))
	if err != nil {
		t.Fatalf("Create with ADC: %v", err)
	}
	if _, err := c.Get(ctx(t), m.ID); err != nil {
		t.Fatalf("Get with ADC: %v", err)
	}
	if n := fake.Calls("token"); n < 1 || n > 2 {
		t.Errorf("token requests: %d, want 1 or 2 (one per API client: the token is cached)", n)
	}
}

// TestCredentialsJSON: the key's content (a pool's credentials secret)
// works as the file does, and a content that is no key is ErrPermission
// without quoting it.
func TestCredentialsJSON(t *testing.T) {
	fake := gcefake.New(gcefake.Options{Zones: []string{"zone-a"}})
	t.Cleanup(fake.Close)
	o := gcp.Options{Project: fake.Project(), Zone: "zone-a", Endpoint: fake.URL(), CredentialsJSON: cloud.Secret(fake.CredentialsJSON())}
	if s := fmt.Sprintf("%+v", o); strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("printed Options show the key: %s", s)
	}
	c, err := gcp.New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx(t), request("m1")); err != nil {
		t.Fatalf("Create with the key's content: %v", err)
	}
	o.CredentialsJSON = "not-a-key-s3cr3t"
	if _, err := gcp.New(t.Context(), o); !errors.Is(err, cloud.ErrPermission) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("gcp.New with a content that is no key: %v, want ErrPermission not quoting it", err)
	}
}

// TestCredentialsRefused: a key the token endpoint does not know (signed
// by another key) is ErrPermission with the OAuth error, and no instance.
func TestCredentialsRefused(t *testing.T) {
	fake := gcefake.New(gcefake.Options{Zones: []string{"zone-a"}})
	t.Cleanup(fake.Close)
	var sa map[string]string
	if err := json.Unmarshal(fake.CredentialsJSON(), &sa); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.Marshal(sa)
	path := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := gcp.New(t.Context(), gcp.Options{Project: fake.Project(), Zone: "zone-a", Endpoint: fake.URL(),
		CredentialsFile: path, RetryMaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Create(ctx(t), request("m1"))
	if !errors.Is(err, cloud.ErrPermission) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("Create with a refused key: %v, want ErrPermission with the token endpoint's invalid_grant", err)
	}
	if n := len(fake.Instances()); n != 0 {
		t.Errorf("%d instances made without credentials", n)
	}
	if _, err := gcp.New(t.Context(), gcp.Options{Project: "p", CredentialsFile: filepath.Join(t.TempDir(), "none.json")}); !errors.Is(err, cloud.ErrPermission) {
		t.Errorf("gcp.New with a missing credentials file: %v, want ErrPermission", err)
	}
}

// childEnv marks the process TestMissingCredentials starts.
const childEnv = "MAESTRO_GCP_MISSING_CREDENTIALS_CHILD"

// TestMissingCredentials: with no credentials anywhere, gcp.New fails
// with ErrPermission and the library's own message. Application Default
// Credentials end by probing the metadata server (169.254.169.254 and a
// DNS name), which tests must not reach: the check runs in a child
// process in a network namespace of its own with no route at all, where
// the probes fail at once without leaving this machine.
func TestMissingCredentials(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		_, err := gcp.New(t.Context(), gcp.Options{Project: "maestro-test", Endpoint: "http://127.0.0.1:1"})
		if !errors.Is(err, cloud.ErrPermission) || !strings.Contains(err.Error(), "could not find default credentials") {
			t.Fatalf("gcp.New without credentials: %v, want ErrPermission: could not find default credentials", err)
		}
		t.Logf("CHILD-OK %v", err)
		return
	}
	testreq.Root(t, "the missing-credentials check runs in a network namespace with no route (ADC probes the metadata server)")
	home := t.TempDir()
	cmd := exec.CommandContext(ctx(t), os.Args[0], "-test.run=^TestMissingCredentials$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1", "HOME="+home, "GOOGLE_APPLICATION_CREDENTIALS=", "GCE_METADATA_HOST=",
		"CLOUDSDK_CONFIG="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CHILD-OK") {
		t.Fatalf("child in a new network namespace: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "CHILD-OK") {
			t.Log(strings.TrimSpace(l))
		}
	}
}
