package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
	"github.com/maestro-dev/maestro/engine/runtime/runtimetest"
)

func TestDocker(t *testing.T) {
	env := runtimetest.NewDockerEnv(t)
	caps := env.Capabilities()
	runtimetest.Run(t, env.NewRuntime, caps)

	r := env.Runtime
	tests := []struct {
		name string
		run  func(t *testing.T, r *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities)
	}{
		{"SharedNetworkNamespace", testSharedNetwork},
		{"SandboxIPFromHost", testSandboxIP},
		{"HostPorts", testHostPorts},
		{"HostNetwork", testHostNetwork},
		{"HostnameAndDNS", testHostnameAndDNS},
		{"Limits", testLimits},
		{"NamedVolume", testNamedVolume},
		{"ReadOnlyBindMount", testReadOnlyBind},
		{"EnsureImage", testEnsureImage},
		{"Security", testSecurity},
		{"ImportAndLoad", testImportAndLoad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, r, env, caps)
		})
	}
}

func testSharedNetwork(t *testing.T, r *docker.Runtime, _ *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	sb := runtimetest.StartPod(t, r, caps, nil)
	srv := runtimetest.Start(t, r, sb, caps.Container("server", "-listen", "127.0.0.1:8080", "-sleep", "1h"))
	runtimetest.WaitForLog(t, r, srv, "listening")
	cli := runtimetest.Start(t, r, sb, caps.Container("client", "-get", "http://127.0.0.1:8080/"))
	c := runtimetest.WaitExited(t, r, cli)
	logs := runtimetest.Logs(t, r, cli, runtime.LogOptions{})
	if c.ExitCode != 0 || !strings.Contains(logs, "hello from "+"pod-"+sb.PodUID[:8]) {
		t.Errorf("client in the same pod: exit %d, logs %q; want the server's answer with the pod's hostname", c.ExitCode, logs)
	}
}

// The pod network's address reaches the pod from the host.
func testSandboxIP(t *testing.T, _ *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	r := env.Pods
	sb := runtimetest.StartPod(t, r, caps, nil)
	srv := runtimetest.Start(t, r, sb, caps.Container("server", "-listen", ":8080", "-sleep", "1h"))
	runtimetest.WaitForLog(t, r, srv, "listening")
	body := get(t, "http://"+net.JoinHostPort(sb.IP, "8080")+"/")
	if !strings.HasPrefix(body, "hello from") {
		t.Errorf("GET from the host = %q", body)
	}
}

// Host ports are published by the pod network (DNAT), on the address asked.
func testHostPorts(t *testing.T, _ *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	r := env.Pods
	port := freePort(t, "127.0.0.2")
	sb := runtimetest.StartPod(t, r, caps, func(c *runtime.SandboxConfig) {
		c.Ports = []runtime.PortMapping{{HostIP: "127.0.0.2", HostPort: int32(port), ContainerPort: 8080, Protocol: api.ProtocolTCP}}
	})
	srv := runtimetest.Start(t, r, sb, caps.Container("server", "-listen", ":8080", "-sleep", "1h"))
	runtimetest.WaitForLog(t, r, srv, "listening")
	if body := get(t, fmt.Sprintf("http://127.0.0.2:%d/", port)); !strings.HasPrefix(body, "hello from") {
		t.Errorf("GET on the published port = %q", body)
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
		t.Errorf("the port is published on 127.0.0.1 too; want only the node address 127.0.0.2")
	}
}

func testHostNetwork(t *testing.T, r *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	sb := runtimetest.StartPod(t, r, caps, func(c *runtime.SandboxConfig) {
		c.HostNetwork = true
		c.DNS = &runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Options: []string{"ndots:5"}} // ClusterFirstWithHostNet
	})
	if sb.IP != env.Options.NodeIP {
		t.Errorf("host-network sandbox IP = %q, want the node's %q", sb.IP, env.Options.NodeIP)
	}
	port := freePort(t, "127.0.0.1")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srv := runtimetest.Start(t, r, sb, caps.Container("server", "-listen", addr, "-sleep", "1h"))
	runtimetest.WaitForLog(t, r, srv, "listening")
	if body := get(t, "http://"+addr+"/"); !strings.HasPrefix(body, "hello from") {
		t.Errorf("GET on the host's loopback = %q", body)
	}
	// No embedded resolver on the host network: the servers are written as given.
	id := runtimetest.Start(t, r, sb, caps.Container("dns", "-read-file", "/etc/resolv.conf"))
	runtimetest.WaitExited(t, r, id)
	if logs := runtimetest.Logs(t, r, id, runtime.LogOptions{}); !strings.Contains(logs, "nameserver 10.96.0.10") {
		t.Errorf("host-network resolv.conf:\n%s\nwant nameserver 10.96.0.10", logs)
	}
}

