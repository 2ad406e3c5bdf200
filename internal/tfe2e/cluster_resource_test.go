package tfe2e_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localserver"
)

var (
	maestroOnce sync.Once
	maestroErr  error
)

// maestroBesideProvider builds the maestro binary into the provider's
// directory, where maestro_cluster looks for it by default (and
// maestro-pause beside it, as `make build` does).
func maestroBesideProvider(t testing.TB) {
	t.Helper()
	dir := providerBinaryDir(t)
	maestroOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// maestro-pause too: agents build their infra image from it.
		for _, name := range []string{"maestro", "maestro-pause"} {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), "github.com/maestro-dev/maestro/cmd/"+name)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				maestroErr = fmt.Errorf("go build of %s: %w\n%s", name, err, out)
				return
			}
		}
	})
	if maestroErr != nil {
		t.Fatal(maestroErr)
	}
}

// decoyEnv is a server that counts requests, named by $MAESTRO_ENDPOINT
// and by a client config in $MAESTRO_CONFIG: a provider that fell back
// to either would reach it.
func decoyEnv(t testing.TB) (env []string, requests *atomic.Int32) {
	requests = &atomic.Int32{}
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(decoy.Close)
	cfg := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(cfg, client.Config{Server: decoy.URL, Token: "decoy"}); err != nil {
		t.Fatal(err)
	}
	return []string{"MAESTRO_ENDPOINT=" + decoy.URL, "MAESTRO_TOKEN=decoy", "MAESTRO_CONFIG=" + cfg}, requests
}

// The cluster examples plan from empty state without any cluster (and
// without any cloud): the control plane, pools and application are all to
// create, what comes from the cluster is known after apply, each pool's
// plan warning says what happens to its machines, no server is asked, and
// the ssh private key and the cloud credentials are nowhere in the plan.
func TestClusterExamplesPlanOffline(t *testing.T) {
	t.Parallel()
	const keyMaterial = "c2VjcmV0LWtleS1tYXRlcmlhbA"
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"+keyMaterial+"\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		example string
		vars    map[string]string
		want    []string
	}{
		{"cluster-local", nil, []string{
			`maestro_cluster.local will be created`, `endpoint = (known after apply)`,
			`Warning: Impact: maestro_node_pool pool-a`, `create 2 machines`, `Warning: Impact: maestro_node_pool pool-b`, `create 2 machines`,
			`maestro_deployment.frontend will be created`,
		}},
		{"cluster-onprem", map[string]string{
			"advertise_address": "10.0.0.1",
			"edge_hosts":        `{"10.0.0.5"="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl","10.0.0.6"="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJm"}`,
			"core_hosts":        `{"10.0.1.5"="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJn"}`,
			"private_key_path":  keyFile,
		}, []string{
			`maestro_cluster.cp will be created`, `endpoint = (known after apply)`,
			`Warning: Impact: maestro_node_pool edge`, `create 2 machines`, `Warning: Impact: maestro_node_pool core`, `create 1 machine`,
			`private_key = (write-only attribute)`, `maestro_service.frontend will be created`,
		}},
		{"cluster-multicloud", map[string]string{
			"advertise_address":     "203.0.113.10",
			"aws_ami":               "ami-0123456789abcdef0",
			"aws_spot":              "true",
			"aws_access_key_id":     "AKIAEXAMPLEKEYID0001",
			"aws_secret_access_key": keyMaterial + "-aws",
			"gcp_project":           "acme",
			"gcp_image":             "projects/acme/global/images/family/debian-12-docker",
			"gcp_credentials_json":  `{"type":"service_account","private_key":"` + keyMaterial + `-gcp"}`,
			"onprem_hosts":          `{"10.0.0.5"="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"}`,
			"private_key_path":      keyFile,
		}, []string{
			`maestro_cluster.cp will be created`, `endpoint = (known after apply)`,
			`Warning: Impact: maestro_node_pool aws`, `create 2 machines`, `Warning: Impact: maestro_node_pool gcp`, `create 2 machines`, `Warning: Impact: maestro_node_pool onprem`, `create 1 machine`,
			`region = "us-east-1"`, `instance_type = "t3.medium"`, `spot = true`, `project = "acme"`, `machine_type = "e2-medium"`,
			`access_key_id = (write-only attribute)`, `secret_access_key = (write-only attribute)`, `credentials_json = (write-only attribute)`,
			`private_key = (write-only attribute)`, `maestro_service.frontend will be created`,
		}},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			w := copyWorkspace(t, filepath.Join("..", "..", "examples", tc.example))
			for k, v := range tc.vars {
				w.setVar(k, v)
			}
			env, requests := decoyEnv(t)
			r := w.plan(env...)
			if r.code != 2 {
				t.Fatalf("plan: want exit 2 (changes), got %d\n%s", r.code, r)
			}
			out := flatten(r.output())
			for _, want := range tc.want {
				if !strings.Contains(out, flatten(want)) {
					t.Errorf("plan output lacks %q\n%s", want, r)
				}
			}
			if strings.Contains(r.output(), keyMaterial) {
				t.Errorf("the private key or cloud credentials are in the plan output")
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the plan sent %d requests to the server of $MAESTRO_ENDPOINT and $MAESTRO_CONFIG; want none", n)
			}
		})
	}
}

