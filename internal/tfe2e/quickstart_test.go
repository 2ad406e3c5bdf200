package tfe2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
)

// TestQuickstart applies examples/quickstart as a user would, on a
// three-node cluster like `maestro up --nodes 3`: the second plan is empty,
// a request to the frontend walks the whole chain (frontend, backend,
// store counting visits on a maestro_volume that lives where the store
// runs), and destroy leaves nothing behind: no objects in the namespace,
// no containers on the nodes, and no data (the volume's reclaim policy is
// Delete, so the agent of its node removed it).
func TestQuickstart(t *testing.T) {
	t.Parallel()
	c := startLocalCluster(t, 3)
	w := copyWorkspace(t, filepath.Join("..", "..", "examples", "quickstart"))
	w.setVar("config_path", c.ConfigPath)

	w.mustApply()
	w.wantPlan(0)

	var out struct {
		Namespace struct{ Value string }      `json:"namespace"`
		ClusterIP struct{ Value string }      `json:"frontend_cluster_ip"`
		NodePort  struct{ Value json.Number } `json:"frontend_node_port"`
	}
	res := w.run(nil, "output", "-json", "-no-color")
	if res.code != 0 {
		t.Fatalf("terraform output failed\n%s", res)
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("terraform output -json: %v\n%s", err, res.stdout)
	}
	if out.Namespace.Value != "quickstart" || out.ClusterIP.Value == "" || out.NodePort.Value == "" {
		t.Fatalf("outputs: namespace %q, frontend cluster IP %q, node port %q", out.Namespace.Value, out.ClusterIP.Value, out.NodePort.Value)
	}

	for _, tc := range []struct{ name, url string }{
		{"cluster IP", "http://" + out.ClusterIP.Value + "/"},
		{"node port", fmt.Sprintf("http://%s:%s/", c.Local.Nodes[1].Address, out.NodePort.Value)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The chain: the frontend's line, the backend's under it, the
			// store's (with its count) under that.
			want := []string{"pod=frontend-", "pod=backend-", "pod=store-", "visits="}
			eventually(t, 30*time.Second, "GET "+tc.url+" answered by the whole chain", func() (bool, string) {
				body, err := get(tc.url)
				if err != nil {
					return false, err.Error()
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						return false, fmt.Sprintf("no %q in %q", w, body)
					}
				}
				t.Logf("GET %s:\n%s", tc.url, body)
				return true, ""
			})
		})
	}

	ctx := context.Background()
	store, err := c.Client.Volumes("quickstart").Get(ctx, "quickstart-store")
	if err != nil {
		t.Fatal(err)
	}
	pods, _, err := c.Client.Pods("quickstart").List(ctx, client.ListOptions{LabelSelector: "app=store"})
	if err != nil || len(pods) != 1 || store.Status.NodeName == "" || pods[0].Spec.NodeName != store.Status.NodeName {
		t.Fatalf("the store's volume lives on %q; store pods %d (%v)", store.Status.NodeName, len(pods), err)
	}

	w.mustDestroy()
	eventually(t, time.Minute, "no objects left in namespace quickstart", func() (bool, string) {
		left, err := namespaceObjects(ctx, c.Client, "quickstart")
		if err != nil {
			return false, err.Error()
		}
		return len(left) == 0, strings.Join(left, " ")
	})
	eventually(t, time.Minute, "no containers left on the nodes", func() (bool, string) {
		left := c.containers(t)
		return len(left) == 0, strings.Join(left, " ")
	})
	if left := c.persistentVolumes(t); len(left) > 0 {
		t.Errorf("data left on the nodes after destroy: %v", left)
	}
}

// get fetches a URL on a fresh connection with a short timeout.
func get(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	return string(b), err
}
