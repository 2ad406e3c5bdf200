package aws

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/maestro-dev/maestro/engine/cloud"
)

const provider = "aws"

// Tags every machine carries; List filters on the first two.
const (
	TagCluster = "maestro.dev/cluster"
	TagPool    = "maestro.dev/pool"
	TagMachine = "maestro.dev/machine"
)

// DefaultInstanceType is the instance type of a request without one.
const DefaultInstanceType = "t3.small"

// Options configure a Cloud.
type Options struct {
	// Credentials, when set, are the static keys every call is signed
	// with; nil: the SDK's default chain (environment, shared config and
	// credentials files, SSO, web identity, container and instance roles).
	Credentials *Credentials
	// Region; empty: the default chain's (AWS_REGION, the profile's).
	Region string
	// Endpoint overrides EC2's endpoint URL; empty: the SDK's resolution
	// (which honours AWS_ENDPOINT_URL_EC2).
	Endpoint string
	// AMI is the image every machine boots (ImageId).
	AMI string
	// SubnetIDs: a machine is launched in the one of them in its zone
	// (none: the zone's default subnet).
	SubnetIDs        []string
	SecurityGroupIDs []string
	// InstanceProfile is an IAM instance profile name or ARN.
	InstanceProfile string
	KeyName         string
	// Tags are added to every instance.
	Tags map[string]string
	// AgentArgs are extra `maestro agent` arguments in the user data.
	AgentArgs []string
	// HTTPClient replaces the SDK's HTTP client.
	HTTPClient *http.Client
	// RetryMaxAttempts (default 3) and RetryMaxBackoff (default 20 s) tune
	// the SDK's standard retryer, which retries throttling, 5xx and lost
	// connections with jittered exponential backoff.
	RetryMaxAttempts int
	RetryMaxBackoff  time.Duration
	// PollInterval is how often Delete looks whether its instance is
	// terminated (default 2 s).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Credentials are an access key (a pool's credentials secret).
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey cloud.Secret
	SessionToken    cloud.Secret // optional: temporary credentials
}

// Cloud is the aws cloud.Cloud: a machine is an EC2 instance.
type Cloud struct {
	opts Options
	ec2  *ec2.Client
	log  *slog.Logger

	mu      sync.Mutex
	subnets map[string]string // subnet ID -> zone, of Options.SubnetIDs, once read
}

var (
	_ cloud.Cloud     = (*Cloud)(nil)
	_ cloud.LogReader = (*Cloud)(nil)
)

// New returns a Cloud for o. It makes no call: missing credentials show
// on the first one, as an ErrPermission carrying the SDK's message.
func New(ctx context.Context, o Options) (*Cloud, error) {
	if o.RetryMaxAttempts <= 0 {
		o.RetryMaxAttempts = retry.DefaultMaxAttempts
	}
	if o.RetryMaxBackoff <= 0 {
		o.RetryMaxBackoff = retry.DefaultMaxBackoff
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	loads := []func(*config.LoadOptions) error{
		config.WithRetryer(func() sdk.Retryer { return newRetryer(o) }),
	}
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if k := o.Credentials; k != nil {
		loads = append(loads, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			k.AccessKeyID, k.SecretAccessKey.Reveal(), k.SessionToken.Reveal())))
	}
	if o.HTTPClient != nil {
		loads = append(loads, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, cloud.Wrap(cloud.ErrPermission, provider, "configure", err, "loading the AWS configuration")
	}
	if cfg.Region == "" {
		return nil, cloud.Errorf(cloud.ErrInvalid, provider, "configure",
			"region: none set (the pool's region, AWS_REGION or the profile's region)")
	}
	client := ec2.NewFromConfig(cfg, func(eo *ec2.Options) {
		if o.Endpoint != "" {
			eo.BaseEndpoint = sdk.String(o.Endpoint)
		}
	})
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cloud{opts: o, ec2: client, log: log.With("cloud", provider, "region", cfg.Region)}, nil
}

// newRetryer is the SDK's standard retryer with o's attempts and backoff,
// without its client-side retry quota (a controller retries on its own
// schedule: a quota shared by every call would turn a burst of throttling
// into failures of unrelated calls), and never retrying a lack of capacity
// (EC2 answers it with HTTP 500, but the next zone is the remedy).
func newRetryer(o Options) sdk.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.RetryMaxAttempts
		so.MaxBackoff = o.RetryMaxBackoff
		so.RateLimiter = ratelimit.None
		so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) sdk.Ternary {
			if kind, _ := classify(err); kind == cloud.ErrCapacity {
				return sdk.FalseTernary
			}
			return sdk.UnknownTernary
		})}, so.Retryables...)
	})
}

