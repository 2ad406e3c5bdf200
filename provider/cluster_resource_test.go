package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localserver"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// clusterConfig is a local maestro_cluster on a provider alias of its
// own, the default provider configured from its outputs, and what extra
// puts in the cluster through it.
func clusterConfig(dataDir, binary, extra string) string {
	return fmt.Sprintf(`
provider "maestro" {
  alias = "bootstrap"
}

resource "maestro_cluster" "c" {
  provider = maestro.bootstrap
  local {
    data_dir    = %q
    binary      = %q
    server_args = ["--log-level=debug"]
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.c.endpoint
  ca_certificate = maestro_cluster.c.ca_certificate
  token          = maestro_cluster.c.token
}
%s`, dataDir, binary, extra)
}

// One apply creates a local control plane and, through a provider
// configured from its outputs, a namespace in it; the outputs reach the
// server; a second plan is empty; the cluster imports by its data dir;
// destroy leaves no process and no data dir.
func TestAccCluster_localInOneApply(t *testing.T) {
	accEnv(t)
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	dataDir := filepath.Join(t.TempDir(), "cluster")
	var pid int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if pid != 0 && processRuns(pid) {
				return fmt.Errorf("the supervisor (pid %d) still runs after destroy", pid)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("data dir %s left behind (%v)", dataDir, err)
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: clusterConfig(dataDir, bin, namespaceConfig("made-in-one-apply")),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("maestro_cluster.c", "id", dataDir),
				resource.TestMatchResourceAttr("maestro_cluster.c", "endpoint", regexp.MustCompile(`^https://127\.0\.0\.1:[1-9][0-9]*$`)),
				resource.TestCheckResourceAttr("maestro_namespace.n", "id", "made-in-one-apply"),
				func(s *terraform.State) error {
					c, err := stateClient(s, "maestro_cluster.c")
					if err != nil {
						return err
					}
					if _, err := c.Namespaces().Get(context.Background(), "made-in-one-apply"); err != nil {
						return fmt.Errorf("the namespace is not in the cluster the outputs name: %w", err)
					}
					rec, err := localserver.Load(dataDir)
					pid = rec.PID
					return err
				},
			),
		}, {
			Config:             clusterConfig(dataDir, bin, namespaceConfig("made-in-one-apply")),
			PlanOnly:           true,
			ExpectNonEmptyPlan: false,
		}, {
			// Other server flags restart the server in place, on the
			// same data and endpoint.
			Config: strings.Replace(clusterConfig(dataDir, bin, namespaceConfig("made-in-one-apply")),
				"--log-level=debug", "--log-level=info", 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_cluster.c", plancheck.ResourceActionUpdate)},
			},
			Check: func(s *terraform.State) error {
				rec, err := localserver.Load(dataDir)
				if err != nil {
					return err
				}
				if rec.PID == pid || fmt.Sprint(rec.Args) != "[--log-level=info]" {
					return fmt.Errorf("supervisor pid %d (was %d), args %q: not restarted with the new flags", rec.PID, pid, rec.Args)
				}
				pid = rec.PID
				c, err := stateClient(s, "maestro_cluster.c")
				if err != nil {
					return err
				}
				_, err = c.Namespaces().Get(context.Background(), "made-in-one-apply")
				return err
			},
		}, {
			// A running cluster imports by its data dir, with the listen
			// address as configured (port 0), not as resolved.
			Config:            clusterConfig(dataDir, bin, namespaceConfig("made-in-one-apply")),
			ResourceName:      "maestro_cluster.c",
			ImportState:       true,
			ImportStateId:     dataDir,
			ImportStateVerify: true,
		}},
	})
}

// A server that died for good (its supervisor too) is gone from the
// refreshed state: the plan creates the cluster again, keeping what is in
// it unrefreshed (its endpoint is unknown), and the apply starts the
// server again on the data dir it left, on the same port, where those
// objects still are.
func TestAccCluster_deadServerIsRecreated(t *testing.T) {
	accEnv(t)
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	dataDir := filepath.Join(t.TempDir(), "cluster")
	config := clusterConfig(dataDir, bin, namespaceConfig("again"))
	var endpoint string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config, Check: func(s *terraform.State) error {
				endpoint = s.RootModule().Resources["maestro_cluster.c"].Primary.Attributes["endpoint"]
				return nil
			}},
			{
				PreConfig: func() {
					if err := localserver.Shutdown(dataDir, time.Minute); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("maestro_cluster.c", plancheck.ResourceActionCreate),
						// Not refreshed (the endpoint is unknown), kept.
						plancheck.ExpectResourceAction("maestro_namespace.n", plancheck.ResourceActionNoop),
					},
				},
				Check: func(s *terraform.State) error {
					c, err := stateClient(s, "maestro_cluster.c")
					if err != nil {
						return err
					}
					if c.Server() != endpoint {
						return fmt.Errorf("the endpoint moved from %s to %s: the port was free, it should have stayed", endpoint, c.Server())
					}
					_, err = c.Namespaces().Get(context.Background(), "again")
					return err // the data dir was kept: the namespace is there
				},
			},
		},
	})
}

