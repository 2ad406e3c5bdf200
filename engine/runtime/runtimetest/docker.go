package runtimetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// LabelTestRun marks every object a test makes, so a crashed run's
// leftovers can be found: docker ps -a --filter label=maestro.test.run.
const LabelTestRun = "maestro.test.run"

// RequireDocker connects to the engine with opts. When Docker is missing or
// unusable the test fails under CI=true and is skipped, loudly, otherwise.
func RequireDocker(t testing.TB, opts docker.Options) *docker.Runtime {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := docker.New(ctx, opts)
	if err != nil {
		testreq.Missing(t, "a usable Docker engine (install docker.io and start dockerd; make test does this): %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// DockerEnv is a Docker engine prepared for tests: a pod network of its
// own (a bridge and pod CIDR, see NewPodNetwork), the test program imported as an image, the pause program to build
// the infra image from, and cleanup of everything labelled with its run.
type DockerEnv struct {
	RunID   string
	Options docker.Options
	// Image runs the test program: ENTRYPOINT ["/testprog"].
	Image string
	// Runtime is a client of the env's own, for checks and helpers.
	Runtime *docker.Runtime
	// Net is the env's pod network and Pods, Runtime attached to it.
	Net  *network.Node
	Pods runtime.Runtime
}

// NewDockerEnv prepares the engine (see RequireDocker when it is missing)
// and removes what the test made when t ends.
func NewDockerEnv(t *testing.T) *DockerEnv {
	t.Helper()
	id := randomHex(4)
	e := &DockerEnv{
		RunID: id,
		Options: docker.Options{
			InfraImage: "maestro-test-pause:" + id,
			NodeIP:     "127.0.0.1",
		},
		Image: "maestro-test-testprog:" + id,
	}
	// Fail or skip before building anything when there is no engine.
	janitor := RequireDocker(t, e.Options) // closed after the cleanup below
	e.Net = NewPodNetwork(t, id)           // removed after the containers
	t.Cleanup(func() { e.cleanup(janitor.Client()) })
	e.Options.InfraBinary = BuildProgram(t, "pause")
	e.Runtime = RequireDocker(t, e.Options) // the first sandbox builds the infra image
	e.Pods = network.WrapRuntime(e.Runtime, e.Net)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Runtime.ImportBinary(ctx, BuildProgram(t, "testprog"), e.Image, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// NewRuntime is a new client over the env's engine and pod network: what
// an agent restarting on the same node would make.
func (e *DockerEnv) NewRuntime(t *testing.T) runtime.Runtime {
	return network.WrapRuntime(RequireDocker(t, e.Options), e.Net)
}

// Capabilities are the suite's settings for the docker runtime.
func (e *DockerEnv) Capabilities() Capabilities {
	return Capabilities{
		Image:           e.Image,
		Program:         "/testprog",
		ImageEntrypoint: true,
		MemoryLimits:    true,
		Labels:          map[string]string{LabelTestRun: e.RunID},
		Network:         e.Net,
	}
}

// cleanup removes the run's containers, volumes, network and images.
func (e *DockerEnv) cleanup(c *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	byRun := filters.NewArgs(filters.Arg("label", LabelTestRun+"="+e.RunID))
	if list, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: byRun}); err == nil {
		for _, ct := range list {
			_ = c.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	if vols, err := c.VolumeList(ctx, volume.ListOptions{Filters: byRun}); err == nil {
		for _, v := range vols.Volumes {
			_ = c.VolumeRemove(ctx, v.Name, true)
		}
	}
	for _, ref := range []string{e.Image, e.Options.InfraImage} {
		_, _ = c.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