// clientToken is RunInstances' idempotency token for key: EC2 takes at most
// 64 ASCII characters, so a longer or non-ASCII key becomes its SHA-256.
func clientToken(key string) string {
	ascii := !strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e })
	if len(key) <= 64 && ascii {
		return key
	}
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// Create implements cloud.Cloud: RunInstances with the request's client
// token, so a repeated or retried Create launches no second instance.
func (c *Cloud) Create(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, error) {
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("aws: create %q: %w", req.Name, err)
	}
	if err := req.Validate(); err != nil {
		return cloud.Machine{}, err
	}
	in, err := c.runInput(ctx, req)
	if err != nil {
		return cloud.Machine{}, err
	}
	out, err := c.ec2.RunInstances(ctx, in)
	if err != nil {
		if code, _ := apiCode(err); code == "IdempotentParameterMismatch" {
			return c.byClientToken(ctx, req, err)
		}
		return cloud.Machine{}, mapError(err, "create", "machine "+req.Name)
	}
	if len(out.Instances) != 1 {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrTransient, provider, "create",
			"machine %s: RunInstances returned %d instances, want 1", req.Name, len(out.Instances))
	}
	m := machine(out.Instances[0])
	if !req.SameRequest(m) {
		return cloud.Machine{}, keyReused(req, m)
	}
	c.log.Info("machine created", "machine", m.ID, "name", m.Name, "cluster", m.Cluster, "pool", m.Pool,
		"zone", m.Zone, "type", m.MachineType, "spot", m.Spot)
	return m, nil
}

// byClientToken handles IdempotentParameterMismatch: the token launched an
// instance from other parameters. If that instance is req's machine (the
// same name, cluster and pool: only its user data, which holds a fresh join
// token, differs), it is the answer; otherwise the key was reused.
func (c *Cloud) byClientToken(ctx context.Context, req cloud.MachineRequest, mismatch error) (cloud.Machine, error) {
	ms, err := c.describe(ctx, "create", &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: sdk.String("client-token"), Values: []string{clientToken(req.IdempotencyKey)}},
	}})
	if err != nil {
		return cloud.Machine{}, err
	}
	for _, m := range ms {
		if req.SameRequest(m) {
			return m, nil
		}
		return cloud.Machine{}, keyReused(req, m)
	}
	return cloud.Machine{}, mapError(mismatch, "create", "machine "+req.Name)
}

func keyReused(req cloud.MachineRequest, m cloud.Machine) error {
	return cloud.Errorf(cloud.ErrInvalid, provider, "create",
		"idempotencyKey: already used by instance %s (%s/%s/%s), not %s/%s/%s",
		m.ID, m.Cluster, m.Pool, m.Name, req.Cluster, req.Pool, req.Name)
}

// runInput is RunInstances' input for req. Its UserData holds the join
// token: it is never logged.
func (c *Cloud) runInput(ctx context.Context, req cloud.MachineRequest) (*ec2.RunInstancesInput, error) {
	userData, err := cloud.UserData(req, c.opts.AgentArgs...)
	if err != nil {
		return nil, err
	}
	typ := req.MachineType
	if typ == "" {
		typ = DefaultInstanceType
	}
	in := &ec2.RunInstancesInput{
		MinCount: sdk.Int32(1), MaxCount: sdk.Int32(1),
		ImageId:          optional(c.opts.AMI),
		InstanceType:     types.InstanceType(typ),
		UserData:         sdk.String(base64.StdEncoding.EncodeToString(userData)),
		ClientToken:      sdk.String(clientToken(req.IdempotencyKey)),
		KeyName:          optional(c.opts.KeyName),
		SecurityGroupIds: c.opts.SecurityGroupIDs,
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeInstance, Tags: c.tags(req),
		}},
	}
	if p := c.opts.InstanceProfile; p != "" {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: sdk.String(p)}
		if strings.HasPrefix(p, "arn:") {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: sdk.String(p)}
		}
	}
	zone := req.Zone
	if len(c.opts.SubnetIDs) > 0 {
		subnet, subnetZone, err := c.subnet(ctx, zone)
		if err != nil {
			return nil, err
		}
		in.SubnetId, zone = sdk.String(subnet), subnetZone
	}
	if zone != "" {
		in.Placement = &types.Placement{AvailabilityZone: sdk.String(zone)}
	}
	if req.Spot {
		in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{
			MarketType: types.MarketTypeSpot,
			SpotOptions: &types.SpotMarketOptions{
				SpotInstanceType:             types.SpotInstanceTypeOneTime,
				InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate,
			},
		}
	}
	return in, nil
}

// tags are the instance's tags, sorted by key so that a repeated Create
// sends the very same request.
func (c *Cloud) tags(req cloud.MachineRequest) []types.Tag {
	all := map[string]string{}
	for k, v := range c.opts.Tags {
		all[k] = v
	}
	all[TagCluster], all[TagPool], all[TagMachine], all["Name"] = req.Cluster, req.Pool, req.Name, req.Name
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	tags := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		tags = append(tags, types.Tag{Key: sdk.String(k), Value: sdk.String(all[k])})
	}
	return tags
}

// subnet returns the subnet of Options.SubnetIDs in zone (any zone when
// empty) and its zone. The subnets' zones are read once.
func (c *Cloud) subnet(ctx context.Context, zone string) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subnets == nil {
		out, err := c.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: c.opts.SubnetIDs})
		if err != nil {
			return "", "", mapError(err, "create", "reading subnets "+strings.Join(c.opts.SubnetIDs, ", "))
		}
		c.subnets = map[string]string{}
		for _, s := range out.Subnets {
			c.subnets[sdk.ToString(s.SubnetId)] = sdk.ToString(s.AvailabilityZone)
		}
	}
	for _, id := range c.opts.SubnetIDs {
		if z, ok := c.subnets[id]; ok && (zone == "" || z == zone) {
			return id, z, nil
		}
	}
	return "", "", cloud.Errorf(cloud.ErrInvalid, provider, "create",
		"zone %q: none of the subnets %s is in it", zone, strings.Join(c.opts.SubnetIDs, ", "))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return sdk.String(s)
}
