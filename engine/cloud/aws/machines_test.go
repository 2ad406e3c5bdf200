package aws_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/aws"
	"github.com/maestro-dev/maestro/engine/cloud/aws/ec2fake"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitFor polls cond until it holds or the test's context ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	c := ctx(t)
	for !cond() {
		select {
		case <-c.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestCreateRequest: what the pool configures reaches EC2 as RunInstances
// parameters, and the user data is the bootstrap script.
func TestCreateRequest(t *testing.T) {
	e := newEnv(t, func(fo *ec2fake.Options, o *aws.Options) {
		fo.Subnets = map[string]string{"subnet-0aaa": "zone-a", "subnet-0bbb": "zone-b", "subnet-0ccc": "zone-b"}
		o.SubnetIDs = []string{"subnet-0aaa", "subnet-0bbb"}
		o.SecurityGroupIDs = []string{"sg-0123"}
		o.InstanceProfile = "maestro-node"
		o.KeyName = "ops"
		o.Tags = map[string]string{"team": "infra", "Name": "overridden"}
	})
	for _, tc := range []struct {
		name, zone, typ string
		spot            bool
		wantZone        string
		wantSubnet      string
		wantType        string
	}{
		{"ZoneA", "zone-a", "t3.medium", false, "zone-a", "subnet-0aaa", "t3.medium"},
		{"ZoneBSpot", "zone-b", "", true, "zone-b", "subnet-0bbb", aws.DefaultInstanceType},
		{"AnyZone", "", "m5.large", false, "zone-a", "subnet-0aaa", "m5.large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := cloudtest.Request(strings.ToLower(tc.name), "c1", "p1")
			req.Zone, req.MachineType, req.Spot = tc.zone, tc.typ, tc.spot
			m, err := e.cloud.Create(ctx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if m.Zone != tc.wantZone || m.MachineType != tc.wantType || m.Spot != tc.spot {
				t.Errorf("machine %+v: want zone %s, type %s, spot %v", m, tc.wantZone, tc.wantType, tc.spot)
			}
			var in ec2fake.Instance
			for _, x := range e.fake.Instances() {
				if x.ID == m.ID {
					in = x
				}
			}
			wantTags := map[string]string{aws.TagCluster: "c1", aws.TagPool: "p1", aws.TagMachine: req.Name,
				"Name": req.Name, "team": "infra"}
			for k, v := range wantTags {
				if in.Tags[k] != v {
					t.Errorf("tag %s = %q, want %q (tags %v)", k, in.Tags[k], v, in.Tags)
				}
			}
			if in.Subnet != tc.wantSubnet || in.Image != ec2fake.DefaultAMI || in.Spot != tc.spot {
				t.Errorf("instance %+v: want subnet %s, AMI %s, spot %v", in, tc.wantSubnet, ec2fake.DefaultAMI, tc.spot)
			}
			script := string(e.boot.Script(m.ID))
			waitFor(t, "the instance to boot", func() bool { script = string(e.boot.Script(m.ID)); return script != "" })
			if !strings.HasPrefix(script, "#!/bin/sh") || !strings.Contains(script, cloudtest.Token) {
				t.Errorf("the instance booted with %d bytes that are not the bootstrap script", len(script))
			}
			waitFor(t, "the machine to run", func() bool {
				got, err := e.cloud.Get(ctx(t), m.ID)
				return err == nil && got.State == cloud.StateRunning && len(got.Addresses) == 1
			})
		})
	}
	req := cloudtest.Request("nowhere", "c1", "p1")
	req.Zone = "zone-c"
	if _, err := e.cloud.Create(ctx(t), req); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "zone-c") {
		t.Errorf("Create in a zone without a subnet: %v, want ErrInvalid naming the zone", err)
	}
}

// failBoot is a Booter whose instances fail to boot.
type failBoot struct{ cloudtest.NoBoot }

func (*failBoot) Boot(context.Context, string, []byte) (netip.Addr, error) {
	return netip.Addr{}, errors.New("no host for it")
}

// An instance that dies is listed as terminated (the controller replaces
// it) and deleting it is a no-op.
func TestDeadInstanceListedTerminated(t *testing.T) {
	e := newEnv(t, func(fo *ec2fake.Options, _ *aws.Options) { fo.Booter = &failBoot{} })
	m, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed boot to terminate the instance", func() bool {
		ms, err := e.cloud.List(ctx(t), cloud.Filter{Cluster: "c1", Pool: "p1"})
		return err == nil && len(ms) == 1 && ms[0].ID == m.ID && ms[0].State == cloud.StateTerminated
	})
	if err := e.cloud.Delete(ctx(t), m.ID); err != nil {
		t.Fatalf("Delete of a terminated instance: %v", err)
	}
	if logs, err := e.cloud.Logs(ctx(t), m.ID, 10); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs of a terminated instance: %q, %v, want ErrNotFound", logs, err)
	}
}

