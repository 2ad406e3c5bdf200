package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// testLabels are labels unique to this test run, for CleanupContainers.
func testLabels(t *testing.T) map[string]string {
	return map[string]string{"maestro.testenv.test": fmt.Sprintf("%s-%d-%d", t.Name(), os.Getpid(), time.Now().UnixNano())}
}

// runContainer creates and starts a container on the default bridge,
// removed when the test ends, and returns its inspection.
func runContainer(t *testing.T, cli *client.Client, cfg *container.Config) container.InspectResponse {
	t.Helper()
	ctx := context.Background()
	cfg.Labels = testLabels(t)
	CleanupContainers(t, cfg.Labels)
	created, err := cli.ContainerCreate(ctx, cfg, &container.HostConfig{}, nil, nil, "")
	if err != nil {
		t.Fatalf("creating a %s container: %v", cfg.Image, err)
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("starting a %s container: %v", cfg.Image, err)
	}
	info, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// logMemory reports the container's memory use (the figures `docker
// stats` shows), for the record.
func logMemory(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	resp, err := cli.ContainerStatsOneShot(context.Background(), id)
	if err != nil {
		t.Logf("stats: %v", err)
		return
	}
	defer resp.Body.Close()
	var stats container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		t.Logf("stats: %v", err)
		return
	}
	m := stats.MemoryStats
	// rss on cgroup v1, anon on v2: the process's own memory.
	t.Logf("memory of %s: usage %d KiB, rss %d KiB, anon %d KiB, cache/file %d KiB",
		id[:12], m.Usage>>10, m.Stats["rss"]>>10, m.Stats["anon"]>>10, (m.Stats["cache"]+m.Stats["file"])>>10)
}

func TestDemoImageServesHTTP(t *testing.T) {
	cli := RequireDocker(t)
	ref := DemoImage(t)
	info := runContainer(t, cli, &container.Config{
		Image: ref,
		Env:   []string{"POD_NAME=demo-0", "POD_NAMESPACE=testenv"},
		Cmd:   []string{"--version=v9"},
	})
	bridge := info.NetworkSettings.Networks["bridge"]
	if bridge == nil || bridge.IPAddress == "" {
		t.Fatalf("container has no address on the default bridge: %+v", info.NetworkSettings.Networks)
	}
	url := "http://" + bridge.IPAddress + ":8080/"
	client := &http.Client{Timeout: time.Second}
	var body []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get(url)
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("status %d, %v", resp.StatusCode, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	want := fmt.Sprintf("pod=demo-0 namespace=testenv version=v9 host=%s\n", info.Config.Hostname)
	if string(body) != want {
		t.Errorf("GET %s = %q, want %q", url, body, want)
	}
	logMemory(t, cli, info.ID)
}

func TestPauseImageStopsPromptlyOnSIGTERM(t *testing.T) {
	cli := RequireDocker(t)
	info := runContainer(t, cli, &container.Config{Image: PauseImage(t)})
	// The signal handler is in place a few milliseconds after start; the
	// test is about shutdown, not about racing the start.
	time.Sleep(300 * time.Millisecond)
	logMemory(t, cli, info.ID)
	ctx := context.Background()
	timeout := 10 // seconds before docker falls back to SIGKILL
	start := time.Now()
	if err := cli.ContainerStop(ctx, info.ID, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	if d > 2*time.Second {
		t.Errorf("stopping took %s, want < 2s", d)
	}
	t.Logf("stopped in %s", d.Round(time.Millisecond))
	after, err := cli.ContainerInspect(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.State.Running || after.State.ExitCode != 0 {
		t.Errorf("after SIGTERM: running=%v exit code %d, want stopped with 0", after.State.Running, after.State.ExitCode)
	}
}

// TestEnsureImageReusesAndReplaces imports two fake "binaries" under one
// reference: the same binary keeps the image, a changed one replaces it
// and the stale image goes away.
func TestEnsureImageReusesAndReplaces(t *testing.T) {
	cli := RequireDocker(t)
	ctx := context.Background()
	ref := fmt.Sprintf("maestro-testenv-selftest:%d", os.Getpid())
	t.Cleanup(func() { _, _ = cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true}) })
	bin := filepath.Join(t.TempDir(), "fake")
	ensure := func(content string) string {
		t.Helper()
		if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		id, err := ensureImage(ctx, cli, ref, bin, "/fake")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := ensure("one")
	if again := ensure("one"); again != first {
		t.Errorf("same binary: image %s replaced by %s", first, again)
	}
	second := ensure("two")
	if second == first {
		t.Fatal("changed binary: image not replaced")
	}
	if _, err := cli.ImageInspect(ctx, first); !cerrdefs.IsNotFound(err) {
		t.Errorf("stale image %s still there (%v)", first, err)
	}
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(img.Config.Entrypoint, " "); got != "/fake" {
		t.Errorf("entrypoint %q, want /fake", got)
	}
}

func TestCleanupContainers(t *testing.T) {
	cli := RequireDocker(t)
	ref := PauseImage(t)
	var id string
	t.Run("registers", func(t *testing.T) {
		id = runContainer(t, cli, &container.Config{Image: ref}).ID
	})
	if _, err := cli.ContainerInspect(context.Background(), id); !cerrdefs.IsNotFound(err) {
		t.Errorf("container %s still there after its test ended (%v)", id[:12], err)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "docker.go")); err != nil {
		t.Errorf("module root %s: %v", root, err)
	}
}

func TestBuildBinaryWantsAPackageOfTheModule(t *testing.T) {
	for _, pkg := range []string{"cmd/maestro-demo", ".", "./", "./../x", "github.com/maestro-dev/maestro/cmd/maestro-demo"} {
		if _, err := buildBinary(pkg); err == nil || !strings.Contains(err.Error(), "relative to its root") {
			t.Errorf("buildBinary(%q) = %v, want a refusal", pkg, err)
		}
	}
}
