package testenv

// Docker for tests that run real containers: a client (or a loud skip),
// binaries of this module built once per test process, and the images of
// the demo application and the pause process imported from them, so no
// registry is ever needed.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// Images the tests run; both are imported from binaries built by
// BuildBinary, never pulled, under these references with the binary's
// digest appended to the tag (see testImage).
const (
	DemoImageRef  = "maestro-demo:test"
	PauseImageRef = "maestro-pause:test"
)

// labelBinarySHA256 on an imported image is the sha256 of the binary in
// it: an image whose label differs from the binary just built is stale.
const labelBinarySHA256 = "maestro.test.binary-sha256"

const dockerInstall = "install docker.io and start dockerd; `make test` does this"

// RequireDocker returns a client of the local Docker engine (API version
// negotiated), closed when the test ends. Without the docker CLI or an
// answering daemon the test fails when CI=true and is skipped loudly
// otherwise.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	RequireTool(t, "docker", dockerInstall)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := dockerClient(ctx)
	if err != nil {
		testreq.Missing(t, "docker: %s (%v)", dockerInstall, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// dockerClient connects as the docker CLI would ($DOCKER_HOST and
// friends) and checks that the daemon answers.
func dockerClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("the daemon does not answer: %w", err)
	}
	return cli, nil
}

// BuildBinary builds a main package of this module ("./cmd/maestro-demo")
// as a static Linux binary (CGO_ENABLED=0, -trimpath, -ldflags=-s -w) and
// returns its path. Each package is built once per test process, into a
// directory under os.TempDir() that every test process of this checkout
// shares (binaries are replaced atomically, so parallel `go test`
// processes do not trip over each other).
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	bin, err := builds.do(pkg, func() (string, error) { return buildBinary(pkg) })
	if err != nil {
		t.Fatalf("building %s: %v", pkg, err)
	}
	return bin
}

var builds memo

func buildBinary(pkg string) (string, error) {
	rel := path.Clean(pkg)
	if !strings.HasPrefix(pkg, "./") || rel == "." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("package %q: want a path inside the module, relative to its root, like ./cmd/maestro-demo", pkg)
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build test binaries: %w", err)
	}
	// One directory per checkout; the binary at the package's own path
	// in it (cmd/maestro-demo), so two packages never share a file.
	sum := sha256.Sum256([]byte(root))
	bin := filepath.Join(os.TempDir(), "maestro-test-bin", hex.EncodeToString(sum[:6]), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(bin), path.Base(rel)+".*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // after a failure; renamed away otherwise

	// A cold build compiles the cloud SDKs (Compute Engine's generated
	// types alone take minutes on 2 loaded cores): the bound only stops a
	// hung build.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", tmp.Name(), pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// moduleRoot is the nearest directory at or above the working directory
// holding a go.mod (a test runs in its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// DemoImage makes sure the local engine has the image of the current
// ./cmd/maestro-demo (DemoImageRef-<digest>) and returns its reference. Its entrypoint
// is /maestro-demo; flags go in the container's command.
func DemoImage(t testing.TB) string {
	t.Helper()
	return testImage(t, "./cmd/maestro-demo", DemoImageRef, "/maestro-demo")
}

// PauseImage makes sure the local engine has the image of the current
// ./cmd/maestro-pause (PauseImageRef-<digest>, entrypoint /pause) and
// returns its reference.
func PauseImage(t testing.TB) string {
	t.Helper()
	return testImage(t, "./cmd/maestro-pause", PauseImageRef, "/pause")
}

var images memo

// testImage imports the binary of pkg once per test process and returns
// its reference: ref with the binary's digest appended to the tag
// (maestro-demo:test-1a2b3c4d5e6f), so checkouts building different
// binaries (branches worked on side by side) never swap the image under
// each other's running tests. An image already there from an identical
// binary is kept; tags of other binaries unused for a day are removed.
func testImage(t testing.TB, pkg, ref, entrypoint string) string {
	t.Helper()
	cli := RequireDocker(t)
	bin := BuildBinary(t, pkg)
	tagged, err := images.do(ref, func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sum, err := fileSHA256(bin)
		if err != nil {
			return "", err
		}
		tagged := ref + "-" + sum[:12]
		if _, err := ensureImage(ctx, cli, tagged, bin, entrypoint); err != nil {
			return "", err
		}
		removeStaleTags(ctx, cli, ref, tagged, 24*time.Hour)
		return tagged, nil
	})
	if err != nil {
		t.Fatalf("making image %s: %v", ref, err)
	}
	return tagged
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// removeStaleTags removes, best effort, images tagged ref-<digest> other
// than keep and older than age; an image some container still uses stays
// (no force).
func removeStaleTags(ctx context.Context, cli *client.Client, ref, keep string, age time.Duration) {
	list, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", ref+"-*"))})
	if err != nil {
		return
	}
	for _, img := range list {
		if time.Since(time.Unix(img.Created, 0)) < age {
			continue
		}
		for _, tag := range img.RepoTags {
			if tag != keep && strings.HasPrefix(tag, ref+"-") {
				_, _ = cli.ImageRemove(ctx, tag, image.RemoveOptions{PruneChildren: true})
			}
		}
	}
}

// ensureImage returns the ID of ref, importing it from the binary at bin
// unless ref already holds that binary (by its labelBinarySHA256). The
// image it replaces is removed when no container uses it.
func ensureImage(ctx context.Context, cli *client.Client, ref, bin, entrypoint string) (string, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	old, err := cli.ImageInspect(ctx, ref)
	switch {
	case err == nil && old.Config != nil && old.Config.Labels[labelBinarySHA256] == digest:
		return old.ID, nil
	case err != nil && !cerrdefs.IsNotFound(err):
		return "", fmt.Errorf("inspecting %s: %w", ref, err)
	}
	rootfs, err := imageTar(strings.TrimPrefix(entrypoint, "/"), data)
	if err != nil {
		return "", err
	}
	changes := []string{
		fmt.Sprintf("ENTRYPOINT [%q]", entrypoint),
		fmt.Sprintf("LABEL %s=%s", labelBinarySHA256, digest),
	}
	if err := importImage(ctx, cli, ref, rootfs, changes); err != nil {
		return "", fmt.Errorf("importing %s: %w", ref, err)
	}
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("inspecting %s after import: %w", ref, err)
	}
	if img.Config == nil || img.Config.Labels[labelBinarySHA256] != digest {
		return "", fmt.Errorf("%s after import does not carry the binary's digest (another process replaced it?)", ref)
	}
	if old.ID != "" && old.ID != img.ID {
		// Best effort: a running container keeps the old image alive.
		_, _ = cli.ImageRemove(ctx, old.ID, image.RemoveOptions{PruneChildren: true})
	}
	return img.ID, nil
}