// With the cluster not yet made, the plan of what goes in it works
// offline: its settings are unknown, the resources are planned with
// values known after apply, and nothing is asked of any server, not even
// of the one $MAESTRO_ENDPOINT and the config file name (the deployment's
// own configuration is wholly known, so a provider that fell back to them
// would ask for a placement preview).
func TestAccCluster_offlinePlanWithUnknownEndpoint(t *testing.T) {
	accEnvSerial(t) // sets the environment: not in parallel
	var requests atomic.Int32
	decoy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer decoy.Close()
	cfgPath := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(cfgPath, client.Config{Server: decoy.URL, Token: "decoy"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvEndpoint, decoy.URL)
	t.Setenv(EnvToken, "decoy")
	t.Setenv(EnvConfig, cfgPath)
	config := clusterConfig(filepath.Join(t.TempDir(), "cluster"), "/nonexistent/maestro", `
resource "maestro_namespace" "n" {
  metadata {
    name = "later"
  }
}
resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "web"
        image = "demo:v1"
      }
    }
  }
}`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:             config,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("maestro_cluster.c", plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue("maestro_cluster.c", tfjsonpath.New("endpoint")),
					plancheck.ExpectResourceAction("maestro_namespace.n", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("maestro_deployment.web", plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue("maestro_deployment.web", tfjsonpath.New("id")),
				},
			},
		}},
	})
	if n := requests.Load(); n != 0 {
		t.Errorf("the plan sent %d requests to the server of $%s and the config file; want none", n, EnvEndpoint)
	}
}

func TestValidateCluster(t *testing.T) {
	ctx := context.Background()
	list := func(v ...string) types.List {
		l, _ := types.ListValueFrom(ctx, types.StringType, v)
		return l
	}
	local := func(dir, listen string) *clusterLocalModel {
		m := &clusterLocalModel{DataDir: types.StringNull(), Listen: types.StringValue(listen)}
		if dir != "" {
			m.DataDir = types.StringValue(dir)
		}
		return m
	}
	ssh := func(hosts []string, keys []string, insecure bool) *clusterSSHModel {
		return &clusterSSHModel{Hosts: list(hosts...), HostKeys: list(keys...), InsecureIgnoreHostKey: types.BoolValue(insecure),
			PrivateKey: types.StringValue("PEM"), PrivateKeyFile: types.StringNull()}
	}
	keyed := func(m *clusterSSHModel, key, file types.String) *clusterSSHModel {
		m.PrivateKey, m.PrivateKeyFile = key, file
		return m
	}
	for _, tt := range []struct {
		name string
		m    ClusterResourceModel
		want []string // error summaries, in order
	}{
		{"local", ClusterResourceModel{Local: local("/d", "127.0.0.1:0")}, nil},
		{"neither", ClusterResourceModel{}, []string{"Missing cluster location"}},
		{"both", ClusterResourceModel{Local: local("/d", "127.0.0.1:0"), SSH: ssh([]string{"a"}, []string{"k"}, false)}, []string{"Conflicting cluster locations"}},
		{"local without data_dir", ClusterResourceModel{Local: local("", "127.0.0.1:0")}, []string{"Missing data_dir"}},
		{"local listen without port", ClusterResourceModel{Local: local("/d", "localhost")}, []string{"Invalid listen address"}},
		{"ssh two hosts, no keys", ClusterResourceModel{SSH: ssh([]string{"a", "b"}, nil, false)},
			[]string{"Wrong number of control plane hosts", "Missing host keys"}},
		{"ssh one host", ClusterResourceModel{SSH: ssh([]string{"a"}, []string{"k"}, false)}, nil},
		{"ssh three hosts", ClusterResourceModel{SSH: ssh([]string{"a", "b", "c"}, []string{"k"}, false)}, nil},
		{"ssh insecure without host keys", ClusterResourceModel{SSH: ssh([]string{"a"}, nil, true)}, nil},
		{"ssh no hosts", ClusterResourceModel{SSH: &clusterSSHModel{Hosts: types.ListNull(types.StringType), HostKeys: list("k"),
			PrivateKey: types.StringValue("PEM"), PrivateKeyFile: types.StringNull()}}, []string{"Missing hosts"}},
		{"ssh key file", ClusterResourceModel{SSH: keyed(ssh([]string{"a"}, []string{"k"}, false), types.StringNull(), types.StringValue("/k"))}, nil},
		{"ssh no key", ClusterResourceModel{SSH: keyed(ssh([]string{"a"}, []string{"k"}, false), types.StringNull(), types.StringNull())},
			[]string{"Set one private key"}},
		{"ssh both keys", ClusterResourceModel{SSH: keyed(ssh([]string{"a"}, []string{"k"}, false), types.StringValue("PEM"), types.StringValue("/k"))},
			[]string{"Set one private key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.Diagnostics
			validateCluster(ctx, &tt.m, &d)
			var got []string
			for _, e := range d.Errors() {
				got = append(got, e.Summary())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

// processRuns reports whether pid runs (a zombie does not).
func processRuns(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !regexp.MustCompile(`\) Z `).Match(b)
}

// stateClient is a client built from a maestro_cluster's outputs in state.
func stateClient(s *terraform.State, addr string) (*client.Client, error) {
	a := s.RootModule().Resources[addr].Primary.Attributes
	return client.New(client.Config{Server: a["endpoint"], Token: a["token"], CertificateAuthorityData: a["ca_certificate"]})
}

// namespaceConfig is a maestro_namespace "n" named name, for tests whose
// subject is the cluster it is made in.
func namespaceConfig(name string) string {
	return fmt.Sprintf(`
resource "maestro_namespace" "n" {
  metadata {
    name = %q
  }
}`, name)
}
