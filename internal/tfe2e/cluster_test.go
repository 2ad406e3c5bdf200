package tfe2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"
	dfilters "github.com/docker/docker/api/types/filters"
	dvolume "github.com/docker/docker/api/types/volume"
	dclient "github.com/docker/docker/client"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// cluster is a running cluster and the client config file terraform and
// the maestro CLI reach it with.
type cluster struct {
	Client     *client.Client
	ConfigPath string
	// Local is the Docker-backed cluster (nil for an API-only one).
	Local  *localcluster.Cluster
	docker *dclient.Client
}

var clusterSeq atomic.Int32

// startLocalCluster runs a local cluster of n nodes on Docker, like
// localcluster's own tests do: node names, node addresses and the service
// range are unique to the test (and to this package: 127.0.2xx. and
// 10.2xx.<pid>.0/24 are used by no other package), so it coexists with
// every other cluster on the machine. The image maestro-demo:v1 the
// examples use is the demo built from this checkout.
func startLocalCluster(t testing.TB, n int) *cluster {
	t.Helper()
	testreq.Root(t, "the service proxy adds cluster IPs to a host interface")
	d := testenv.RequireDocker(t)
	pause := testenv.PauseImage(t)
	tagDemoV1(t, d)
	sum := sha256.Sum256([]byte(t.Name()))
	seq := clusterSeq.Add(1)
	if seq > 40 {
		t.Fatalf("more than 40 local clusters in one test process: the address scheme has no room")
	}
	configPath := filepath.Join(t.TempDir(), "config")
	cfg := localcluster.Config{
		DataDir: t.TempDir(), Nodes: n, Listen: "127.0.0.1:0", ClientConfigPath: configPath, UnsafeNoFsync: true,
		InfraImage: pause,
		// No maestro-demo next to the test binary: tagDemoV1 made the image.
		BinDir:        t.TempDir(),
		NodePrefix:    "tf" + hex.EncodeToString(sum[:3]) + "-",
		AddressPrefix: fmt.Sprintf("127.0.%d.", 200+seq),
		// Room for the benchmark's 100 services.
		ServiceCIDR: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(200 + seq), byte(os.Getpid()), 0}), 24),
		PodCIDR:     testenv.PodCIDR(),
		Log:         testenv.Logger(t),
		Agent: func(c *agent.Config) {
			c.RestartBackoffBase = time.Second
			c.ServerPort = 0
			c.ResyncInterval = 2 * time.Second
			c.MetricsInterval = time.Second
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	c, err := localcluster.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the local cluster: %v", err)
	}
	cl := &cluster{Client: c.Client, ConfigPath: configPath, Local: c, docker: d}
	t.Cleanup(func() {
		stopCtx, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		if err := c.Stop(stopCtx); err != nil {
			t.Errorf("stopping the local cluster: %v", err)
		}
		cancel()
		if left := cl.containers(t); len(left) > 0 {
			t.Errorf("containers left after the cluster stopped: %s", left)
		}
		cl.removePersistentVolumes(t)
	})
	return cl
}

var (
	demoTagOnce sync.Once
	demoTagErr  error
)

// tagDemoV1 points localcluster.DemoImage (maestro-demo:v1, what the
// examples run) at the demo image testenv built from this checkout.
func tagDemoV1(t testing.TB, d *dclient.Client) {
	t.Helper()
	demo := testenv.DemoImage(t)
	demoTagOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		demoTagErr = d.ImageTag(ctx, demo, localcluster.DemoImage)
	})
	if demoTagErr != nil {
		t.Fatalf("tagging %s as %s: %v", demo, localcluster.DemoImage, demoTagErr)
	}
}

// startAPIOnly runs an in-process control plane (no nodes, no Docker)
// and writes its admin client config.
func startAPIOnly(t testing.TB) *cluster {
	t.Helper()
	env := testenv.Start(t)
	path := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(path, env.Config); err != nil {
		t.Fatal(err)
	}
	return &cluster{Client: env.Client, ConfigPath: path}
}

// containers lists the Docker containers (any state) of the cluster's
// nodes, as "node/pod/container" strings.
func (c *cluster) containers(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, n := range c.Local.Nodes {
		cs, err := c.docker.ContainerList(context.Background(), dcontainer.ListOptions{All: true,
			Filters: dfilters.NewArgs(dfilters.Arg("label", runtime.LabelNode+"="+n.Name))})
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range cs {
			out = append(out, fmt.Sprintf("%s/%s/%s(%s)", n.Name, ct.Labels[runtime.LabelPodName],
				ct.Labels[runtime.LabelContainerName], ct.State))
		}
	}
	return out
}

// persistentVolumes lists the Docker volumes the nodes keep for
// persistent volumes (their data).
func (c *cluster) persistentVolumes(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []string
	for _, n := range c.Local.Nodes {
		prefix := volumes.PersistentVolumePrefix(n.Name)
		list, err := c.docker.VolumeList(ctx, dvolume.ListOptions{Filters: dfilters.NewArgs(dfilters.Arg("name", prefix))})
		if err != nil {
			t.Errorf("listing the volumes of %s: %v", n.Name, err)
			return out
		}
		for _, v := range list.Volumes {
			if strings.HasPrefix(v.Name, prefix) {
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// removePersistentVolumes removes the Docker volumes the nodes kept for
// persistent volumes (they outlive pods on purpose, not the test).
func (c *cluster) removePersistentVolumes(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range c.persistentVolumes(t) {
		if err := c.docker.VolumeRemove(ctx, name, true); err != nil {
			t.Errorf("removing volume %s: %v", name, err)
		}
	}
}

// eventually polls cond every 100ms until it holds, failing the test with
// the last state cond described after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// namespaceObjects lists the objects left in a namespace (events aside),
// as "kind/name".
func namespaceObjects(ctx context.Context, c *client.Client, ns string) ([]string, error) {
	var out []string
	add := func(kind string, names []string, err error) error {
		for _, n := range names {
			out = append(out, kind+"/"+n)
		}
		return err
	}
	listers := []struct {
		kind string
		list func() ([]string, error)
	}{
		{"deployment", func() ([]string, error) { return names(c.Deployments(ns).List(ctx, client.ListOptions{})) }},
		{"replicaset", func() ([]string, error) { return names(c.ReplicaSets(ns).List(ctx, client.ListOptions{})) }},
		{"pod", func() ([]string, error) { return names(c.Pods(ns).List(ctx, client.ListOptions{})) }},
		{"service", func() ([]string, error) { return names(c.Services(ns).List(ctx, client.ListOptions{})) }},
		{"endpoints", func() ([]string, error) { return names(c.Endpoints(ns).List(ctx, client.ListOptions{})) }},
		{"configmap", func() ([]string, error) { return names(c.ConfigMaps(ns).List(ctx, client.ListOptions{})) }},
		{"secret", func() ([]string, error) { return names(c.Secrets(ns).List(ctx, client.ListOptions{})) }},
	}
	for _, l := range listers {
		ns, err := l.list()
		if err := add(l.kind, ns, err); err != nil {
			return out, fmt.Errorf("listing %ss: %w", l.kind, err)
		}
	}
	return out, nil
}

// names is the names of a List's objects.
func names[T api.Object](objs []T, _ int64, err error) ([]string, error) {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetObjectMeta().Name)
	}
	return out, err
}

// hcl renders a template whose {{x}} placeholders are replaced from kv
// (pairs), so configurations stay readable HCL in the test source.
func hcl(template string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(template)
}
