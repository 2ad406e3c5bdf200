package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
	"github.com/maestro-dev/maestro/engine/runtime/process"
)

// Runtime names.
const (
	RuntimeDocker  = "docker"
	RuntimeProcess = "process"
)

// Image references `maestro up` builds from the binaries next to maestro.
const (
	PauseBinary = "maestro-pause"
	DemoBinary  = "maestro-demo"
	DemoImage   = "maestro-demo:v1"
)

// newRuntime builds the runtime shared by every local node (docker); the
// process runtime is per node (see nodeRuntime).
func newRuntime(ctx context.Context, cfg Config) (runtime.Runtime, error) {
	switch cfg.Runtime {
	case "", RuntimeDocker:
		pause := filepath.Join(binDir(cfg), PauseBinary)
		if _, err := os.Stat(pause); err != nil {
			pause = "" // fine if the image exists; New says so otherwise
		}
		rt, err := docker.New(ctx, docker.Options{InfraImage: cfg.InfraImage, InfraBinary: pause,
			Log: cfg.Log.With("component", "runtime")})
		if err != nil {
			return nil, err
		}
		if err := importDemoImage(ctx, rt, cfg); err != nil {
			cfg.Log.Info("the demo image is not available", "err", err)
		}
		return rt, nil
	case RuntimeProcess:
		return nil, nil
	}
	return nil, fmt.Errorf("runtime %q: must be docker or process", cfg.Runtime)
}

// nodeRuntime is the runtime of one node.
func (n *Node) nodeRuntime() (runtime.Runtime, error) {
	if n.cluster.Runtime != nil {
		return n.cluster.Runtime, nil
	}
	return process.New(process.Options{Root: filepath.Join(n.dataDir, "process"), NodeIP: n.Address,
		Log: n.cluster.log.With("component", "runtime", "node", n.Name)})
}

// importDemoImage makes maestro-demo:v1 (a fixed tag: pulled only if missing) from the demo binary next to
// maestro, so the examples run without a registry.
func importDemoImage(ctx context.Context, rt *docker.Runtime, cfg Config) error {
	bin := filepath.Join(binDir(cfg), DemoBinary)
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s not found next to maestro (build it with `make build`)", bin)
	}
	return rt.ImportBinary(ctx, bin, DemoImage, []string{"/" + DemoBinary})
}

// ImportDemoImage builds the demo image (maestro-demo beside maestro, or in
// cfg.BinDir) into Docker, for `maestro up`'s machines to run. The process
// runtime needs no image.
func ImportDemoImage(ctx context.Context, cfg Config) error {
	if cfg.Runtime == RuntimeProcess {
		return nil
	}
	rt, err := docker.New(ctx, docker.Options{Log: cfg.Log.With("component", "runtime")})
	if err != nil {
		return err
	}
	return importDemoImage(ctx, rt, cfg)
}
