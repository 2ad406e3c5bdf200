package apiserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func usageOf(cpu, mem string) api.ResourceList {
	return api.ResourceList{api.ResourceCPU: resource.MustParse(cpu), api.ResourceMemory: resource.MustParse(mem)}
}

func usageReport(node string, pods ...*api.Pod) *api.NodeMetricsReport {
	r := &api.NodeMetricsReport{Node: node, Timestamp: time.Now(), WindowSeconds: 10, Usage: usageOf("1", "1Gi")}
	for _, p := range pods {
		r.Pods = append(r.Pods, api.PodUsage{Namespace: p.Namespace, Name: p.Name, UID: p.UID,
			Containers: []api.ContainerMetrics{{Name: "app", Usage: usageOf("250m", "64Mi")}}})
	}
	return r
}

func TestUsageReportAuthorization(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cases := []struct {
		name     string
		client   *client.Client
		node     string
		wantCode int
	}{
		{"a node reports its own usage", env.ClientAs(t, "node", "node-1"), "node-1", 0},
		{"a node may not report for another node", env.ClientAs(t, "node", "node-1"), "node-2", http.StatusForbidden},
		{"a viewer may not report", env.ClientAs(t, "viewer", ""), "node-1", http.StatusForbidden},
		{"an admin may (simulated nodes do)", env.Client, "node-3", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.client.ReportNodeMetrics(ctx, usageReport(tc.node))
			if got := api.CodeOf(err); err != nil && got != tc.wantCode || err == nil && tc.wantCode != 0 {
				t.Fatalf("report for %s: %v (code %d), want code %d", tc.node, err, got, tc.wantCode)
			}
			t.Logf("as a user sees it: %v", err)
		})
	}
	if _, err := env.Client.NodeMetrics().Get(ctx, "node-2"); !api.IsNotFound(err) {
		t.Errorf("a refused report was stored: get node-2 = %v, want 404", err)
	}
}

func TestUsageReportValidation(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	node := env.ClientAs(t, "node", "node-1")
	cases := []struct {
		name   string
		mutate func(*api.NodeMetricsReport)
		field  string
	}{
		{"no timestamp", func(r *api.NodeMetricsReport) { r.Timestamp = time.Time{} }, "timestamp"},
		{"no window", func(r *api.NodeMetricsReport) { r.WindowSeconds = 0 }, "windowSeconds"},
		{"negative cpu", func(r *api.NodeMetricsReport) { r.Usage[api.ResourceCPU] = resource.MustParse("-1") }, `usage["cpu"]`},
		{"unknown resource", func(r *api.NodeMetricsReport) { r.Pods[0].Containers[0].Usage["gpu"] = resource.MustParse("1") }, `pods[0].containers[0].usage["gpu"]`},
		{"pod without a name", func(r *api.NodeMetricsReport) { r.Pods[0].Name = "" }, "pods[0].name"},
		{"container twice", func(r *api.NodeMetricsReport) {
			r.Pods[0].Containers = append(r.Pods[0].Containers, r.Pods[0].Containers[0])
		}, "pods[0].containers[1].name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := usageReport("node-1", &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "p"}})
			tc.mutate(r)
			err := node.ReportNodeMetrics(ctx, r)
			if !api.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want 422 naming %s", err, tc.field)
			}
			t.Logf("as a user sees it: %v", err)
		})
	}
	raw := newRaw(t, env)
	token := env.Config.Token
	resp := raw.do(t, http.MethodPost, "/v1/nodemetrics/node-1", token, "application/json", []byte(`{"node":"node-1","timestmp":"2026-01-01T00:00:00Z"}`))
	if resp.Code != http.StatusBadRequest || !strings.Contains(resp.Status.Message, "timestmp") {
		t.Errorf("unknown field: %d %s, want 400 naming it", resp.Code, resp.Body)
	}
	resp = raw.do(t, http.MethodPost, "/v1/nodemetrics/node-1", token, "application/json", []byte(`{"node":"node-2","timestamp":"2026-01-01T00:00:00Z","windowSeconds":10}`))
	if resp.Code != http.StatusBadRequest {
		t.Errorf("body for another node than the URL's: %d %s, want 400", resp.Code, resp.Body)
	}
}

