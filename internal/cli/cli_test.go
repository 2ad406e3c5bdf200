package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// run executes the CLI with a client config and returns stdout, stderr and the error.
func run(t *testing.T, configPath string, args ...string) (string, string, error) {
	t.Helper()
	root := NewRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"--config", configPath}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeConfig(t *testing.T, env *testenv.Env) string {
	path := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(path, env.Config); err != nil {
		t.Fatal(err)
	}
	return path
}

const manifest = `
kind: Namespace
metadata:
  name: shop
---
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: demo:1
        resources:
          requests: {cpu: 1000m, memory: 1Gi}
---
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
`

func TestCreateGetDelete(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	file := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, cfg, "create", "-f", file)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	for _, want := range []string{"namespace/shop created", "deployment/web created", "configmap/settings created"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = run(t, cfg, "get", "deploy", "-n", "shop")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "web ") || !strings.Contains(lines[1], "0/2") {
		t.Fatalf("get deploy table:\n%s", out)
	}

	out, _, err = run(t, cfg, "get", "deployment", "web", "-n", "shop", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d api.Deployment
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("-o json is not a deployment: %v\n%s", err, out)
	}
	if d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceCPU].String() != "1" {
		t.Errorf("cpu 1000m printed as %q, want canonical \"1\"", d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceCPU].String())
	}

	out, _, err = run(t, cfg, "get", "cm", "-n", "shop", "-o", "yaml")
	if err != nil || !strings.Contains(out, "kind: ConfigMapList") || !strings.Contains(out, "mode: fast") {
		t.Fatalf("-o yaml list: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "get", "pods", "-A")
	if err != nil {
		t.Fatal(err)
	}
	if out != "" {
		t.Errorf("no pods should print nothing on stdout, got %q", out)
	}

	out, _, err = run(t, cfg, "delete", "deploy", "web", "-n", "shop")
	if err != nil || !strings.Contains(out, "deployment/web deleted") {
		t.Fatalf("delete: %v %q", err, out)
	}
	_, errOut, err := run(t, cfg, "get", "deploy", "web", "-n", "shop")
	if err == nil || !api.IsNotFound(err) {
		t.Fatalf("get after delete: %v %s", err, errOut)
	}
}

func TestCreateReportsBadInput(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"unknown field", "kind: ConfigMap\nmetadata: {name: a}\ndat: {}\n", `unknown field "dat"`},
		{"no kind", "metadata: {name: a}\n", "kind: required"},
		{"unknown kind", "kind: Widget\nmetadata: {name: a}\n", `unknown kind "Widget"`},
		{"invalid object", "kind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: demo}]}\n", "spec.replicas: invalid value -1"},
		{"bad quantity", "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i, resources: {requests: {cpu: 12x}}}]\n", `"12x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, errOut, err := run(t, cfg, "create", "-f", file)
			if err == nil {
				t.Fatal("bad input accepted")
			}
			if msg := err.Error() + errOut; !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
	list, _, err := env.Client.Deployments("default").List(context.Background(), client.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("bad input stored objects: %d %v", len(list), err)
	}
}

func TestClearErrorsWithoutAServer(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none")
	_, _, err := run(t, missing, "get", "pods")
	if err == nil || !strings.Contains(err.Error(), "no maestro client config at "+missing) || !strings.Contains(err.Error(), "maestro server") {
		t.Fatalf("missing config: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(cfg, client.Config{Server: "https://127.0.0.1:1", Token: "a.b"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, cfg, "get", "pods")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the maestro API server at https://127.0.0.1:1") {
		t.Fatalf("unreachable server: %v", err)
	}
	_, _, err = run(t, cfg, "get", "widgets")
	if err == nil || !strings.Contains(err.Error(), `unknown kind "widgets"`) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	out, _, err := run(t, cfg, "token", "create", "--role", "viewer", "--description", "dashboards")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	if !strings.Contains(token, ".") {
		t.Fatalf("token create printed %q", out)
	}
	out, _, err = run(t, cfg, "token", "list")
	if err != nil || !strings.Contains(out, "viewer") || !strings.Contains(out, "dashboards") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if strings.Contains(out, strings.SplitN(token, ".", 2)[1]) {
		t.Fatal("token list shows a secret")
	}
	// The viewer token works for reads and not for writes.
	viewerCfg := filepath.Join(t.TempDir(), "viewer")
	vc := env.Config
	vc.Token = token
	if err := client.WriteConfig(viewerCfg, vc); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, viewerCfg, "get", "ns"); err != nil {
		t.Fatalf("viewer get: %v", err)
	}
	if _, _, err := run(t, viewerCfg, "delete", "ns", "shop"); err == nil {
		t.Fatal("viewer delete succeeded")
	}

	// A join token for one machine: its name, its address, its pool.
	out, _, err = run(t, cfg, "token", "create", "--role", "join", "--node", "worker-7", "--uses", "2",
		"--address", "10.0.0.7", "--labels", "node.maestro.dev/pool=gpu", "--description", "pool gpu")
	if err != nil {
		t.Fatalf("join token create: %v\n%s", err, out)
	}
	id := strings.SplitN(strings.TrimSpace(out), ".", 2)[0]
	tokens, err := env.Client.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		if tk.ID == id && (tk.Node != "worker-7" || tk.UsesLeft != 2 || len(tk.Addresses) != 1 || tk.Addresses[0] != "10.0.0.7" ||
			tk.Labels[api.LabelNodePool] != "gpu" || tk.Expires == nil) {
			t.Errorf("join token stored as %+v", tk)
		}
	}
	out, _, err = run(t, cfg, "token", "list")
	if err != nil || !strings.Contains(out, "USES LEFT") || !regexp.MustCompile(id+`\s+join\s+worker-7\s+2\s`).MatchString(out) {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if _, errOut, err := run(t, cfg, "token", "create", "--role", "join", "--address", "not-an-ip"); err == nil || !strings.Contains(errOut+err.Error(), "addresses[0]") {
		t.Fatalf("join token for a bad address: %v %s", err, errOut)
	}
}

func TestGetServices(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	svcs := env.Client.Services("default")
	web, err := svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.ServiceSpec{
		Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
		Ports: []api.ServicePort{{Name: "http", Port: 80}, {Name: "dns", Port: 53, Protocol: api.ProtocolUDP, NodePort: 30053}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "db"}, Spec: api.ServiceSpec{
		ClusterIP: "None", Selector: map[string]string{"app": "db"}, Ports: []api.ServicePort{{Port: 5432}}}}); err != nil {
		t.Fatal(err)
	}
	// web: two ready addresses in two subsets and one that is not ready.
	addr := func(ip string) api.EndpointAddress { return api.EndpointAddress{IP: ip} }
	if _, err := env.Client.Endpoints("default").Create(ctx, &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "web"}, Subsets: []api.EndpointSubset{
		{Addresses: []api.EndpointAddress{addr("10.1.0.1")}, NotReadyAddresses: []api.EndpointAddress{addr("10.1.0.3")}, Ports: []api.EndpointPort{{Port: 8080}}},
		{Addresses: []api.EndpointAddress{addr("10.1.0.2")}, Ports: []api.EndpointPort{{Port: 8081}}},
	}}); err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, cfg, "get", "services")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		rows[f[0]] = f
	}
	want := map[string][]string{
		"NAME": {"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS", "AGE"},
		"web":  {"web", "NodePort", web.Spec.ClusterIP, fmt.Sprintf("80:%d/TCP,53:30053/UDP", web.Spec.Ports[0].NodePort), "2"},
		"db":   {"db", "ClusterIP", "None", "5432/TCP", "<none>"},
	}
	if len(rows) != len(want) {
		t.Fatalf("get services:\n%s", out)
	}
	for name, w := range want {
		if got := rows[name]; len(got) < len(w) || !slices.Equal(got[:len(w)], w) {
			t.Errorf("row %s = %q, want it to start with %q\n%s", name, got, w, out)
		}
	}

	out, _, err = run(t, cfg, "get", "svc", "-A")
	if err != nil || !strings.HasPrefix(out, "NAMESPACE") || !regexp.MustCompile(`(?m)^default\s+web\s+NodePort\s+\S+\s+\S+\s+2\s`).MatchString(out) {
		t.Errorf("get svc -A: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "get", "svc", "db")
	if err != nil || !regexp.MustCompile(`(?m)^db\s+ClusterIP\s+None\s+5432/TCP\s+<none>\s`).MatchString(out) {
		t.Errorf("get svc db: %v\n%s", err, out)
	}
}

// maestro up and down name the flag of a bad cluster name; down of a
// cluster that is not running says where it looked and touches nothing.
func TestUpDownNames(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, args := range [][]string{{"up", "--name", "Bad_Name"}, {"down", "--name", "a_b"}, {"up", "--name", strings.Repeat("a", 21)}} {
		if _, _, err := run(t, filepath.Join(t.TempDir(), "config"), args...); err == nil || !strings.Contains(err.Error(), "--name") {
			t.Errorf("maestro %s: %v; want an error naming --name", strings.Join(args, " "), err)
		}
	}
	out, _, err := run(t, filepath.Join(t.TempDir(), "config"), "down", "--name", "staging")
	if err != nil || !strings.Contains(out, filepath.Join(os.Getenv("HOME"), ".maestro", "up-staging")) {
		t.Errorf("maestro down --name staging with nothing running: %q, %v; want it to name ~/.maestro/up-staging", out, err)
	}
}

// liveCluster starts an in-process cluster for a CLI test and returns it
// with the path of a client config that reaches it.
func liveCluster(t *testing.T, opts ...cluster.Option) (*cluster.Cluster, string) {
	t.Helper()
	c := cluster.Start(t, opts...)
	return c, clientConfig(t, c)
}

// clientConfig writes a client config for c and returns its path.
func clientConfig(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(cfg, c.Config); err != nil {
		t.Fatal(err)
	}
	return cfg
}
