package cli

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// What a user reads in the CLI while the real node pool and machine
// controllers work (on a fake cloud whose machines join as simulated
// nodes): a pool becoming Ready with its machines and nodes, then a scale
// up the cloud refuses, with the cloud's message on the pool, the machine
// and its events.
func TestPoolInTheCLI(t *testing.T) {
	t.Parallel()
	fake := cloudtest.NewFake()
	cl := cluster.Start(t, cluster.FakeCloud(fake))
	cl.JoinMachines(t, fake, nil)
	cfg := filepath.Join(t.TempDir(), "config")
	if err := client.WriteConfig(cfg, cl.Config); err != nil {
		t.Fatal(err)
	}
	cliShows := func(what, re string, args ...string) string {
		t.Helper()
		var out string
		r := regexp.MustCompile(re)
		cluster.Eventually(t, 30*time.Second, what, func() (bool, string) {
			var err error
			out, _, err = run(t, cfg, args...)
			return err == nil && r.MatchString(out), out
		})
		return out
	}
	if _, err := cl.Client.NodePools().Create(cl.Ctx, &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "edge"},
		Spec: api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: 0, MaxSize: 5, Size: api.Ptr[int32](2)}}); err != nil {
		t.Fatal(err)
	}
	cliShows("the pool Ready", `(?m)^edge\s+local\s+2\s+2\s+2\s+0\s+5\s+Ready\s`, "get", "np")
	cliShows("two running machines with nodes", `(?m)^(edge-\S+)\s+edge\s+local\s+Running\s+edge-\S+\s.*\n(edge-\S+)\s+edge\s+local\s+Running\s`, "get", "ma")
	cliShows("the nodes in the pool", `(?m)^edge-\S+\s+Ready\s+edge\s(.|\n)*^edge-\S+\s+Ready\s+edge\s`, "get", "nodes")
	cliShows("the pool's description", `(?ms)^  Ready\s+True\s.*^Pool Machines:\n  NAME.*\n  edge-\S+\s+edge\s+local\s+Running.*\n  edge-\S+\s+edge\s+local\s+Running.*\n^Events:\n  TYPE.*\n  Normal\s`,
		"describe", "nodepool", "edge")

	const msg = "ssh root@10.0.0.9:22: authentication failed: no supported methods remain"
	fake.FailCreates(cloud.Errorf(cloud.ErrInvalid, "ssh", "create", "%s", msg))
	for {
		p, err := cl.Client.NodePools().Get(cl.Ctx, "edge")
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.Size = api.Ptr[int32](3)
		if _, err = cl.Client.NodePools().Update(cl.Ctx, p); !api.IsConflict(err) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	cliShows("the pool failing, with the cloud's message", `(?m)^edge\s+local\s+3\s+2\s+3\s+0\s+5\s+InvalidRequest\s+\S+\s+3\s+<none>\s+<none>\s+machine edge-\S+: .*`+regexp.QuoteMeta(msg)+`$`,
		"get", "np", "-o", "wide")
	out := cliShows("the failing machine", `(?m)^(edge-\S+)\s+edge\s+local\s+Pending\s.*\s`+regexp.QuoteMeta(msg)+`$`, "get", "ma", "-o", "wide")
	failing := regexp.MustCompile(`(?m)^(edge-\S+)\s+edge\s+local\s+Pending\s`).FindStringSubmatch(out)[1]
	cliShows("the failing machine's description", `(?ms)^  Provisioned\s+False\s+InvalidRequest\s+.*`+regexp.QuoteMeta(msg)+`$.*^Events:\n  TYPE.*\n  Warning\s+InvalidRequest\s.*`+regexp.QuoteMeta(msg),
		"describe", "machine", failing)
}
