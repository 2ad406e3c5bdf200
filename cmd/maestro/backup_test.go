package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent/leftovers"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// TestBackupRestore backs a running cluster up with `maestro backup
// create`, changes it, and restores the backup with `maestro server
// --restore` into a new data directory (with the old pki directory and the
// key file kept outside the data directory): every object comes back with
// the resourceVersion it had at the backup, the secret reads back, the old
// client config works, and the node's agent, restarted, reconnects with its
// saved credential and adopts the container it left running.
func TestBackupRestore(t *testing.T) {
	if runtime.GOOS != "linux" {
		testreq.Missing(t, "the process runtime (Linux only) for the node's agent")
	}
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys", "encryption.key")
	addr := testenv.FreeAddr(t) // the restored server takes the old one's address
	data1, data2 := filepath.Join(dir, "data1"), filepath.Join(dir, "data2")
	first := runServer(t, filepath.Join(dir, "config1"), "--data-dir", data1, "--listen", addr, "--encryption-key-file", keyFile)
	c := first.client(t)
	node := fmt.Sprintf("restore-%d", os.Getpid())
	id, err := c.ClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The agent runs in this host's namespace: its bridge and rules stay
	// (as a node's do across agent restarts) unless removed. Registered
	// first, this runs after the agents have been stopped.
	t.Cleanup(func() {
		if err := leftovers.RemoveNetworks(ctx, id.ClusterID, []string{node}); err != nil {
			t.Errorf("removing the node's pod network: %v", err)
		}
	})
	agent := startProcessAgent(t, c, first.config, filepath.Join(dir, "agent"), node)
	waitNodeHeartbeat(t, c, node, time.Time{})
	containerID := populate(t, c, node)
	t.Cleanup(func() { _ = removePod(dir) })
	backup := filepath.Join(dir, "cluster.backup")
	backedUp := backUpQuietly(t, c, first.config, backup)
	info, err := c.ClusterInfo(ctx)
	if err != nil || info.ClusterID == "" {
		t.Fatalf("cluster-info before the backup: %+v, %v; want a cluster id", info, err)
	}
	changeAfterBackup(t, c)
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	<-first.exited

	// A new data directory holding only the old CA; the key file is kept
	// outside either data directory.
	if err := os.CopyFS(filepath.Join(data2, "pki"), os.DirFS(filepath.Join(data1, "pki"))); err != nil {
		t.Fatal(err)
	}
	second := runServer(t, filepath.Join(dir, "config2"), "--data-dir", data2, "--listen", addr,
		"--encryption-key-file", keyFile, "--restore", backup)
	c2 := second.client(t)
	compareObjects(t, backedUp, dumpObjects(t, c2))
	// The cluster keeps its id: its agents find their containers by it.
	if again, err := c2.ClusterInfo(ctx); err != nil || again.ClusterID != info.ClusterID {
		t.Errorf("cluster id after the restore: %+v, %v; want %s", again, err, info.ClusterID)
	}
	s, err := c2.Secrets("shop").Get(ctx, "db")
	if err != nil || string(s.Data["password"]) != "s3cret" {
		t.Fatalf("secret after the restore: %v %q", err, s.Data["password"])
	}
	if _, err := first.client(t).ConfigMaps("shop").Get(ctx, "settings"); err != nil {
		t.Fatalf("the old client config against the restored server: %v", err)
	}
	if strings.Contains(second.log.String(), "restoring without the backed-up cluster's pki") {
		t.Error("the restored server did not find the pki directory")
	}

	// The agent, which ran on through the outage, reconnects with its
	// credential (a token in the restored store) and keeps its container;
	// restarted, it adopts the container again.
	waitNodeHeartbeat(t, c2, node, time.Now())
	waitPodKept(t, c2, "pod kept by the reconnected agent", containerID)
	agent.stop(t)
	restart := time.Now()
	startProcessAgent(t, c2, "", filepath.Join(dir, "agent"), node)
	waitNodeHeartbeat(t, c2, node, restart)
	time.Sleep(2 * time.Second) // a sync pass of the restarted agent
	waitPodKept(t, c2, "pod adopted by the restarted agent", containerID)
	if out, err := exec.Command(maestroBin, "backup", "inspect", backup).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "etcd prefix:     /maestro") {
		t.Fatalf("maestro backup inspect: %v\n%s", err, out)
	}
	if err := removePod(dir); err != nil { // while the agent runs, which stops the pod's processes
		t.Errorf("removing the pod: %v", err)
	}
}

// populate creates a namespace, a config map, a secret and a pod bound to
// node, and returns the pod's container ID once it runs.
func populate(t *testing.T, c *client.Client, node string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfigMaps("shop").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "settings"},
		Data: map[string]string{"color": "blue"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Secrets("shop").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cret"}}); err != nil {
		t.Fatal(err)
	}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "sleeper"}, Spec: api.PodSpec{NodeName: node,
		Containers: []api.Container{{Name: "main", Command: []string{"sleep", "600"}}}}}
	if _, err := c.Pods("shop").Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	var containerID string
	waitFor(t, 60*time.Second, "pod running", func() bool {
		p, err := c.Pods("shop").Get(ctx, "sleeper")
		if err != nil || !api.IsPodReady(p) || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		containerID = p.Status.ContainerStatuses[0].ContainerID
		return true
	})
	return containerID
}

// backUpQuietly runs `maestro backup create` and returns the objects as
// they are in the backup: unchanged from before it was taken to after
// (else it takes it again).
func backUpQuietly(t *testing.T, c *client.Client, config, backup string) map[string]string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		before := dumpObjects(t, c)
		if out, err := exec.Command(maestroBin, "--config", config, "backup", "create", backup).CombinedOutput(); err != nil {
			t.Fatalf("maestro backup create: %v\n%s", err, out)
		}
		if after := dumpObjects(t, c); maps.Equal(before, after) {
			return after
		} else if attempt == 5 {
			t.Fatal("the cluster kept changing while it was backed up")
		}
	}
}

