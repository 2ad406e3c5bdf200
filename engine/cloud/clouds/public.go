package clouds

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/aws"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
)

// Keys of the credentials secrets aws and gcp pools may name.
const (
	AWSAccessKeyIDField     = "accessKeyID"
	AWSSecretAccessKeyField = "secretAccessKey"
	AWSSessionTokenField    = "sessionToken"
	GCPCredentialsField     = "credentials.json"
)

// awsCloud builds (or reuses, while the pool's generation and credentials
// secret are unchanged) the EC2 cloud of an aws pool.
func (c *Clouds) awsCloud(ctx context.Context, pool *api.NodePool) (cloud.Cloud, error) {
	cfg := pool.Spec.AWS
	if cfg == nil {
		return nil, cloud.Errorf(cloud.ErrInvalid, api.ProviderAWS, "create", "pool %s: spec.aws: required", pool.Name)
	}
	data, version, err := c.secretData(ctx, pool, api.ProviderAWS, "spec.aws.credentialsSecretRef", cfg.CredentialsSecretRef,
		AWSAccessKeyIDField, AWSSecretAccessKeyField)
	if err != nil {
		return nil, err
	}
	return c.cached(pool, version, func() (cloud.Cloud, error) {
		o := aws.Options{Region: cfg.Region, Endpoint: cfg.Endpoint, AMI: cfg.AMI, SubnetIDs: cfg.SubnetIDs,
			SecurityGroupIDs: cfg.SecurityGroupIDs, InstanceProfile: cfg.InstanceProfile, KeyName: cfg.KeyName,
			Tags: cfg.Tags, AgentArgs: c.opts.CloudAgentArgs, Logger: c.opts.Logger.With("pool", pool.Name)}
		if data != nil {
			o.Credentials = &aws.Credentials{AccessKeyID: string(data[AWSAccessKeyIDField]),
				SecretAccessKey: cloud.Secret(data[AWSSecretAccessKeyField]), SessionToken: cloud.Secret(data[AWSSessionTokenField])}
		}
		return aws.New(ctx, o)
	})
}

// gcpCloud builds (or reuses) the Compute Engine cloud of a gcp pool.
func (c *Clouds) gcpCloud(ctx context.Context, pool *api.NodePool) (cloud.Cloud, error) {
	cfg := pool.Spec.GCP
	if cfg == nil {
		return nil, cloud.Errorf(cloud.ErrInvalid, api.ProviderGCP, "create", "pool %s: spec.gcp: required", pool.Name)
	}
	data, version, err := c.secretData(ctx, pool, api.ProviderGCP, "spec.gcp.credentialsSecretRef", cfg.CredentialsSecretRef, GCPCredentialsField)
	if err != nil {
		return nil, err
	}
	return c.cached(pool, version, func() (cloud.Cloud, error) {
		o := gcp.Options{Project: cfg.Project, Endpoint: cfg.Endpoint, Image: cfg.Image, Network: cfg.Network,
			Subnetwork: cfg.Subnetwork, ServiceAccount: cfg.ServiceAccount, Labels: cfg.Labels,
			AgentArgs: c.opts.CloudAgentArgs, Logger: c.opts.Logger.With("pool", pool.Name)}
		if data != nil {
			o.CredentialsJSON = cloud.Secret(data[GCPCredentialsField])
		}
		return gcp.New(ctx, o)
	})
}

// cached returns the pool's cloud made for its current generation and
// secret version, or makes it with build.
func (c *Clouds) cached(pool *api.NodePool, secretVersion int64, build func() (cloud.Cloud, error)) (cloud.Cloud, error) {
	key := pool.Spec.Provider + "/" + pool.Name
	c.mu.Lock()
	e, ok := c.pools[key]
	c.mu.Unlock()
	if ok && e.generation == pool.Generation && e.keyVersion == secretVersion {
		return e.cloud, nil
	}
	cl, err := build()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	old, had := c.pools[key]
	c.pools[key] = poolEntry{generation: pool.Generation, keyVersion: secretVersion, cloud: cl}
	c.mu.Unlock()
	if closer, ok := old.cloud.(io.Closer); had && ok {
		if err := closer.Close(); err != nil {
			c.opts.Logger.Debug("closing a pool's previous cloud client", "pool", pool.Name, "err", err)
		}
	}
	return cl, nil
}

// secretData reads a pool's credentials secret (in maestro-system), which
// must hold the required keys; no secret named is no data (the provider's
// default credentials).
func (c *Clouds) secretData(ctx context.Context, pool *api.NodePool, provider, field, ref string, required ...string) (map[string][]byte, int64, error) {
	if ref == "" {
		return nil, 0, nil
	}
	if c.opts.Client == nil {
		return nil, 0, fmt.Errorf("clouds: reading secret %s/%s: no API client", api.NamespaceSystem, ref)
	}
	s, err := c.opts.Client.Secrets(api.NamespaceSystem).Get(ctx, ref)
	if api.IsNotFound(err) {
		return nil, 0, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"pool %s: %s: secret %s/%s not found", pool.Name, field, api.NamespaceSystem, ref)
	}
	if err != nil {
		return nil, 0, cloud.Wrap(cloud.ErrTransient, provider, "create", err,
			fmt.Sprintf("reading secret %s/%s", api.NamespaceSystem, ref))
	}
	for _, k := range required {
		if len(s.Data[k]) == 0 {
			return nil, 0, cloud.Errorf(cloud.ErrInvalid, provider, "create", "pool %s: secret %s/%s has no %q key (has %v)",
				pool.Name, api.NamespaceSystem, ref, k, slices.Sorted(maps.Keys(s.Data)))
		}
	}
	return s.Data, s.ResourceVersion, nil
}