func testHostnameAndDNS(t *testing.T, r *docker.Runtime, _ *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	sb := runtimetest.StartPod(t, r, caps, func(c *runtime.SandboxConfig) {
		c.Hostname = "web-0"
		c.DNS = &runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}}
	})
	id := runtimetest.Start(t, r, sb, caps.Container("dns", "-print-hostname", "-read-file", "/etc/resolv.conf"))
	runtimetest.WaitExited(t, r, id)
	logs := runtimetest.Logs(t, r, id, runtime.LogOptions{})
	// Without Docker networking there is no embedded resolver: the
	// servers are written as given.
	for _, want := range []string{"hostname=web-0", "nameserver 10.96.0.10", "search ns.svc.cluster.local svc.cluster.local", "options ndots:5"} {
		if !strings.Contains(logs, want) {
			t.Errorf("app container's hostname and resolv.conf:\n%s\nwant %q", logs, want)
		}
	}
	in, err := r.Client().ContainerInspect(t.Context(), sb.ID)
	if err != nil || !slices.Equal(in.HostConfig.DNS, []string{"10.96.0.10"}) {
		t.Errorf("sandbox DNS servers = %v (%v), want [10.96.0.10]", in.HostConfig.DNS, err)
	}
}

func testLimits(t *testing.T, r *docker.Runtime, _ *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	sb := runtimetest.StartPod(t, r, caps, nil)
	cfg := caps.Container("limited", "-sleep", "1h")
	cfg.Resources = runtime.Resources{CPURequestMilli: 250, CPULimitMilli: 500, MemoryLimit: 64 << 20}
	id, err := r.CreateContainer(t.Context(), sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := r.Client().ContainerInspect(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	hc := in.HostConfig
	if hc.NanoCPUs != 500_000_000 || hc.CPUShares != 256 || hc.Memory != 64<<20 || hc.MemorySwap != 64<<20 {
		t.Errorf("NanoCPUs %d, CPUShares %d, Memory %d, MemorySwap %d; want 5e8, 256, 64Mi, 64Mi",
			hc.NanoCPUs, hc.CPUShares, hc.Memory, hc.MemorySwap)
	}
	if want := "container:" + sb.ID; string(hc.NetworkMode) != want || string(hc.IpcMode) != want {
		t.Errorf("network %q, ipc %q; want both %q", hc.NetworkMode, hc.IpcMode, want)
	}
}

func testNamedVolume(t *testing.T, r *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	vol := "maestro-test-vol-" + env.RunID
	t.Cleanup(func() { _ = r.Client().VolumeRemove(context.Background(), vol, true) })
	sb := runtimetest.StartPod(t, r, caps, nil)
	mount := []runtime.Mount{{VolumeName: vol, ContainerPath: "/data"}}

	w := caps.Container("writer", "-write-file", "/data/f=kept")
	w.Mounts = mount
	id := runtimetest.Start(t, r, sb, w)
	if c := runtimetest.WaitExited(t, r, id); c.ExitCode != 0 {
		t.Fatalf("writer: exit %d: %s", c.ExitCode, runtimetest.Logs(t, r, id, runtime.LogOptions{}))
	}
	if err := r.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	rd := caps.Container("reader", "-read-file", "/data/f")
	rd.Mounts = mount
	id = runtimetest.Start(t, r, sb, rd)
	runtimetest.WaitExited(t, r, id)
	if got := runtimetest.Logs(t, r, id, runtime.LogOptions{}); got != "kept" {
		t.Errorf("after the writer's removal the volume holds %q, want %q", got, "kept")
	}
	v, err := r.Client().VolumeInspect(t.Context(), vol)
	if err != nil || v.Labels[runtimetest.LabelTestRun] != env.RunID || v.Labels[runtime.LabelManaged] != "true" {
		t.Errorf("volume %+v, %v; want it labelled", v, err)
	}
	// Removal: refused while a container uses the volume, then done, then
	// a no-op.
	if err := r.RemoveVolume(t.Context(), vol); err == nil {
		t.Error("removed a volume a container uses")
	}
	if err := r.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := r.RemoveVolume(t.Context(), vol); err != nil {
			t.Fatalf("removal %d: %v", i+1, err)
		}
	}
	if _, err := r.Client().VolumeInspect(t.Context(), vol); err == nil {
		t.Error("the volume is still there")
	}
}

func testReadOnlyBind(t *testing.T, r *docker.Runtime, _ *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := runtimetest.StartPod(t, r, caps, nil)
	mount := []runtime.Mount{{HostPath: dir, ContainerPath: "/in", ReadOnly: true}}
	rd := caps.Container("reader", "-read-file", "/in/f")
	rd.Mounts = mount
	id := runtimetest.Start(t, r, sb, rd)
	runtimetest.WaitExited(t, r, id)
	if got := runtimetest.Logs(t, r, id, runtime.LogOptions{}); got != "from host" {
		t.Errorf("read %q through the bind mount", got)
	}
	wr := caps.Container("writer", "-write-file", "/in/g=x")
	wr.Mounts = mount
	id = runtimetest.Start(t, r, sb, wr)
	c := runtimetest.WaitExited(t, r, id)
	logs := runtimetest.Logs(t, r, id, runtime.LogOptions{})
	if c.ExitCode == 0 || !strings.Contains(logs, "read-only file system") {
		t.Errorf("write to a read-only mount: exit %d, %q", c.ExitCode, logs)
	}
}

func testEnsureImage(t *testing.T, r *docker.Runtime, env *runtimetest.DockerEnv, _ runtimetest.Capabilities) {
	ctx := t.Context()
	// Present and IfNotPresent: no pull (a pull of this local-only image would fail).
	for _, p := range []api.PullPolicy{api.PullIfNotPresent, api.PullNever, ""} {
		if err := r.EnsureImage(ctx, env.Image, p, nil); err != nil {
			t.Errorf("EnsureImage(present, %q) = %v", p, err)
		}
	}
	var ie *runtime.ImageError
	missing := "maestro-test-missing:" + env.RunID
	if err := r.EnsureImage(ctx, missing, api.PullNever, nil); !errors.As(err, &ie) || ie.Reason != docker.ReasonErrImageNeverPull {
		t.Errorf("EnsureImage(missing, Never) = %v, want ErrImageNeverPull", err)
	}
	for _, tc := range []struct {
		image  string
		policy api.PullPolicy
	}{
		{"registry.maestro-test.invalid/nothing:1", api.PullIfNotPresent},
		{env.Image, api.PullAlways}, // present, but Always must pull
	} {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		start := time.Now()
		err := r.EnsureImage(ctx, tc.image, tc.policy, nil)
		cancel()
		if !errors.As(err, &ie) || ie.Reason != api.ReasonErrImagePull || ie.Message == "" || ie.Image != tc.image {
			t.Errorf("EnsureImage(%s, %s) = %v, want an ErrImagePull ImageError", tc.image, tc.policy, err)
			continue
		}
		if took := time.Since(start); took > 35*time.Second {
			t.Errorf("the failed pull took %v, past its deadline", took)
		}
		t.Logf("engine's message: %s", ie.Message)
	}
	// A pull that cannot finish is cut by the context.
	ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := r.EnsureImage(ctx, "registry.maestro-test.invalid/slow:1", api.PullAlways, nil); !errors.As(err, &ie) || ie.Reason != api.ReasonErrImagePull {
		t.Errorf("EnsureImage past its deadline = %v, want ErrImagePull", err)
	}
}

func testImportAndLoad(t *testing.T, r *docker.Runtime, env *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	ctx := t.Context()
	ref := "maestro-test-roundtrip:" + env.RunID
	t.Cleanup(func() {
		_, _ = r.Client().ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	if err := r.ImportBinary(ctx, runtimetest.BuildProgram(t, "testprog"), ref, []string{"/testprog", "-print", "imported"}); err != nil {
		t.Fatal(err)
	}
	rc, err := r.Client().ImageSave(ctx, []string{ref})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Client().ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.ImageExists(ctx, ref); ok || err != nil {
		t.Fatalf("ImageExists after removal = %v, %v", ok, err)
	}
	refs, err := r.LoadArchive(ctx, bytes.NewReader(archive))
	if err != nil || !slices.Contains(refs, ref) {
		t.Fatalf("LoadArchive = %v, %v; want [%s]", refs, err, ref)
	}
	if ok, err := r.ImageExists(ctx, ref); !ok || err != nil {
		t.Fatalf("ImageExists after load = %v, %v", ok, err)
	}
	// The loaded image runs its entrypoint.
	sb := runtimetest.StartPod(t, r, caps, nil)
	cfg := caps.Container("loaded")
	cfg.Image, cfg.Command = ref, nil
	id := runtimetest.Start(t, r, sb, cfg)
	runtimetest.WaitExited(t, r, id)
	if got := runtimetest.Logs(t, r, id, runtime.LogOptions{}); got != "imported\n" {
		t.Errorf("loaded image printed %q", got)
	}
	if _, err := r.LoadArchive(ctx, strings.NewReader("not a tar")); err == nil {
		t.Errorf("LoadArchive of garbage succeeded")
	}
}

func TestNewFailsClearly(t *testing.T) {
	_, err := docker.New(t.Context(), docker.Options{Host: "unix://" + filepath.Join(t.TempDir(), "nope.sock")})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Docker engine at unix://") || !strings.Contains(err.Error(), "(is dockerd running?)") {
		t.Errorf("New with no engine = %v", err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for range 50 {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

func freePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The security settings reach the process: its ids, a read-only root, no
// capabilities and no_new_privs; runAsNonRoot refuses the root image.
func testSecurity(t *testing.T, r *docker.Runtime, _ *runtimetest.DockerEnv, caps runtimetest.Capabilities) {
	sb := runtimetest.StartPod(t, r, caps, nil)
	sec := runtime.Security{RunAsUser: api.Ptr[int64](1000), RunAsGroup: api.Ptr[int64](3000), ReadOnlyRootFilesystem: true,
		NoNewPrivileges: true, CapDrop: []string{"ALL"}}
	rd := caps.Container("status", "-read-file", "/proc/self/status")
	rd.Security = sec
	id := runtimetest.Start(t, r, sb, rd)
	runtimetest.WaitExited(t, r, id)
	status := runtimetest.Logs(t, r, id, runtime.LogOptions{})
	for _, want := range []string{`(?m)^Uid:\s+1000\s+1000\s+1000\s+1000$`, `(?m)^Gid:\s+3000\s`, `(?m)^CapEff:\s+0+$`, `(?m)^NoNewPrivs:\s+1$`} {
		if !regexp.MustCompile(want).MatchString(status) {
			t.Errorf("/proc/self/status does not match %s:\n%s", want, status)
		}
	}
	wr := caps.Container("writer", "-write-file", "/f=x")
	wr.Security = sec
	id = runtimetest.Start(t, r, sb, wr)
	c := runtimetest.WaitExited(t, r, id)
	if logs := runtimetest.Logs(t, r, id, runtime.LogOptions{}); c.ExitCode == 0 || !strings.Contains(logs, "read-only file system") {
		t.Errorf("write to a read-only root: exit %d, %q", c.ExitCode, logs)
	}
	root := caps.Container("root")
	root.Security = runtime.Security{RunAsNonRoot: true}
	if _, err := r.CreateContainer(t.Context(), sb, root); !errors.Is(err, runtime.ErrConfig) || !strings.Contains(err.Error(), "runs as root") {
		t.Errorf("runAsNonRoot with a root image: %v, want an ErrConfig saying it runs as root", err)
	}
}
