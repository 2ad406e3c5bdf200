package aws_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/aws"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// TestRealAWS creates one small instance in a real AWS account and deletes
// it. It runs only with MAESTRO_AWS_REAL_TEST=1, AWS_REGION and
// MAESTRO_AWS_AMI set and credentials in the SDK's default chain; optional:
// MAESTRO_AWS_INSTANCE_TYPE (default t3.micro), MAESTRO_AWS_ZONE,
// MAESTRO_AWS_SUBNET_ID, MAESTRO_AWS_SECURITY_GROUP_ID. The instance's
// agent cannot join (its server URL is made up): the test checks the
// instance, not the node. It costs a few minutes of a t3.micro.
func TestRealAWS(t *testing.T) {
	if os.Getenv("MAESTRO_AWS_REAL_TEST") != "1" || os.Getenv("AWS_REGION") == "" || os.Getenv("MAESTRO_AWS_AMI") == "" {
		// The one skip that is not a testreq requirement: no CI can reach AWS.
		t.Skip("!!! SKIPPING the real-AWS test: set MAESTRO_AWS_REAL_TEST=1, AWS_REGION, MAESTRO_AWS_AMI " +
			"(and credentials for the SDK's default chain) to run it; it creates and deletes one instance !!!")
	}
	o := aws.Options{Region: os.Getenv("AWS_REGION"), AMI: os.Getenv("MAESTRO_AWS_AMI"),
		Tags: map[string]string{"maestro.dev/test": t.Name()}, PollInterval: 5 * time.Second}
	if s := os.Getenv("MAESTRO_AWS_SUBNET_ID"); s != "" {
		o.SubnetIDs = []string{s}
	}
	if s := os.Getenv("MAESTRO_AWS_SECURITY_GROUP_ID"); s != "" {
		o.SecurityGroupIDs = []string{s}
	}
	c, err := aws.New(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	cluster := "maestro-test-" + strings.ToLower(uuid.NewString()[:8])
	req := cloudtest.Request("m1", cluster, "p1")
	req.Zone, req.MachineType = os.Getenv("MAESTRO_AWS_ZONE"), os.Getenv("MAESTRO_AWS_INSTANCE_TYPE")
	if req.MachineType == "" {
		req.MachineType = "t3.micro"
	}
	req.IdempotencyKey = uuid.NewString()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	m, err := c.Create(ctx, req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := c.Delete(ctx, m.ID); err != nil {
			t.Errorf("Delete(%s): %v: DELETE IT BY HAND", m.ID, err)
		}
	})
	t.Logf("created %s (%s, %s) in %v", m.ID, m.MachineType, m.Zone, time.Since(start))
	for m.State == cloud.StatePending {
		time.Sleep(5 * time.Second)
		if m, err = c.Get(ctx, m.ID); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	if m.State != cloud.StateRunning || len(m.Addresses) == 0 {
		t.Fatalf("machine %+v: want running with an address", m)
	}
	t.Logf("running after %v at %v", time.Since(start), m.Addresses)
	ms, err := c.List(ctx, cloud.Filter{Cluster: cluster})
	if err != nil || len(ms) != 1 || ms[0].ID != m.ID {
		t.Fatalf("List: %+v, %v, want only %s", ms, err, m.ID)
	}
	start = time.Now()
	if err := c.Delete(ctx, m.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	t.Logf("terminated in %v", time.Since(start))
}