// changeAfterBackup makes changes the restore must undo.
func changeAfterBackup(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	cm, _ := c.ConfigMaps("shop").Get(ctx, "settings")
	cm.Data["color"] = "red"
	if _, err := c.ConfigMaps("shop").Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := c.Secrets("shop").Delete(ctx, "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "later"}}); err != nil {
		t.Fatal(err)
	}
}

// compareObjects: the restored cluster holds exactly the backed-up objects,
// byte for byte (resourceVersions included); nodes, whose agent heartbeats
// as soon as it reconnects, only by identity.
func compareObjects(t *testing.T, backedUp, restored map[string]string) {
	t.Helper()
	for key, want := range backedUp {
		got, ok := restored[key]
		if strings.HasPrefix(key, "Node ") {
			want, got = nodeUID(want), nodeUID(got)
		}
		if !ok {
			t.Errorf("%s missing after the restore", key)
		} else if got != want {
			t.Errorf("%s differs after the restore:\n got %s\nwant %s", key, got, want)
		}
	}
	for key := range restored {
		if _, ok := backedUp[key]; !ok {
			t.Errorf("%s is in the restored cluster but was not in the backup", key)
		}
	}
}

// waitNodeHeartbeat waits for node to be ready with a heartbeat after since.
func waitNodeHeartbeat(t *testing.T, c *client.Client, node string, since time.Time) {
	t.Helper()
	waitFor(t, 60*time.Second, "a heartbeat of node "+node, func() bool {
		n, err := c.Nodes().Get(context.Background(), node)
		return err == nil && api.IsNodeReady(n) && heartbeatAfter(n, since)
	})
}

// waitPodKept waits for the pod to be ready in the container it had.
func waitPodKept(t *testing.T, c *client.Client, what, containerID string) {
	t.Helper()
	waitFor(t, 30*time.Second, what, func() bool {
		p, err := c.Pods("shop").Get(context.Background(), "sleeper")
		return err == nil && api.IsPodReady(p) && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].ContainerID == containerID && p.Status.ContainerStatuses[0].RestartCount == 0
	})
}

// heartbeatAfter: the node heartbeated after t (timestamps may be whole seconds).
func heartbeatAfter(n *api.Node, t time.Time) bool {
	return api.NodeHeartbeat(n).After(t.Add(-time.Second))
}

// nodeUID is a Node's identity, without what heartbeats change.
func nodeUID(raw string) string {
	var n api.Node
	if err := json.Unmarshal([]byte(raw), &n); err != nil {
		return "not a node: " + raw
	}
	return "node " + n.Name + " uid " + n.UID
}

// agentProc is a `maestro agent` process.
type agentProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (a *agentProc) stop(t *testing.T) {
	t.Helper()
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	<-a.exited
}

// startProcessAgent runs `maestro agent` with the process runtime; with a
// client config it first joins with a new join token, without one it
// starts from its saved credential.
func startProcessAgent(t *testing.T, c *client.Client, config, dataDir, node string) *agentProc {
	t.Helper()
	args := []string{"agent", "--runtime", "process", "--proxy=false", "--node-name", node, "--address", "127.0.97.1",
		"--port", "0", "--data-dir", dataDir, "--heartbeat-interval", "1s"}
	if config != "" {
		cfg, err := client.LoadConfig(config)
		if err != nil {
			t.Fatal(err)
		}
		ca := filepath.Join(t.TempDir(), "ca.crt")
		if err := os.WriteFile(ca, []byte(cfg.CertificateAuthorityData), 0o600); err != nil {
			t.Fatal(err)
		}
		join, err := c.CreateToken(context.Background(), api.TokenRequest{Role: "join", TTLSeconds: 60, Node: node, Addresses: []string{"127.0.97.1"}})
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--server", cfg.Server, "--ca-file", ca, "--join-token", join.Token)
	}
	a := &agentProc{cmd: exec.Command(maestroBin, args...), exited: make(chan struct{})}
	log := &testenv.SyncBuffer{}
	a.cmd.Stdout, a.cmd.Stderr = log, log
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		_ = a.cmd.Process.Signal(syscall.SIGTERM)
		<-a.exited
		if t.Failed() {
			t.Logf("agent log:\n%s", log.String())
		}
	})
	return a
}

// removePod deletes the test's pod and waits until it is gone: the agent
// stops its processes first. At cleanup (a failed test) it is best effort.
func removePod(dir string) error {
	cfg := filepath.Join(dir, "config2")
	if _, err := os.Stat(cfg); err != nil {
		cfg = filepath.Join(dir, "config1")
	}
	c, err := client.FromConfigFile(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Pods("shop").Delete(ctx, "sleeper"); err != nil && !api.IsNotFound(err) {
		return err
	}
	for {
		_, err := c.Pods("shop").Get(ctx, "sleeper")
		if api.IsNotFound(err) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pod not gone within 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dumpObjects lists every object of every kind: "kind ns/name" -> its JSON
// (which holds its resourceVersion).
func dumpObjects(t *testing.T, c *client.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range api.Kinds {
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := c.Do(context.Background(), "GET", "/v1/"+k.Plural, nil, nil, &list); err != nil {
			t.Fatalf("listing %s: %v", k.Plural, err)
		}
		for _, raw := range list.Items {
			var m struct {
				Metadata api.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s %s/%s", k.Kind, m.Metadata.Namespace, m.Metadata.Name)] = string(raw)
		}
	}
	return out
}
