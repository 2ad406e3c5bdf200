package aws_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/aws"
	"github.com/maestro-dev/maestro/engine/cloud/aws/ec2fake"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// hermeticEnv gives the SDK's default chain static test credentials and
// nothing else: no profile, no shared files, no instance metadata.
func hermeticEnv(t *testing.T, accessKey string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_EC2": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
	} {
		t.Setenv(k, v)
	}
	if accessKey != "" {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	}
}

type env struct {
	fake  *ec2fake.Server
	cloud *aws.Cloud
	boot  *cloudtest.NoBoot
	logs  *bytes.Buffer
}

// newEnv starts a fake (zones zone-a, zone-b) and a Cloud on it with short
// retries; change adjusts the options of both.
func newEnv(t *testing.T, change func(*ec2fake.Options, *aws.Options)) env {
	t.Helper()
	hermeticEnv(t, "AKIDEXAMPLEFAKE00001")
	boot := &cloudtest.NoBoot{}
	fo := ec2fake.Options{Booter: boot, Zones: []string{"zone-a", "zone-b"}}
	logs := &bytes.Buffer{}
	o := aws.Options{
		Region: "us-east-1", AMI: ec2fake.DefaultAMI, RetryMaxAttempts: 3, RetryMaxBackoff: 5 * time.Millisecond,
		PollInterval: 5 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if change != nil {
		change(&fo, &o)
	}
	fake := ec2fake.New(fo)
	t.Cleanup(fake.Close)
	o.Endpoint = fake.URL()
	c, err := aws.New(t.Context(), o)
	if err != nil {
		t.Fatalf("aws.New: %v", err)
	}
	return env{fake: fake, cloud: c, boot: boot, logs: logs}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*ec2fake.Options, *aws.Options)
	}{
		{"Default", nil},
		{"SubnetsAndPagesOfOne", func(fo *ec2fake.Options, o *aws.Options) {
			fo.Subnets = map[string]string{"subnet-0aaa": "zone-a", "subnet-0bbb": "zone-b"}
			fo.PageSize = 1
			o.SubnetIDs = []string{"subnet-0bbb", "subnet-0aaa"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cloudtest.Run(t, func(t *testing.T) cloud.Cloud { return newEnv(t, tc.change).cloud })
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestCreateErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    func(*ec2fake.Server)
		change   func(*cloud.MachineRequest)
		wantKind error // nil: succeeds
		wantMsg  string
		wantRuns int // RunInstances calls the fake answered
	}{
		{name: "UnknownInstanceType", change: func(r *cloud.MachineRequest) { r.MachineType = "x9.huge" },
			wantKind: cloud.ErrInvalid, wantMsg: "InvalidParameterValue: Invalid value 'x9.huge' for InstanceType.", wantRuns: 1},
		{name: "UnknownZone", change: func(r *cloud.MachineRequest) { r.Zone = "zone-z" },
			wantKind: cloud.ErrInvalid, wantMsg: "Invalid availability zone: [zone-z]", wantRuns: 1},
		{name: "InstanceLimitExceeded", fault: func(s *ec2fake.Server) {
			s.FailNext("RunInstances", "InstanceLimitExceeded", "You have requested more instances (21) than your current instance limit of 20 allows for the specified instance type.", 400)
		}, wantKind: cloud.ErrQuota, wantMsg: "InstanceLimitExceeded: You have requested more instances (21) than your current instance limit of 20", wantRuns: 1},
		{name: "VcpuLimitExceeded", fault: func(s *ec2fake.Server) {
			s.FailNext("RunInstances", "VcpuLimitExceeded", "You have requested more vCPU capacity than your current vCPU limit of 32 allows", 400)
		}, wantKind: cloud.ErrQuota, wantMsg: "vCPU limit of 32", wantRuns: 1},
		{name: "NoCapacityIsNotRetried", fault: func(s *ec2fake.Server) { s.NoCapacity("zone-a") },
			wantKind: cloud.ErrCapacity, wantMsg: "We currently do not have sufficient t3.small capacity in the Availability Zone you requested (zone-a)", wantRuns: 1},
		{name: "Unauthorized", fault: func(s *ec2fake.Server) {
			s.FailNext("RunInstances", "UnauthorizedOperation", "You are not authorized to perform this operation.", 403)
		}, wantKind: cloud.ErrPermission, wantMsg: "You are not authorized to perform this operation.", wantRuns: 1},
		{name: "ThrottledThenSucceeds", fault: func(s *ec2fake.Server) { s.Throttle("RunInstances", 2) }, wantRuns: 3},
		{name: "ServerErrorsThenSucceeds", fault: func(s *ec2fake.Server) { s.ServerError("RunInstances", 2) }, wantRuns: 3},
		{name: "ThrottledPastRetries", fault: func(s *ec2fake.Server) { s.Throttle("RunInstances", 3) },
			wantKind: cloud.ErrTransient, wantMsg: "RequestLimitExceeded: Request limit exceeded.", wantRuns: 3},
		{name: "ServerErrorsPastRetries", fault: func(s *ec2fake.Server) { s.ServerError("RunInstances", 5) },
			wantKind: cloud.ErrTransient, wantMsg: "InternalError: An internal error has occurred.", wantRuns: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tc.fault != nil {
				tc.fault(e.fake)
			}
			req := cloudtest.Request("m1", "c1", "p1")
			if tc.change != nil {
				tc.change(&req)
			}
			m, err := e.cloud.Create(ctx(t), req)
			if got := e.fake.Calls("RunInstances"); got != tc.wantRuns {
				t.Errorf("RunInstances answered %d times, want %d", got, tc.wantRuns)
			}
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if n := len(e.fake.Instances()); n != 1 || m.ID == "" {
					t.Fatalf("Create made %d instances (machine %+v), want 1", n, m)
				}
				return
			}
			if !errors.Is(err, tc.wantKind) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Create: err = %v, want %v with EC2's message %q", err, tc.wantKind, tc.wantMsg)
			}
			if !strings.Contains(err.Error(), "m1") {
				t.Errorf("error %q does not name the machine", err)
			}
			if strings.Contains(err.Error(), cloudtest.Token) {
				t.Errorf("error shows the join token: %v", err)
			}
			if n := e.fake.Running(); n != 0 {
				t.Errorf("failed Create left %d instances", n)
			}
		})
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.MaxInstances(1)
	if _, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1")); err != nil {
		t.Fatal(err)
	}
	_, err := e.cloud.Create(ctx(t), cloudtest.Request("m2", "c1", "p1"))
	want := "InstanceLimitExceeded: You have requested more instances (2) than your current instance limit of 1 allows"
	if !errors.Is(err, cloud.ErrQuota) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Create beyond the limit: %v, want ErrQuota with %q", err, want)
	}
	if cloud.IsRetryable(err) {
		t.Errorf("quota error is retryable: %v", err)
	}
}

