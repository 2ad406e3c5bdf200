package ec2fake_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/aws/ec2fake"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

const signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00"

// call posts one Query request and returns the status and body.
func call(t *testing.T, s *ec2fake.Server, auth string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(action string, kv ...string) url.Values {
	v := url.Values{"Action": {action}, "Version": {ec2fake.APIVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func runForm(token string, kv ...string) url.Values {
	return form("RunInstances", append([]string{"ImageId", ec2fake.DefaultAMI, "InstanceType", "t3.small",
		"MinCount", "1", "MaxCount", "1", "ClientToken", token,
		"UserData", base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n"))}, kv...)...)
}

type errorResponse struct {
	Errors []struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Errors>Error"`
	RequestID string `xml:"RequestID"`
}

// TestProtocol checks answers at the wire: EC2's error document and
// status, and the element names and namespace of successful answers.
func TestProtocol(t *testing.T) {
	s := ec2fake.New(ec2fake.Options{})
	t.Cleanup(s.Close)
	for _, tc := range []struct {
		name       string
		auth       string
		form       url.Values
		wantStatus int
		wantCode   string // empty: success
		wantBody   []string
	}{
		{"Unsigned", "", form("DescribeInstances"), 401, "AuthFailure", nil},
		{"UnknownAction", signed, form("RebootInstances"), 400, "InvalidAction", nil},
		{"WrongVersion", signed, url.Values{"Action": {"DescribeInstances"}, "Version": {"2014-01-01"}}, 400, "InvalidParameterValue", nil},
		{"UnknownInstance", signed, form("DescribeInstances", "InstanceId.1", "i-0123456789abcdef0"), 400,
			"InvalidInstanceID.NotFound", []string{"The instance ID 'i-0123456789abcdef0' does not exist"}},
		{"MalformedInstance", signed, form("TerminateInstances", "InstanceId.1", "vm-1"), 400, "InvalidInstanceID.Malformed", nil},
		{"MaxResultsTooSmall", signed, form("DescribeInstances", "MaxResults", "2"), 400, "InvalidParameterValue", nil},
		{"UnknownFilter", signed, form("DescribeInstances", "Filter.1.Name", "color", "Filter.1.Value.1", "red"), 400, "InvalidParameterValue", nil},
		{"UnknownType", signed, runForm("t1", "InstanceType", "x9.huge"), 400, "InvalidParameterValue",
			[]string{"Invalid value 'x9.huge' for InstanceType."}},
		{"UnknownAMI", signed, runForm("t2", "ImageId", "ami-0000000000000dead"), 400, "InvalidAMIID.NotFound", nil},
		{"Run", signed, runForm("t3", "Placement.AvailabilityZone", "us-east-1b",
			"TagSpecification.1.ResourceType", "instance", "TagSpecification.1.Tag.1.Key", "Name", "TagSpecification.1.Tag.1.Value", "n1"),
			200, "", []string{`<RunInstancesResponse xmlns="` + ec2fake.Namespace + `">`, "<reservationId>r-",
				"<instancesSet><item><instanceId>i-", "<instanceState><code>0</code><name>pending</name></instanceState>",
				"<availabilityZone>us-east-1b</availabilityZone>", "<tagSet><item><key>Name</key><value>n1</value></item></tagSet>"}},
		{"ReplayWithOtherParameters", signed, runForm("t3", "InstanceType", "t3.large"), 400, "IdempotentParameterMismatch", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, s, tc.auth, tc.form)
			if status != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", status, tc.wantStatus, body)
			}
			text := body
			if tc.wantCode != "" {
				var e errorResponse
				if err := xml.Unmarshal([]byte(body), &e); err != nil || len(e.Errors) != 1 ||
					e.Errors[0].Code != tc.wantCode || e.RequestID == "" || !strings.HasPrefix(body, "<?xml") {
					t.Errorf("error answer %s: want <Response><Errors><Error><Code>%s ... <RequestID>", body, tc.wantCode)
				} else {
					text = e.Errors[0].Message
				}
			}
			for _, want := range tc.wantBody {
				if !strings.Contains(text, want) {
					t.Errorf("answer %s: want %s", body, want)
				}
			}
		})
	}
	if n := len(s.Instances()); n != 1 {
		t.Errorf("%d instances, want the one Run made", n)
	}
}

// gateBoot is a Booter whose boots wait for release.
type gateBoot struct {
	cloudtest.NoBoot
	release chan struct{}
}

func (g *gateBoot) Boot(ctx context.Context, id string, script []byte) (netip.Addr, error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return netip.Addr{}, ctx.Err()
	}
	return g.NoBoot.Boot(ctx, id, script)
}

// A slow boot does not make RunInstances slow: the instance is pending
// until the boot returns, then running at its address.
func TestBootIsAsynchronous(t *testing.T) {
	g := &gateBoot{release: make(chan struct{})}
	s := ec2fake.New(ec2fake.Options{Booter: g})
	t.Cleanup(s.Close)
	status, body := call(t, s, signed, runForm("t1"))
	if status != 200 || !strings.Contains(body, "<name>pending</name>") {
		t.Fatalf("RunInstances while boots wait: %d %s", status, body)
	}
	if in := s.Instances()[0]; in.State != "pending" || s.Running() != 1 {
		t.Fatalf("instance %+v before its boot returned: want pending", in)
	}
	close(g.release)
	for s.Instances()[0].State != "running" {
		select {
		case <-t.Context().Done():
			t.Fatal("the instance never ran")
		case <-time.After(time.Millisecond):
		}
	}
	if in := s.Instances()[0]; !strings.HasPrefix(in.PrivateIP, "10.255.") {
		t.Errorf("running instance %+v: want the boot's address", in)
	}
	id := s.Instances()[0].ID
	if status, body := call(t, s, signed, form("TerminateInstances", "InstanceId.1", id)); status != 200 ||
		!strings.Contains(body, "<currentState><code>32</code><name>shutting-down</name></currentState>") {
		t.Fatalf("TerminateInstances: %d %s", status, body)
	}
	for s.Running() != 0 || g.Running() != 0 {
		select {
		case <-t.Context().Done():
			t.Fatal("the instance was never halted")
		case <-time.After(time.Millisecond):
		}
	}
}
