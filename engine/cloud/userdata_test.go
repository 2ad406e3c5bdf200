package cloud_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// bootstrapServer serves the CA and a stand-in agent binary (a script that
// records its arguments) as the API server's bootstrap endpoints.
func bootstrapServer(t *testing.T, servedCA func(real []byte) []byte) (*httptest.Server, []byte) {
	t.Helper()
	agent := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$MAESTRO_ROOT/agent-args\"\n"
	var caPEM []byte
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+cloud.BootstrapCAPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(servedCA(caPEM))
	})
	mux.HandleFunc("GET "+cloud.BootstrapAgentPath+"linux/{arch}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("arch") != runtime.GOARCH {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(agent))
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv, caPEM
}

func runUserData(t *testing.T, script []byte) (root string, out []byte, err error) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		testreq.Missing(t, "curl not found (user data fetches with it): apt-get install curl")
	}
	root = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-s")
	cmd.Stdin = strings.NewReader(string(script))
	cmd.Env = append(os.Environ(), cloud.RootEnv+"="+root)
	out, err = cmd.CombinedOutput()
	return root, out, err
}

func TestUserDataBootsTheAgent(t *testing.T) {
	srv, caPEM := bootstrapServer(t, func(real []byte) []byte { return real })
	req := cloud.MachineRequest{Name: "web-a1", Cluster: "c1", Pool: "web", Zone: "us-east-1a",
		MachineType: "t3.small", Labels: map[string]string{"team": "a.b"}, IdempotencyKey: "uid-1",
		Bootstrap: cloud.Bootstrap{ServerURL: srv.URL, CAPEM: caPEM, JoinToken: "tok-s3cret"}}
	script, err := cloud.UserData(req, "--extra", "it's x y")
	if err != nil {
		t.Fatal(err)
	}
	root, out, err := runUserData(t, script)
	if err != nil {
		t.Fatalf("user data failed: %v\n%s", err, out)
	}
	dir := filepath.Join(root, cloud.UserDataDir)
	tok, err := os.ReadFile(filepath.Join(dir, "join-token"))
	if err != nil || string(tok) != "tok-s3cret" {
		t.Fatalf("join-token = %q, %v", tok, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "join-token")); st.Mode().Perm() != 0o600 {
		t.Errorf("join-token mode %v, want 0600", st.Mode().Perm())
	}
	if ca, _ := os.ReadFile(filepath.Join(dir, "ca.crt")); string(ca) != string(caPEM) {
		t.Errorf("ca.crt is not the served CA")
	}
	args, err := os.ReadFile(filepath.Join(root, "agent-args"))
	if err != nil {
		t.Fatalf("agent did not start: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(args)), "\n")
	want := []string{"agent", "--server", srv.URL, "--ca-file", dir + "/ca.crt",
		"--join-token-file", dir + "/join-token", "--node-name", "web-a1", "--data-dir", dir + "/data",
		"--labels", "node.maestro.dev/instance-type=t3.small,node.maestro.dev/pool=web,team=a.b,topology.maestro.dev/zone=us-east-1a",
		"--extra", "it's x y"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("agent args:\n got %q\nwant %q", got, want)
	}
}

func TestUserDataRefusesAnotherCA(t *testing.T) {
	srv, caPEM := bootstrapServer(t, func(real []byte) []byte { return append([]byte("# mallory\n"), real...) })
	req := cloud.MachineRequest{Name: "m1", Cluster: "c1", Pool: "p", IdempotencyKey: "k",
		Bootstrap: cloud.Bootstrap{ServerURL: srv.URL, CAPEM: caPEM, JoinToken: "tok-s3cret"}}
	script, err := cloud.UserData(req)
	if err != nil {
		t.Fatal(err)
	}
	root, out, err := runUserData(t, script)
	if err == nil {
		t.Fatalf("user data accepted a CA with another hash:\n%s", out)
	}
	if !strings.Contains(string(out), "refusing it") {
		t.Errorf("output does not say why: %s", out)
	}
	if _, err := os.Stat(filepath.Join(root, cloud.UserDataDir, "join-token")); err == nil {
		t.Error("join token written though the CA was refused")
	}
}

func TestUserDataRejectsABadRequest(t *testing.T) {
	_, err := cloud.UserData(cloud.MachineRequest{Name: "m1", Cluster: "c1", Pool: "p", IdempotencyKey: "k",
		Bootstrap: cloud.Bootstrap{ServerURL: "https://x:1", CAPEM: []byte("ca")}})
	if err == nil || !strings.Contains(err.Error(), "bootstrap.joinToken") {
		t.Fatalf("err = %v, want bootstrap.joinToken named", err)
	}
}