func TestSpotInterrupted(t *testing.T) {
	e := newEnv(t, func(fo *ec2fake.Options, _ *aws.Options) { fo.InterruptionNotice = time.Hour })
	req := cloudtest.Request("m1", "c1", "p1")
	req.Spot = true
	m, err := e.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	ondemand, err := e.cloud.Create(ctx(t), cloudtest.Request("m2", "c1", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	list := func() map[string]cloud.Machine {
		ms, err := e.cloud.List(ctx(t), cloud.Filter{Cluster: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]cloud.Machine{}
		for _, m := range ms {
			out[m.ID] = m
		}
		return out
	}
	if got := list(); !got[m.ID].Spot || got[m.ID].Interrupted || got[ondemand.ID].Spot {
		t.Fatalf("before the interruption: %+v", got)
	}
	if err := e.fake.Interrupt(m.ID); err != nil {
		t.Fatal(err)
	}
	if got := list(); !got[m.ID].Interrupted || got[m.ID].State == cloud.StateTerminated || got[ondemand.ID].Interrupted {
		t.Fatalf("during the interruption notice: %+v, want %s interrupted and not yet terminated", got, m.ID)
	}
	if got, err := e.cloud.Get(ctx(t), m.ID); err != nil || !got.Interrupted {
		t.Fatalf("Get during the notice: %+v, %v, want interrupted", got, err)
	}
	if err := e.fake.Reclaim(m.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the spot instance to be terminated", func() bool {
		got, err := e.cloud.Get(ctx(t), m.ID)
		return err == nil && got.State == cloud.StateTerminated
	})
	waitFor(t, "its host to be halted", func() bool { return e.boot.Running() == 1 })
	if got := list()[ondemand.ID]; got.State == cloud.StateTerminated {
		t.Errorf("the on-demand machine was terminated too")
	}
	if err := e.fake.Interrupt(ondemand.ID); err == nil {
		t.Errorf("Interrupt of an on-demand instance succeeded")
	}
}

// The user data (it holds the join token) is in no log line and no error.
func TestUserDataNeverShown(t *testing.T) {
	e := newEnv(t, nil)
	req := cloudtest.Request("m1", "c1", "p1")
	var shown []string
	m, err := e.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.FailNext("RunInstances", "InvalidParameterValue", "bad user data", 400)
	e.fake.LoseResponse("RunInstances")
	for _, r := range []cloud.MachineRequest{cloudtest.Request("m2", "c1", "p1"), cloudtest.Request("m3", "c1", "p1")} {
		if _, err := e.cloud.Create(ctx(t), r); err != nil {
			shown = append(shown, err.Error())
		}
	}
	if err := e.cloud.Delete(ctx(t), m.ID); err != nil {
		t.Fatal(err)
	}
	script, err := cloud.UserData(req)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, e.logs.String())
	for _, s := range shown {
		for _, secret := range []string{cloudtest.Token, base64.StdEncoding.EncodeToString(script)[:40]} {
			if strings.Contains(s, secret) {
				t.Errorf("the user data shows in %q", s)
			}
		}
	}
	if !strings.Contains(e.logs.String(), "machine created") {
		t.Errorf("logs %q: want the created machines", e.logs.String())
	}
}

func TestLogs(t *testing.T) {
	e := newEnv(t, nil)
	m, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the machine to run", func() bool {
		got, err := e.cloud.Get(ctx(t), m.ID)
		return err == nil && got.State == cloud.StateRunning
	})
	logs, err := e.cloud.Logs(ctx(t), m.ID, 1)
	if err != nil || !strings.Contains(logs, "running, private address 10.255.") || strings.Count(logs, "\n") != 0 {
		t.Fatalf("Logs(1) = %q, %v: want the console's last line", logs, err)
	}
}

func TestListPaginatesAndSorts(t *testing.T) {
	e := newEnv(t, func(fo *ec2fake.Options, _ *aws.Options) { fo.PageSize = 2 })
	var want []string
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		m, err := e.cloud.Create(ctx(t), cloudtest.Request(name, "c1", "p1"))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
	}
	slices.Sort(want)
	ms, err := e.cloud.List(ctx(t), cloud.Filter{Cluster: "c1", Pool: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if n := e.fake.Calls("DescribeInstances"); n != 4 {
		t.Errorf("List made %d DescribeInstances calls, want 4 pages of at most 2", n)
	}
}