func TestMissingCredentials(t *testing.T) {
	fake := ec2fake.New(ec2fake.Options{Zones: []string{"zone-a"}})
	t.Cleanup(fake.Close)
	hermeticEnv(t, "") // no keys, no files, no IMDS: the chain has nothing
	c, err := aws.New(t.Context(), aws.Options{Region: "us-east-1", Endpoint: fake.URL(), AMI: ec2fake.DefaultAMI,
		RetryMaxAttempts: 2, RetryMaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatalf("aws.New without credentials: %v (want the error on the first call)", err)
	}
	_, err = c.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
	if !errors.Is(err, cloud.ErrPermission) || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("Create without credentials: %v, want ErrPermission with the SDK's message", err)
	}
	t.Logf("error: %v", err)
	if _, err := c.List(ctx(t), cloud.Filter{Cluster: "c1"}); !errors.Is(err, cloud.ErrPermission) {
		t.Errorf("List without credentials: %v, want ErrPermission", err)
	}
	if n := fake.Calls("RunInstances"); n != 0 {
		t.Errorf("an unsigned RunInstances reached EC2 %d times", n)
	}
}

func TestRunInstancesResponseLostMakesNoSecondInstance(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.LoseResponse("RunInstances")
	m, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
	if err != nil {
		t.Fatalf("Create with its first response lost: %v", err)
	}
	if n := e.fake.Calls("RunInstances"); n != 2 {
		t.Errorf("RunInstances answered %d times, want 2 (the lost one, the retry)", n)
	}
	ins := e.fake.Instances()
	if len(ins) != 1 || ins[0].ID != m.ID {
		t.Fatalf("instances after a lost response and its retry: %+v, want only %s", ins, m.ID)
	}
	// A later Create of the same machine (the controller restarted) finds it too.
	again, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
	if err != nil || again.ID != m.ID {
		t.Fatalf("Create again: %s, %v, want %s", again.ID, err, m.ID)
	}
	if n := len(e.fake.Instances()); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
}

// A Create repeated with a fresh join token (so other user data) under
// the same key is the same machine, not a second one, nor an error.
func TestCreateRepeatedWithNewJoinToken(t *testing.T) {
	e := newEnv(t, nil)
	req := cloudtest.Request("m1", "c1", "p1")
	first, err := e.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Bootstrap.JoinToken = "another-single-use-token"
	second, err := e.cloud.Create(ctx(t), req)
	if err != nil || second.ID != first.ID {
		t.Fatalf("second Create: %s, %v, want %s", second.ID, err, first.ID)
	}
	if n := len(e.fake.Instances()); n != 1 {
		t.Fatalf("%d instances, want 1", n)
	}
}

func TestLongIdempotencyKey(t *testing.T) {
	e := newEnv(t, nil)
	req := cloudtest.Request("m1", "c1", "p1")
	req.IdempotencyKey = strings.Repeat("k", 200)
	first, err := e.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatalf("Create with a 200-byte key: %v", err)
	}
	second, err := e.cloud.Create(ctx(t), req)
	if err != nil || second.ID != first.ID {
		t.Fatalf("second Create: %s, %v, want %s", second.ID, err, first.ID)
	}
	if tok := e.fake.Instances()[0].ClientToken; len(tok) != 64 {
		t.Errorf("client token %q: want the key's 64-character hash", tok)
	}
}

func TestCredentials(t *testing.T) {
	for _, tc := range []struct {
		name     string
		creds    *aws.Credentials // nil: the default chain (the environment's key)
		wantKind error            // nil: accepted
	}{
		{"DefaultChain", nil, nil},
		{"Static", &aws.Credentials{AccessKeyID: "AKIDPOOLSECRET000001", SecretAccessKey: "s3cret"}, nil},
		{"StaticWithSessionToken", &aws.Credentials{AccessKeyID: "AKIDPOOLSECRET000001", SecretAccessKey: "s3cret", SessionToken: "tok"}, nil},
		{"StaticUnknownKey", &aws.Credentials{AccessKeyID: "AKIDUNKNOWN000000001", SecretAccessKey: "s3cret"}, cloud.ErrPermission},
		{"StaticEmpty", &aws.Credentials{}, cloud.ErrPermission},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(fo *ec2fake.Options, o *aws.Options) {
				fo.AccessKeys = []string{"AKIDEXAMPLEFAKE00001", "AKIDPOOLSECRET000001"}
				o.Credentials = tc.creds
			})
			_, err := e.cloud.Create(ctx(t), cloudtest.Request("m1", "c1", "p1"))
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantKind) {
				t.Fatalf("Create: %v, want %v", err, tc.wantKind)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the secret key: %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}