// localClusterConfig is a local maestro_cluster in {{data}} and a
// namespace in it, through a provider configured from its outputs.
const localClusterConfig = `
terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}
provider "maestro" {
  alias = "bootstrap"
}
resource "maestro_cluster" "c" {
  provider = maestro.bootstrap
  local {
    data_dir = "{{data}}"
  }
}
provider "maestro" {
  endpoint       = maestro_cluster.c.endpoint
  ca_certificate = maestro_cluster.c.ca_certificate
  token          = maestro_cluster.c.token
}
resource "maestro_namespace" "n" {
  metadata {
    name = "outlives"
  }
}
output "config" {
  value     = { server = maestro_cluster.c.endpoint, ca = maestro_cluster.c.ca_certificate, token = maestro_cluster.c.token }
  sensitive = true
}
`

// maestro_cluster with the maestro binary beside the provider: the server
// outlives the terraform run that made it (the next plan finds it, and is
// empty), a namespace is made through a provider configured from its
// outputs in the same apply, the outputs reach the server, and destroy
// leaves no process and no data dir.
func TestClusterLocalOutlivesTerraform(t *testing.T) {
	t.Parallel()
	maestroBesideProvider(t)
	dataDir := filepath.Join(t.TempDir(), "cluster")
	w := newWorkspace(t, map[string]string{"main.tf": hcl(localClusterConfig, "{{data}}", dataDir)})
	t.Logf("apply took %s", w.mustApply().took)
	rec, err := localserver.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan took %s", w.wantPlan(0).took)

	c, _ := w.configClient()
	if _, err := c.Namespaces().Get(context.Background(), "outlives"); err != nil {
		t.Fatalf("the namespace is not in the cluster the outputs name: %v", err)
	}

	t.Logf("destroy took %s", w.mustDestroy().took)
	if processRuns(rec.PID) {
		t.Errorf("the supervisor (pid %d) runs after destroy", rec.PID)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir left after destroy: %v", err)
	}
}

// processRuns reports whether pid runs; a zombie (exited, not yet reaped
// by init) does not.
func processRuns(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// An ssh pool's private key (write-only, from an ephemeral variable) is
// in no plan, apply output, trace log or state; it reached the secret the
// pool names.
func TestNodePoolKeyNeverLogged(t *testing.T) {
	t.Parallel()
	c := startAPIOnly(t)
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nk3y-Sentinel-4d9a0c\n-----END OPENSSH PRIVATE KEY-----\n"
	w := newWorkspace(t, map[string]string{"main.tf": providerBlock + `
variable "ssh_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "maestro_node_pool" "onprem" {
  name           = "onprem"
  size           = 1
  wait_for_ready = false # no controllers here
  ssh {
    hosts               = ["10.0.0.5"]
    host_keys           = ["10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]
    private_key         = var.ssh_key
    private_key_version = 1
  }
}
`})
	w.setVar("config_path", c.ConfigPath)
	forms := append(base64Forms("k3y-Sentinel-4d9a0c"), base64Forms(key)...)
	applyNeverLeaks(t, w, []string{"TF_VAR_ssh_key=" + key}, "maestro_node_pool", forms, forms)

	sec, err := c.Client.Secrets(api.NamespaceSystem).Get(context.Background(), "nodepool-onprem-ssh")
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["privateKey"]) != key {
		t.Errorf("secret %s/nodepool-onprem-ssh does not hold the key", api.NamespaceSystem)
	}
}

// BenchmarkClusterLocalApply measures `terraform apply` of a local
// control plane and a namespace in it from empty state (apply-s; of it,
// cluster-create-s for maestro_cluster: server start to /readyz) and
// `terraform destroy` (destroy-s). Run it with -benchtime 5x.
func BenchmarkClusterLocalApply(b *testing.B) {
	maestroBesideProvider(b)
	var apply, create, destroy float64
	for i := range b.N {
		dataDir := filepath.Join(b.TempDir(), "cluster"+strconv.Itoa(i))
		w := newWorkspace(b, map[string]string{"main.tf": hcl(localClusterConfig, "{{data}}", dataDir)})
		r := w.mustApply()
		apply += r.took.Seconds()
		create += meanTook(b, r, "maestro_cluster", "Creation")
		destroy += w.mustDestroy().took.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(apply/n, "apply-s")
	b.ReportMetric(create/n, "cluster-create-s")
	b.ReportMetric(destroy/n, "destroy-s")
	b.ReportMetric(0, "ns/op")
}
