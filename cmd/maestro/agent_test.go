package main_test

import (
	"context"

	"github.com/docker/docker/api/types/container"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent/leftovers"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestAgentJoinsAndRestarts runs the real `maestro agent`: it joins with a
// join token, runs a pod in Docker, comes back after a restart without the
// token (its credential is saved), and an expired token joins nothing.
func TestAgentJoinsAndRestarts(t *testing.T) {
	d := testenv.RequireDocker(t)
	demo, pause := testenv.DemoImage(t), testenv.PauseImage(t)
	// A service range of its own: the agent runs this host's proxy and DNS,
	// beside those of any other cluster on the machine.
	c := cluster.Start(t, func(o *cluster.Options) {
		o.ControlPlane = func(cfg *controlplane.Config) { cfg.ServiceCIDR = testenv.ServiceCIDR() }
	})
	ctx := context.Background()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte(c.Config.CertificateAuthorityData), 0o600); err != nil {
		t.Fatal(err)
	}
	join, err := c.Client.CreateToken(ctx, api.TokenRequest{Role: "join", TTLSeconds: 60, Node: "joined-1", Addresses: []string{"127.0.96.1"}})
	if err != nil {
		t.Fatal(err)
	}
	const node = "joined-1"
	info, err := c.Client.ClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ct := range listNode(t, node) {
			_ = d.ContainerRemove(ctx, ct, container.RemoveOptions{Force: true})
		}
		// The agent ran in this host's namespace: its bridge and rules
		// stay (as a node's do across agent restarts) unless removed.
		if err := leftovers.RemoveNetworks(ctx, info.ClusterID, []string{node}); err != nil {
			t.Errorf("removing the node's pod network: %v", err)
		}
	})
	agentArgs := []string{"agent", "--server", c.Config.Server, "--ca-file", ca, "--node-name", node,
		"--address", "127.0.96.1", "--port", "0", "--data-dir", filepath.Join(dir, "agent"), "--infra-image", pause}
	start := func(extra ...string) *exec.Cmd {
		cmd := exec.Command(maestroBin, append(agentArgs, extra...)...)
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	first := start("--join-token", join.Token)
	waitFor(t, 30*time.Second, "node registered and ready", func() bool {
		n, err := c.Client.Nodes().Get(ctx, node)
		return err == nil && api.IsNodeReady(n)
	})
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"}, Spec: api.PodSpec{
		Containers: []api.Container{{Name: "app", Image: demo, ImagePullPolicy: api.PullNever}}}}
	if _, err := c.Client.Pods("default").Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "pod running on the joined node", func() bool {
		p, err := c.Client.Pods("default").Get(ctx, "p")
		return err == nil && p.Spec.NodeName == node && api.IsPodReady(p)
	})
	// Logs come from the agent, at the address the node was admitted with.
	var logs strings.Builder
	if err := c.Client.PodLogs(ctx, "default", "p", client.LogOptions{}, &logs); err != nil {
		t.Fatalf("logs through the joined agent: %v", err)
	}
	// The node credential is a node token: it cannot read other nodes' pods.
	creds, err := os.ReadFile(filepath.Join(dir, "agent", "credentials.json"))
	if err != nil || !strings.Contains(string(creds), "servingCertificate") {
		t.Fatalf("saved credentials: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "agent", "credentials.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode %v, want 0600", fi.Mode().Perm())
	}

	_ = first.Process.Signal(syscall.SIGTERM)
	_ = first.Wait()
	start() // no join token: the saved credential is enough
	time.Sleep(3 * time.Second)
	waitFor(t, 30*time.Second, "pod still ready, same container", func() bool {
		p, err := c.Client.Pods("default").Get(ctx, "p")
		return err == nil && api.IsPodReady(p) && p.Status.ContainerStatuses[0].RestartCount == 0
	})

	// An expired join token joins nothing.
	old, err := c.Client.CreateToken(ctx, api.TokenRequest{Role: "join", TTLSeconds: 1, Addresses: []string{"127.0.96.2"}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	out, err := exec.Command(maestroBin, "agent", "--server", c.Config.Server, "--ca-file", ca, "--node-name", "late",
		"--address", "127.0.96.2", "--data-dir", filepath.Join(dir, "late"), "--join-token", old.Token).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "invalid or expired token") {
		t.Fatalf("expired join token: %v\n%s", err, out)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listNode lists the engine's containers of a node.
func listNode(t *testing.T, node string) []string {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+runtime.LabelNode+"="+node).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}
