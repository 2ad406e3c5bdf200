package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"github.com/maestro-dev/maestro/engine/network"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Capabilities tell the suite how to run the test program on a runtime and
// which optional behaviours to check.
type Capabilities struct {
	// Image holds the test program; empty for runtimes without images.
	Image string
	// Program is the test program's path as a container sees it.
	Program string
	// ImageEntrypoint says the image's entrypoint is Program, so a
	// container given only Args runs it with them.
	ImageEntrypoint bool
	// MemoryLimits says memory limits are enforced: a container going
	// over its limit is killed and reported OOMKilled.
	MemoryLimits bool
	// Labels go on every sandbox and container the suite makes.
	Labels map[string]string
	// Network is the pod network the runtime's sandboxes are attached to
	// (the runtime under test is wrapped by network.WrapRuntime); nil when
	// pods share the host's network.
	Network *network.Node
}

// Container is a config running the test program with args.
func (c Capabilities) Container(name string, args ...string) runtime.ContainerConfig {
	labels := map[string]string{}
	for k, v := range c.Labels {
		labels[k] = v
	}
	return runtime.ContainerConfig{
		Name:    name,
		Image:   c.Image,
		Command: []string{c.Program},
		Args:    args,
		Hash:    "hash-" + name,
		Labels:  labels,
	}
}

// Cluster is the cluster id of the suite's sandboxes: no agent's, so a
// cluster running on the same engine never takes them for its own, even
// on a node named like one of its nodes ("node-1").
const Cluster = "runtimetest"

// StartPod runs a sandbox for a new pod (edited by mod, if any) and removes
// it with its containers when t ends.
func StartPod(t testing.TB, r runtime.Runtime, c Capabilities, mod func(*runtime.SandboxConfig)) runtime.Sandbox {
	t.Helper()
	uid := randomHex(16)
	cfg := runtime.SandboxConfig{
		Cluster:   Cluster,
		PodUID:    uid,
		Namespace: "runtimetest",
		Name:      podName(t.Name()),
		Node:      "node-1",
		Hostname:  "pod-" + uid[:8],
		Labels:    map[string]string{},
	}
	for k, v := range c.Labels {
		cfg.Labels[k] = v
	}
	if mod != nil {
		mod(&cfg)
	}
	sb, err := r.RunSandbox(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunSandbox: %v", err)
	}
	t.Cleanup(func() { RemovePod(t, r, sb) })
	return sb
}

// RemovePod removes a sandbox and its containers; already gone is fine.
func RemovePod(t testing.TB, r runtime.Runtime, sb runtime.Sandbox) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := r.ListContainers(ctx, runtime.Filter{PodUID: sb.PodUID})
	if err != nil {
		t.Errorf("cleanup: ListContainers: %v", err)
	}
	for _, c := range cs {
		if err := r.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("cleanup: RemoveContainer: %v", err)
		}
	}
	if err := r.RemoveSandbox(ctx, sb.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("cleanup: RemoveSandbox: %v", err)
	}
}

// Start creates and starts a container.
func Start(t testing.TB, r runtime.Runtime, sb runtime.Sandbox, cfg runtime.ContainerConfig) string {
	t.Helper()
	id, err := r.CreateContainer(t.Context(), sb, cfg)
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", cfg.Name, err)
	}
	if err := r.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("StartContainer %s: %v", cfg.Name, err)
	}
	return id
}

// WaitExited waits for the container to exit.
func WaitExited(t testing.TB, r runtime.Runtime, id string) runtime.Container {
	t.Helper()
	var c runtime.Container
	eventually(t, 30*time.Second, func() bool {
		var err error
		if c, err = r.InspectContainer(t.Context(), id); err != nil {
			t.Fatalf("InspectContainer: %v", err)
		}
		return c.State == runtime.ContainerExited
	}, func() string { return "container did not exit; state " + string(c.State) })
	return c
}

// Logs returns the container's logs.
func Logs(t testing.TB, r runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.Logs(t.Context(), id, opts, &b); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	return b.String()
}

// WaitForLog waits until the container's logs contain text.
func WaitForLog(t testing.TB, r runtime.Runtime, id, text string) {
	t.Helper()
	var out string
	eventually(t, 30*time.Second, func() bool {
		out = Logs(t, r, id, runtime.LogOptions{})
		return strings.Contains(out, text)
	}, func() string { return "logs never showed " + text + "; they are:\n" + out })
}

func eventually(t testing.TB, limit time.Duration, done func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// podName turns a test name into a DNS label.
func podName(testName string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(testName) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 50 {
		s = strings.Trim(s[len(s)-50:], "-")
	}
	return s
}

func find(cs []runtime.Container, id string) (runtime.Container, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return runtime.Container{}, false
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
