package tfe2e_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/aws/ec2fake"
	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// cloudApply is oneApply with two more sites, "aws" and "gcp", whose hosts
// are the instances of the repository's EC2 and Compute Engine fakes
// (serving on loopback, where the control plane reaches them; an instance
// boots as a new host of its site running its user data).
type cloudApply struct {
	*oneApply
	ec2 *ec2fake.Server
	gce *gcefake.Server
}

const testAccessKey = "AKIAMAESTROTEST00001"

func newCloudApply(t *testing.T, spotNotice time.Duration) *cloudApply {
	o := newOneApply(t, "multicloud/main.tf")
	c := &cloudApply{oneApply: o}
	c.ec2 = ec2fake.New(ec2fake.Options{Booter: o.tb.Booter(o.tb.AddSite("aws")), InterruptionNotice: spotNotice,
		AccessKeys: []string{testAccessKey}})
	t.Cleanup(c.ec2.Close)
	c.gce = gcefake.New(gcefake.Options{Booter: o.tb.Booter(o.tb.AddSite("gcp")), Project: "maestro-test"})
	t.Cleanup(c.gce.Close)
	agentArgs := "--infra-image=" + testenv.PauseImage(t)
	o.vars["image"] = testenv.DemoImage(t)
	o.vars["server_args"] = jsonList([]string{
		"--ssh-machine-agent-args", agentArgs, "--cloud-machine-agent-args", agentArgs,
		"--pod-cidr", testenv.PodCIDR().String(), "--service-cidr", testenv.ServiceCIDR().String(),
	})
	o.vars["aws_endpoint"], o.vars["aws_ami"] = c.ec2.URL(), ec2fake.DefaultAMI
	o.vars["gcp_endpoint"] = c.gce.URL()
	o.vars["aws_access_key_id"] = testAccessKey
	o.vars["aws_secret_access_key"] = "maestro-test-secret-key-0001"
	o.vars["gcp_credentials_json"] = string(c.gce.CredentialsJSON())
	o.vars["ssh_size"] = "1"
	// The control plane (started by the provider under terraform) inherits
	// this: the SDKs' default chains never ask instance metadata (another
	// host) or this machine's shared files, so a pool without credentials
	// has none.
	o.w.env = append(o.w.env, "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"GOOGLE_APPLICATION_CREDENTIALS=", "GCE_METADATA_HOST=127.0.0.1:9")
	t.Cleanup(func() {
		if t.Failed() {
			for _, in := range c.ec2.Instances() {
				t.Logf("ec2 instance %s %s %s %s", in.ID, in.State, in.StateReason, in.PrivateIP)
			}
			for _, in := range c.gce.Instances() {
				t.Logf("gce instance %+v", in)
			}
		}
	})
	return c
}

// TestMultiCloudInOneApply (issue 13): from empty state one `terraform
// apply` makes the control plane and three pools, on AWS and GCP (the
// fakes, through the real SDKs) and on-prem (real OpenSSH), and the
// quickstart spread over their zones; pods run in all three clouds and
// the application answers through its service from pods in each; the
// second plan is empty; destroy leaves no instance in either fake.
func TestMultiCloudInOneApply(t *testing.T) {
	t.Parallel()
	requireOnPrem(t)
	c := newCloudApply(t, 0)
	c.setVars()

	c.w.wantPlan(2)
	r := c.w.mustApply()
	t.Logf("apply from empty state (control plane, aws + gcp + ssh pools, the application) took %s", r.took.Round(time.Second))
	c.connect()
	for _, pool := range []string{"aws", "gcp", "onprem"} {
		c.wantPoolNodes(pool, 1)
	}
	pods, _, err := c.c.Pods("app").List(t.Context(), client.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]bool{}
	for _, p := range pods {
		n, err := c.c.Nodes().Get(t.Context(), p.Spec.NodeName)
		if err != nil {
			t.Fatalf("node of pod %s: %v", p.Name, err)
		}
		pools[n.Labels[api.LabelNodePool]] = true
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range pools {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(got, []string{"aws", "gcp", "onprem"}) {
		t.Errorf("the application's pods run in pools %v, want aws, gcp and onprem", got)
	}
	url := fmt.Sprintf("http://%s:%d/", c.nodeAddress("onprem"), c.nodePort())
	c.wantServedByAllNodes(url, 3)
	if n := len(c.ec2.Instances()); n != 1 {
		t.Errorf("%d EC2 instances, want 1", n)
	}
	c.w.wantPlan(0)

	r = c.w.mustDestroy()
	t.Logf("destroy took %s", r.took.Round(time.Second))
	if n, m := c.ec2.Running(), c.gce.Running(); n != 0 || m != 0 {
		t.Errorf("after destroy: %d EC2 and %d Compute Engine instances left, want 0", n, m)
	}
	c.wantNothingLeft()
}

// TestSpotInterruption (issue 13): the EC2 fake reclaims a spot instance
// (its interruption notice, then termination) while 50 requests/s go
// through a service whose other replica runs on the pool's other spot
// instance: the machine is drained while it still runs and replaced, no
// request fails; the time until the replacement node is Ready is reported.
func TestSpotInterruption(t *testing.T) {
	t.Parallel()
	requireOnPrem(t)
	c := newCloudApply(t, 30*time.Second)
	c.vars["aws_size"], c.vars["aws_spot"], c.vars["gcp_size"], c.vars["ssh_size"] = "2", "true", "0", "0"
	c.vars["replicas"], c.vars["spread_key"] = "2", api.LabelHostname
	c.setVars()
	c.w.mustApply()
	c.connect()
	c.wantPoolNodes("aws", 2)
	before := c.poolMachines("aws")
	nodes, _, err := c.c.Nodes().List(t.Context(), client.ListOptions{LabelSelector: api.LabelNodePool + "=aws"})
	if err != nil || len(nodes) != 2 {
		t.Fatalf("aws nodes: %v (%d)", err, len(nodes))
	}
	victim, other := nodes[0], nodes[1]
	url := fmt.Sprintf("http://%s:%d/", api.NodeAddressOf(other, api.NodeInternalIP), c.nodePort())
	c.wantServedByAllNodes(url, 2)
	var id string
	for _, in := range c.ec2.Instances() {
		if in.Tags["maestro.dev/machine"] == victim.Name && in.State == "running" {
			id = in.ID
		}
	}
	if id == "" {
		t.Fatalf("no running instance of node %s in %+v", victim.Name, c.ec2.Instances())
	}
	var readyAfter time.Duration
	c.underLoad(url, "spot interruption of "+id, func() {
		start := time.Now()
		if err := c.ec2.Interrupt(id); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Minute, "a replacement aws node Ready", func() (bool, string) {
			now := c.poolMachines("aws")
			var fresh []string
			for _, m := range now {
				if !slices.Contains(before, m) {
					fresh = append(fresh, m)
				}
			}
			if len(fresh) == 0 {
				return false, fmt.Sprintf("machines %v", now)
			}
			n, err := c.c.Nodes().Get(t.Context(), fresh[0])
			if err != nil || !api.IsNodeReady(n) {
				return false, fmt.Sprintf("replacement %s: %v", fresh[0], err)
			}
			readyAfter = time.Since(start)
			return true, ""
		})
		// The load goes on until the interrupted instance is gone.
		eventually(t, 2*time.Minute, "the interrupted instance terminated", func() (bool, string) {
			for _, in := range c.ec2.Instances() {
				if in.ID == id {
					return in.State == "terminated", in.State
				}
			}
			return true, ""
		})
	})
	t.Logf("spot interruption: the replacement node was Ready %s after the notice (interruption notice 30 s)", readyAfter.Round(100*time.Millisecond))
	evs, _, err := c.c.Events("").List(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e *api.Event) bool {
		return e.Reason == api.ReasonSpotInterrupted && e.InvolvedObject.Name == victim.Name
	}) {
		t.Errorf("no %s event for machine %s", api.ReasonSpotInterrupted, victim.Name)
	}
	c.w.mustDestroy()
	if n := c.ec2.Running(); n != 0 {
		t.Errorf("%d EC2 instances left after destroy", n)
	}
}

// TestCloudPoolBadInput (issue 13): an unknown instance type, a quota
// error and missing credentials each fail the apply at once with the
// cloud's own message and the pool named, and none of the credentials
// shows; fixed, the apply converges.
func TestCloudPoolBadInput(t *testing.T) {
	t.Parallel()
	requireOnPrem(t)
	c := newCloudApply(t, 0)
	c.vars["gcp_size"], c.vars["ssh_size"], c.vars["replicas"] = "0", "0", "1"
	secret := c.vars["aws_secret_access_key"]

	c.vars["aws_instance_type"] = "x9.nonexistent"
	c.setVars()
	c.wantApplyFails("unknown instance type", `(?is)node pool "aws".*InvalidRequest.*Invalid\s+value\s+'x9.nonexistent'\s+for\s+InstanceType`, secret)

	// The account's limit is 1 instance; the pool wants 2.
	c.vars["aws_instance_type"], c.vars["aws_size"] = "t3.small", "2"
	c.ec2.MaxInstances(1)
	c.setVars()
	c.wantApplyFails("quota", `(?is)node pool "aws".*QuotaExceeded.*InstanceLimitExceeded:\s+You\s+have\s+requested\s+more\s+instances`, secret)

	// No credentials: none in the pool, none in the server's environment
	// (newCloudApply keeps the SDK off instance metadata and shared files).
	c.ec2.MaxInstances(0)
	c.vars["aws_size"] = "1"
	delete(c.vars, "aws_access_key_id")
	delete(c.vars, "aws_secret_access_key")
	c.setVars()
	c.wantApplyFails("missing credentials", `(?is)node pool "aws".*PermissionDenied.*no\s+usable\s+AWS\s+credentials`, secret)

	c.vars["aws_access_key_id"], c.vars["aws_secret_access_key"] = testAccessKey, secret
	c.vars["aws_credentials_version"], c.vars["gcp_size"] = "2", "1"
	c.setVars()
	c.w.mustApply()
	c.connect()
	c.wantPoolNodes("aws", 1)
	c.wantPoolNodes("gcp", 1)
	c.w.wantPlan(0)
	c.w.mustDestroy()
	if n, m := c.ec2.Running(), c.gce.Running(); n != 0 || m != 0 {
		t.Errorf("after destroy: %d EC2 and %d Compute Engine instances left", n, m)
	}
}