func TestUsageReads(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	pods := env.Client.Pods("default")
	mk := func(name, node, app string) *api.Pod {
		p, err := pods.Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{"app": app}},
			Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Image: "demo:1"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	web1, web2, db := mk("web-1", "node-1", "web"), mk("web-2", "node-2", "web"), mk("db", "node-1", "db")
	elsewhere := mk("elsewhere", "node-2", "web")
	n1, n2 := env.ClientAs(t, "node", "node-1"), env.ClientAs(t, "node", "node-2")
	if err := n1.ReportNodeMetrics(ctx, usageReport("node-1", web1, db, elsewhere)); err != nil {
		t.Fatal(err)
	}
	if err := n2.ReportNodeMetrics(ctx, usageReport("node-2", web2)); err != nil {
		t.Fatal(err)
	}
	viewer := env.ClientAs(t, "viewer", "")

	names := func(ms []*api.PodMetrics) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	cases := []struct {
		selector string
		want     []string
	}{
		// "elsewhere" is bound to node-2 but node-1 reported it: not served.
		{"", []string{"db", "web-1", "web-2"}},
		{"app=web", []string{"web-1", "web-2"}},
		{"app=none", nil},
	}
	for _, tc := range cases {
		t.Run("selector "+tc.selector, func(t *testing.T) {
			got, err := viewer.PodMetrics("default").List(ctx, client.ListOptions{LabelSelector: tc.selector})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tc.want) {
				t.Errorf("pods = %v, want %v", names(got), tc.want)
			}
		})
	}

	m, err := viewer.PodMetrics("default").Get(ctx, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	c := m.Containers[0]
	if m.Labels["app"] != "web" || m.WindowSeconds != 10 || c.Name != "app" || c.Usage[api.ResourceCPU].String() != "250m" {
		t.Errorf("web-1 metrics = %+v", m)
	}
	if _, err := viewer.PodMetrics("default").Get(ctx, "elsewhere"); !api.IsNotFound(err) {
		t.Errorf("usage of a pod reported by a node it is not bound to: %v, want 404", err)
	}
	nodes, err := viewer.NodeMetrics().List(ctx, client.ListOptions{})
	if err != nil || len(nodes) != 2 || nodes[0].Name != "node-1" || nodes[0].Usage[api.ResourceMemory].String() != "1Gi" {
		t.Errorf("node metrics = %v, %v; want node-1 and node-2", nodes, err)
	}
	for _, who := range []struct {
		name string
		c    *client.Client
	}{{"node", n1}} {
		if _, err := who.c.NodeMetrics().List(ctx, client.ListOptions{}); !api.IsForbidden(err) {
			t.Errorf("%s reads node metrics: %v, want 403", who.name, err)
		}
		if _, err := who.c.PodMetrics("default").List(ctx, client.ListOptions{}); !api.IsForbidden(err) {
			t.Errorf("%s reads pod metrics: %v, want 403", who.name, err)
		}
	}

	// With the pods' watch cache running (agents and controllers keep it
	// so), the join reads it: a relabelled pod moves between selectors.
	w, err := pods.Watch(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cur, err := pods.Get(ctx, "web-1")
	if err != nil {
		t.Fatal(err)
	}
	cur.Labels["app"] = "api"
	if _, err := pods.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := viewer.PodMetrics("default").List(ctx, client.ListOptions{LabelSelector: "app=api"})
		if err == nil && slices.Equal(names(got), []string{"web-1"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after relabelling web-1 app=api, podmetrics app=api = %v, %v", names(got), err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A deleted Node's usage goes at once.
	if _, err := env.Client.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-2"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Nodes().Delete(ctx, "node-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.NodeMetrics().Get(ctx, "node-2"); !api.IsNotFound(err) {
		t.Errorf("usage of a deleted node: %v, want 404", err)
	}
	if _, err := viewer.PodMetrics("default").Get(ctx, "web-2"); !api.IsNotFound(err) {
		t.Errorf("usage of a pod of a deleted node: %v, want 404", err)
	}
}
