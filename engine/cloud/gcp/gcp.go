package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"google.golang.org/api/option"

	"github.com/maestro-dev/maestro/engine/cloud"
)

const provider = "gcp"

// Defaults of Options.
const (
	DefaultMachineType      = "e2-medium"
	DefaultImage            = "projects/debian-cloud/global/images/family/debian-12"
	DefaultNetwork          = "global/networks/default"
	DefaultRetryMaxAttempts = 5
	DefaultRetryMaxBackoff  = 20 * time.Second
)

// Options configure a Cloud.
type Options struct {
	// Project is the Google Cloud project the instances are in (required).
	Project string
	// Zone is the zone of a request that names none.
	Zone string
	// MachineType of a request that names none (default DefaultMachineType).
	MachineType string
	// Image is the boot disk's source image (default DefaultImage).
	Image string
	// DiskSizeGB is the boot disk's size (0: the image's).
	DiskSizeGB int64
	// Network and Subnetwork of the instances' network interface (default
	// DefaultNetwork, the network's subnetwork of the zone's region).
	Network, Subnetwork string
	// ExternalIP gives each instance an ephemeral public address (needed
	// when the API server is reachable only over the internet and the
	// network has no Cloud NAT).
	ExternalIP bool
	// ServiceAccount is the email of the service account the instances run
	// as (empty: none).
	ServiceAccount string
	// Labels are added to every instance's labels (keys and values are
	// Compute Engine labels: values that do not fit are encoded).
	Labels map[string]string
	// AgentArgs are extra arguments of every machine's agent.
	AgentArgs []string
	// Endpoint overrides the Compute Engine endpoint (the base URL, without
	// /compute/v1: a fake's URL).
	Endpoint string
	// CredentialsFile is a credentials JSON file (a service-account key);
	// empty: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS,
	// gcloud's application-default login, the metadata server on Google Cloud).
	CredentialsFile string
	// CredentialsJSON is the content of such a file (a pool's credentials
	// secret); it wins over CredentialsFile. A Secret: never printed.
	CredentialsJSON cloud.Secret
	// HTTPClient, when set, carries every API call as is: it must add the
	// credentials itself (no Application Default Credentials are looked up).
	HTTPClient *http.Client
	// RetryMaxAttempts bounds the attempts of a throttled or failed call
	// (default DefaultRetryMaxAttempts); RetryMaxBackoff caps the wait
	// between two (default DefaultRetryMaxBackoff).
	RetryMaxAttempts int
	RetryMaxBackoff  time.Duration
	Logger           *slog.Logger
}

// Cloud is the gcp cloud.Cloud: Compute Engine instances in one project.
type Cloud struct {
	o   Options
	log *slog.Logger
	in  *compute.InstancesClient
	ops *compute.ZoneOperationsClient
}

var _ cloud.Cloud = (*Cloud)(nil)

// New returns a Cloud for o.Project. Missing or unreadable credentials are
// ErrPermission with the library's message.
func New(ctx context.Context, o Options) (*Cloud, error) {
	if o.Project == "" {
		return nil, cloud.Errorf(cloud.ErrInvalid, provider, "configure", "project: required")
	}
	if o.MachineType == "" {
		o.MachineType = DefaultMachineType
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Network == "" {
		o.Network = DefaultNetwork
	}
	if o.RetryMaxAttempts <= 0 {
		o.RetryMaxAttempts = DefaultRetryMaxAttempts
	}
	if o.RetryMaxBackoff <= 0 {
		o.RetryMaxBackoff = DefaultRetryMaxBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for k := range o.Labels {
		if !labelKeyRE.MatchString(k) || strings.HasPrefix(k, "maestro-") {
			return nil, cloud.Errorf(cloud.ErrInvalid, provider, "configure",
				"labels[%q]: want a Compute Engine label key (lower-case letter, then lower-case letters, digits, - or _; at most 63) not starting with maestro-", k)
		}
	}
	opts, err := clientOptions(o)
	if err != nil {
		return nil, err
	}
	in, err := compute.NewInstancesRESTClient(ctx, opts...)
	if err != nil {
		return nil, classifyClientError("configure", err)
	}
	ops, err := compute.NewZoneOperationsRESTClient(ctx, opts...)
	if err != nil {
		in.Close()
		return nil, classifyClientError("configure", err)
	}
	return &Cloud{o: o, log: o.Logger.With("provider", provider, "project", o.Project), in: in, ops: ops}, nil
}

// clientOptions are the API clients' options. The library's own logger is
// silenced: at debug level it logs request bodies, and an insert's body
// holds the startup script (a join token).
func clientOptions(o Options) ([]option.ClientOption, error) {
	opts := []option.ClientOption{option.WithLogger(slog.New(slog.DiscardHandler))}
	if o.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(o.Endpoint))
	}
	switch {
	case o.HTTPClient != nil:
		opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	case len(o.CredentialsJSON) > 0:
		b := []byte(o.CredentialsJSON.Reveal())
		t, err := credentialsType(b, "the credentials JSON")
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsJSON(t, b))
	case o.CredentialsFile != "":
		b, err := os.ReadFile(o.CredentialsFile)
		if err != nil {
			return nil, cloud.Wrap(cloud.ErrPermission, provider, "configure", err, "reading the credentials file")
		}
		t, err := credentialsType(b, "credentials file "+o.CredentialsFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithAuthCredentialsFile(t, o.CredentialsFile))
	}
	return opts, nil
}

// credentialsType is the "type" of a Google credentials JSON (the library
// wants it named, so that a file of an unexpected type is refused). The
// error never quotes the content.
func credentialsType(b []byte, what string) (option.CredentialsType, error) {
	var f struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Type == "" {
		return "", cloud.Errorf(cloud.ErrPermission, provider, "configure",
			"%s: not a Google credentials JSON (no \"type\")", what)
	}
	return option.CredentialsType(f.Type), nil
}

// classifyClientError: the library fails to make a client when it finds no
// credentials or cannot read them.
func classifyClientError(op string, err error) error {
	return cloud.Wrap(cloud.ErrPermission, provider, op, err, "Google Cloud credentials")
}

// Close releases the API clients' connections.
func (c *Cloud) Close() error {
	return errors.Join(c.in.Close(), c.ops.Close())
}

// zoneOf is the zone of a request: its own or the default.
func (c *Cloud) zoneOf(req cloud.MachineRequest) string {
	if req.Zone != "" {
		return req.Zone
	}
	return c.o.Zone
}

// machineID is a machine's ID: zone/instance-name, enough to find it
// without a list.
func machineID(zone, instance string) string { return zone + "/" + instance }

// splitID reverses machineID.
func splitID(id string) (zone, instance string, ok bool) {
	zone, instance, ok = strings.Cut(id, "/")
	return zone, instance, ok && zone != "" && instance != "" && !strings.Contains(instance, "/")
}

func (c *Cloud) String() string { return fmt.Sprintf("gcp(project %s)", c.o.Project) }
