package machine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/machine"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

type oneCloud struct{ c cloud.Cloud }

func (o oneCloud) For(context.Context, *api.NodePool) (cloud.Cloud, error) { return o.c, nil }

// TestCreateMadeBeforeARestart: a controller that finds a Pending machine
// with a join token it did not make (an earlier leader made it and may
// have called Create before it could record the result) takes the cloud
// machine of that name instead of making a new token, which would lock
// the agent already holding the first one out.
func TestCreateMadeBeforeARestart(t *testing.T) {
	env := testenv.Start(t)
	ctx := t.Context()
	info, err := env.Client.ClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := env.Client.Machines().Create(ctx, &api.Machine{ObjectMeta: api.ObjectMeta{Name: "m1", Finalizers: []string{api.FinalizerMachine}},
		Spec: api.MachineSpec{Pool: "p", Provider: api.ProviderLocal}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "join", Node: "m1", Uses: 1, TTLSeconds: 600})
	if err != nil {
		t.Fatal(err)
	}
	m.Status = api.MachineStatus{Phase: api.MachinePending, JoinTokenID: tok.ID}
	if _, err := env.Client.Machines().UpdateStatus(ctx, m); err != nil {
		t.Fatal(err)
	}
	fake := cloudtest.NewFake()
	req := cloudtest.Request("m1", info.ClusterID, "p")
	req.IdempotencyKey = m.UID
	earlier, err := fake.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	d := controller.Deps{Client: env.Client, Log: testenv.Logger(t)}.WithDefaults()
	c := machine.New(d, machine.Config{Clouds: oneCloud{fake}, CAPEM: []byte("ca")})
	wg.Go(func() { controller.RunAll(runCtx, d, []controller.Runnable{c}) })

	cluster.Eventually(t, 10*time.Second, "the machine provisioned", func() (bool, string) {
		got, err := env.Client.Machines().Get(ctx, "m1")
		return err == nil && got.Status.Phase == api.MachineProvisioning, fmt.Sprintf("%+v %v", got.Status, err)
	})
	got, _ := env.Client.Machines().Get(ctx, "m1")
	if got.Status.ProviderID != earlier.ID || got.Status.JoinTokenID != tok.ID || len(fake.Requests()) != 1 {
		t.Fatalf("status %+v, %d creates; want the earlier machine %s, its token %s kept, no new Create",
			got.Status, len(fake.Requests()), earlier.ID, tok.ID)
	}
	tokens, _ := env.Client.ListTokens(ctx)
	kept := false
	for _, tk := range tokens {
		kept = kept || tk.ID == tok.ID
	}
	if !kept {
		t.Fatal("the earlier join token was revoked")
	}
}