// imageTar is a root filesystem holding the binary at /name (0755) and a
// world-writable /tmp (the demo writes files there).
func imageTar(name string, binary []byte) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	entries := []struct {
		hdr  tar.Header
		data []byte
	}{
		{tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime}, nil},
		{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(binary)), ModTime: mtime}, binary},
	}
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

// importImage creates ref from a root filesystem tar (docker import) and
// reads the engine's progress stream to its end, where errors are told.
func importImage(ctx context.Context, cli *client.Client, ref string, rootfs io.Reader, changes []string) error {
	body, err := cli.ImageImport(ctx, image.ImportSource{Source: rootfs, SourceName: "-"}, ref,
		image.ImportOptions{Changes: changes})
	if err != nil {
		return err
	}
	defer body.Close()
	return readProgress(body)
}

// CleanupContainers removes (forcibly, with their anonymous volumes) every
// container carrying all of labelSelector's labels when the test ends.
// Choose labels unique to the test: containers of tests running in other
// processes match too.
func CleanupContainers(t testing.TB, labelSelector map[string]string) {
	t.Helper()
	if len(labelSelector) == 0 {
		t.Fatal("CleanupContainers: an empty label selector would remove every container")
	}
	selector := maps.Clone(labelSelector)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeContainers(ctx, selector); err != nil {
			t.Errorf("removing the test's containers (%v): %v", selector, err)
		}
	})
}

func removeContainers(ctx context.Context, selector map[string]string) error {
	cli, err := dockerClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	args := filters.NewArgs()
	for k, v := range selector {
		args.Add("label", k+"="+v)
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list {
		err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		// Gone already, or being removed by someone else: either way gone.
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("container %s: %w", c.ID[:12], err))
		}
	}
	return errors.Join(errs...)
}

// memo runs a fallible function once per key for the life of the test
// process and remembers its result (errors included: the same build
// would fail the same way again).
type memo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	once  sync.Once
	value string
	err   error
}

func (m *memo) do(key string, f func() (string, error)) (string, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]*memoEntry{}
	}
	e, ok := m.entries[key]
	if !ok {
		e = &memoEntry{}
		m.entries[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.value, e.err = f() })
	return e.value, e.err
}

// readProgress reads an engine progress stream to its end and returns the
// error it reports, if any.
func readProgress(body io.Reader) error {
	dec := json.NewDecoder(body)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading the engine's progress: %w", err)
		}
		if msg.ErrorDetail.Message != "" {
			return errors.New(msg.ErrorDetail.Message)
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}
