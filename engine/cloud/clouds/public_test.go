package clouds

import (
	"errors"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/aws"
	"github.com/maestro-dev/maestro/engine/cloud/aws/ec2fake"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestForCloudPools: aws and gcp pools get their cloud built from the
// pool's settings and its credentials secret (the fakes accept only those
// credentials, so a machine made proves they were used), kept while the
// pool's generation and the secret stay; a secret without its keys is
// ErrInvalid naming the missing key and showing no value.
func TestForCloudPools(t *testing.T) {
	env := testenv.Start(t)
	ctx := t.Context()
	ec2 := ec2fake.New(ec2fake.Options{AccessKeys: []string{"AKIAPOOLKEY000000001"}})
	t.Cleanup(ec2.Close)
	gce := gcefake.New(gcefake.Options{})
	t.Cleanup(gce.Close)
	res, err := New(Options{DataDir: t.TempDir(), Binary: "/bin/true", Client: env.Client})
	if err != nil {
		t.Fatal(err)
	}
	mkSecret := func(name string, data map[string][]byte) {
		t.Helper()
		s := &api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Namespace: api.NamespaceSystem}, Data: data}
		if _, err := env.Client.Secrets(api.NamespaceSystem).Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	mkSecret("nodepool-a-aws", map[string][]byte{AWSAccessKeyIDField: []byte("AKIAPOOLKEY000000001"), AWSSecretAccessKeyField: []byte("s3cr3t-aws")})
	mkSecret("nodepool-g-gcp", map[string][]byte{GCPCredentialsField: gce.CredentialsJSON()})
	mkSecret("nodepool-bad-aws", map[string][]byte{AWSAccessKeyIDField: []byte("AKIAPOOLKEY000000001")})

	awsPool := func(gen int64, secret string) *api.NodePool {
		return &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "a", Generation: gen}, Spec: api.NodePoolSpec{Provider: api.ProviderAWS,
			AWS: &api.AWSPoolConfig{Region: "us-east-1", AMI: ec2fake.DefaultAMI, Endpoint: ec2.URL(), CredentialsSecretRef: secret}}}
	}
	gcpPool := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "g", Generation: 1}, Spec: api.NodePoolSpec{Provider: api.ProviderGCP,
		GCP: &api.GCPPoolConfig{Project: gce.Project(), Image: "projects/debian-cloud/global/images/family/debian-12",
			Endpoint: gce.URL(), CredentialsSecretRef: "nodepool-g-gcp"}}}

	for _, tc := range []struct {
		pool *api.NodePool
		zone string
		want any
	}{{awsPool(1, "nodepool-a-aws"), "us-east-1a", (*aws.Cloud)(nil)}, {gcpPool, "us-central1-a", (*gcp.Cloud)(nil)}} {
		c, err := res.For(ctx, tc.pool)
		if err != nil {
			t.Fatalf("pool %s: %v", tc.pool.Name, err)
		}
		req := cloudtest.Request("m-"+tc.pool.Name, "c1", tc.pool.Name)
		req.Zone = tc.zone
		if _, err := c.Create(ctx, req); err != nil {
			t.Fatalf("pool %s (%T): create with the pool's credentials: %v", tc.pool.Name, c, err)
		}
		if again, _ := res.For(ctx, tc.pool); again != c {
			t.Errorf("pool %s: same generation and secret, a new cloud", tc.pool.Name)
		}
	}
	if ec2.Running() != 1 || gce.Running() != 1 {
		t.Errorf("instances: ec2 %d, gce %d; want 1 each", ec2.Running(), gce.Running())
	}
	first, _ := res.For(ctx, awsPool(1, "nodepool-a-aws"))
	if next, _ := res.For(ctx, awsPool(2, "nodepool-a-aws")); next == first {
		t.Error("a new pool generation kept the old cloud")
	}
	_, err = res.For(ctx, awsPool(3, "nodepool-bad-aws"))
	if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), `no "secretAccessKey" key (has [accessKeyID])`) ||
		strings.Contains(err.Error(), "AKIAPOOLKEY") {
		t.Errorf("secret without the secret key: %v", err)
	}
}
