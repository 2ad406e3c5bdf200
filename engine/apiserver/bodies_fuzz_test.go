package apiserver

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
)

// A certificate request for node-1 at 192.168.1.10 (its key is not kept).
const testCSR = `-----BEGIN CERTIFICATE REQUEST-----
MIH1MIGdAgEAMBExDzANBgNVBAMMBm5vZGUtMTBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABNSomFTxyDSto31PaIe+2nsfN1pOywppXWqLV+hiT6HhlAR0/YCsoZxM
T9+iqmRVy7X0wenEiL45eNafY4cY42CgKjAoBgkqhkiG9w0BCQ4xGzAZMBcGA1Ud
EQQQMA6CBm5vZGUtMYcEwKgBCjAKBggqhkjOPQQDAgNHADBEAiB+rBBZ6R5QwgCz
IxjP0VORoVWdhuH8M0ncKXKlpkhzrgIgIFv2EDy6vrREpvTUIaHS0dTH7odprAfr
x8jgg8dkyus=
-----END CERTIFICATE REQUEST-----
`

// assertClientError fails unless err is a 400, or a 422 whose causes all
// name a field.
func assertClientError(t *testing.T, err error) {
	t.Helper()
	var se *api.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("not a status error: %v", err)
	}
	switch se.Status.Code {
	case http.StatusBadRequest:
	case http.StatusUnprocessableEntity:
		if se.Status.Details == nil || len(se.Status.Details.Causes) == 0 {
			t.Fatalf("a 422 without causes: %v", err)
		}
		for _, c := range se.Status.Details.Causes {
			if c.Field == "" {
				t.Fatalf("a cause names no field: %v", err)
			}
		}
	default:
		t.Fatalf("status %d, want 400 or 422: %v", se.Status.Code, err)
	}
}

// FuzzTokenRequest: any token request body gets a 400 or a 422 naming
// its fields, or options whose lifetime is what was asked for (no
// overflow), with addresses that are canonical IPs.
func FuzzTokenRequest(f *testing.F) {
	for _, s := range []string{
		`{"role":"join","node":"node-1","ttlSeconds":3600,"uses":3,"addresses":["192.168.1.10","::ffff:10.0.0.1"],"labels":{"pool":"a"}}`,
		`{"role":"admin","description":"ci"}`, `{"role":"viewer","ttlSeconds":86400}`, `{"role":"node","node":"n1"}`,
		`{"role":"viewer","uses":2}`, `{"role":"join","addresses":["0.0.0.0","nope"]}`, `{"role":"boss"}`,
		`{"role":"admin","role":"viewer"}`, `{"role":"admin"} {}`, `{"role":"admin","ttlSeconds":99999999999}`,
		`{"role":"join","labels":{"bad key!":"x"}}`, `{"role":"admin","ttlSeconds":-1}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		opts, err := parseTokenRequest(body)
		if err != nil {
			assertClientError(t, err)
			return
		}
		var req api.TokenRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted, but encoding/json refuses it: %v", err)
		}
		if opts.TTL < 0 || opts.TTL/time.Second != time.Duration(req.TTLSeconds) {
			t.Fatalf("ttlSeconds %d became a lifetime of %v", req.TTLSeconds, opts.TTL)
		}
		if !auth.ValidRole(opts.Role) {
			t.Fatalf("accepted role %q", opts.Role)
		}
		for _, a := range opts.Addresses {
			ip := net.ParseIP(a)
			if ip == nil || ip.IsUnspecified() || ip.String() != a {
				t.Fatalf("address %q is not a canonical IP", a)
			}
		}
		if !slices.Equal(canonicalIPs(opts.Addresses), opts.Addresses) {
			t.Fatalf("addresses %q are not canonical", opts.Addresses)
		}
	})
}

// FuzzJoinRequest: any join request body gets a 400 or a 422 naming its
// fields, or a valid node name; a CSR that passes the server's checks
// names that node only.
func FuzzJoinRequest(f *testing.F) {
	csr, _ := json.Marshal(testCSR)
	for _, s := range []string{
		`{"nodeName":"node-1","csr":` + string(csr) + `}`,
		`{"nodeName":"node-2","csr":` + string(csr) + `}`,
		`{"csr":` + string(csr) + `}`, `{"nodeName":"Node_1"}`, `{"nodeName":"a","nodeName":"b"}`,
		`{"nodeName":"a","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"}`,
		`{"nodeName":"a","extra":1}`, `null`, `{}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "node-1")
	}
	f.Fuzz(func(t *testing.T, body []byte, node string) {
		var req api.JoinRequest
		var err error
		if node == "" {
			req, err = parseJoinRequest(body)
		} else {
			req, err = parseJoinRequest(body, node)
		}
		if err != nil {
			assertClientError(t, err)
			return
		}
		if msg := api.IsDNS1123Subdomain(req.NodeName); msg != "" {
			t.Fatalf("accepted node name %q: %s", req.NodeName, msg)
		}
		c, err := pki.ParseAgentCSR([]byte(req.CSR), req.NodeName)
		if err != nil {
			if strings.Contains(err.Error(), req.CSR) && len(req.CSR) > 64 {
				t.Fatalf("the CSR error quotes the whole request: %v", err)
			}
			return
		}
		for _, name := range c.DNSNames {
			if name != req.NodeName {
				t.Fatalf("a CSR for %q names %q", req.NodeName, name)
			}
		}
		if len(c.URIs)+len(c.EmailAddresses) > 0 {
			t.Fatal("a CSR with URIs or email addresses passes")
		}
	})
}

func TestParseTokenRequest(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		wantCode  int
		wantField string
	}{
		{"join token", `{"role":"join","ttlSeconds":3600,"addresses":["::ffff:10.0.0.1"]}`, 0, ""},
		{"repeated key", `{"role":"admin","role":"viewer"}`, http.StatusBadRequest, "role"},
		{"trailing data", `{"role":"admin"} {}`, http.StatusBadRequest, ""},
		{"unknown field", `{"role":"admin","rol":"x"}`, http.StatusBadRequest, "rol"},
		// time.Duration(ttl)*time.Second overflowed: a token asked to live
		// long got a wrapped, possibly negative (never expiring) lifetime.
		{"lifetime that overflows", `{"role":"viewer","ttlSeconds":9300000000}`, http.StatusUnprocessableEntity, "ttlSeconds"},
		{"a hundred years", `{"role":"viewer","ttlSeconds":3155760000}`, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := parseTokenRequest([]byte(tc.body))
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if opts.TTL < 0 {
					t.Fatalf("lifetime %v", opts.TTL)
				}
				return
			}
			var se *api.StatusError
			if !errors.As(err, &se) || se.Status.Code != tc.wantCode || !strings.Contains(err.Error(), tc.wantField) {
				t.Fatalf("error %v, want %d naming %q", err, tc.wantCode, tc.wantField)
			}
		})
	}
}
