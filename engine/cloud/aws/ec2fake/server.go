// Package ec2fake is an in-process Amazon EC2 endpoint for tests: an
// httptest server speaking EC2's Query protocol (form-encoded POST
// Action=...&Version=2016-11-15, XML answers in EC2's namespace and element
// names, errors as <Response><Errors><Error><Code>) for exactly the calls
// maestro's aws cloud makes: RunInstances, DescribeInstances (filters,
// MaxResults/NextToken), TerminateInstances, DescribeSubnets,
// DescribeSpotInstanceRequests and GetConsoleOutput.
//
// Its instances boot: RunInstances leaves an instance pending and calls
// Options.Booter.Boot with the instance's user data in the background; the
// instance runs with the address Boot returns (internal/testbed's Booter
// makes a real emulated host that runs the user data; cloudtest.NoBoot
// records it). Terminating or interrupting an instance calls Booter.Halt.
//
// Like EC2 it checks that a request is signed (SigV4 Authorization header,
// else AuthFailure), replays a RunInstances with a known ClientToken
// (IdempotentParameterMismatch when its parameters differ), keeps
// terminated instances visible (Options.TerminatedRetention), and answers
// with EC2's error codes and messages. Faults: FailNext, Throttle,
// ServerError, LoseResponse, MaxInstances, NoCapacity and Interrupt.
package ec2fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// APIVersion is the EC2 API version of the Query protocol.
const APIVersion = "2016-11-15"

// Namespace is the XML namespace of EC2's answers.
const Namespace = "http://ec2.amazonaws.com/doc/" + APIVersion + "/"

// DefaultAMI is the one image a Server knows when Options.Images is empty.
const DefaultAMI = "ami-0123456789abcdef0"

// DefaultInstanceTypes are the instance types a Server knows when
// Options.InstanceTypes is empty.
var DefaultInstanceTypes = []string{
	"t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t4g.small", "t4g.medium",
	"m5.large", "m5.xlarge", "m6i.large", "c5.large", "c6i.large", "r5.large",
}

// Options configure a Server. Zero values are EC2-like defaults.
type Options struct {
	// Booter runs the instances (default: a cloudtest.NoBoot).
	Booter cloudtest.Booter
	// Region (default us-east-1) and its Zones (default <region>a, b, c).
	Region string
	Zones  []string
	// InstanceTypes and Images (AMI IDs) RunInstances accepts (defaults:
	// DefaultInstanceTypes, DefaultAMI).
	InstanceTypes []string
	Images        []string
	// Subnets maps subnet IDs to their zone.
	Subnets map[string]string
	// PageSize, when set, caps every DescribeInstances page (as if each
	// request's MaxResults were at most PageSize), to exercise pagination.
	PageSize int
	// InterruptionNotice is the time between Interrupt marking a spot
	// instance for termination and its termination (default 2 minutes, as
	// EC2's interruption notice).
	InterruptionNotice time.Duration
	// TerminatedRetention is how long a terminated instance stays visible
	// to DescribeInstances (default 1 hour, as EC2).
	TerminatedRetention time.Duration
	// BootTimeout bounds one Booter.Boot (default 5 minutes).
	BootTimeout time.Duration
	// AccessKeys, when set, are the only access key IDs whose signed
	// requests are accepted (others: AuthFailure); empty: any key.
	AccessKeys []string
}

// Server is a fake EC2 endpoint. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	http *httptest.Server

	ctx    context.Context // cancelled by Close: stops boots and timers
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	seq        int
	instances  map[string]*instance // by ID
	order      []string             // IDs in launch order
	tokens     map[string]string    // client token -> instance ID
	spot       map[string]*spotRequest
	faults     map[string][]fault // action -> pending faults, first first
	lost       map[string]int     // action -> responses to drop
	noCapacity map[string]bool    // zone -> RunInstances fails there
	maxInst    int
	calls      map[string]int
}

// New starts a Server; Close stops it.
func New(opts Options) *Server {
	if opts.Booter == nil {
		opts.Booter = &cloudtest.NoBoot{}
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if len(opts.Zones) == 0 {
		opts.Zones = []string{opts.Region + "a", opts.Region + "b", opts.Region + "c"}
	}
	if len(opts.InstanceTypes) == 0 {
		opts.InstanceTypes = DefaultInstanceTypes
	}
	if len(opts.Images) == 0 {
		opts.Images = []string{DefaultAMI}
	}
	if opts.InterruptionNotice <= 0 {
		opts.InterruptionNotice = 2 * time.Minute
	}
	if opts.TerminatedRetention <= 0 {
		opts.TerminatedRetention = time.Hour
	}
	if opts.BootTimeout <= 0 {
		opts.BootTimeout = 5 * time.Minute
	}
	s := &Server{
		opts: opts, instances: map[string]*instance{}, tokens: map[string]string{},
		spot: map[string]*spotRequest{}, faults: map[string][]fault{}, lost: map[string]int{},
		noCapacity: map[string]bool{}, calls: map[string]int{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = httptest.NewServer(s)
	return s
}

// URL is the endpoint (aws.Options.Endpoint, AWS_ENDPOINT_URL_EC2).
func (s *Server) URL() string { return s.http.URL }

// Close stops the server, its boots and timers. Instances are not halted.
func (s *Server) Close() {
	s.cancel()
	s.http.Close()
	s.wg.Wait()
}

// Calls is how many requests of action the server answered (faults included).
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// apiError is an EC2 error answer.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func invalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

type handler func(form url.Values) (any, *apiError)

// ServeHTTP implements http.Handler: one EC2 Query request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.writeError(w, errorf(http.StatusBadRequest, "InvalidAction", "EC2 Query requests are POSTs"))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, errorf(http.StatusBadRequest, "MalformedQueryString", "%v", err))
		return
	}
	action := r.PostForm.Get("Action")
	s.mu.Lock()
	s.calls[action]++
	s.mu.Unlock()
	if !s.signed(r.Header.Get("Authorization")) {
		s.writeError(w, errorf(http.StatusUnauthorized, "AuthFailure",
			"AWS was not able to validate the provided access credentials"))
		return
	}
	if v := r.PostForm.Get("Version"); v != APIVersion {
		s.writeError(w, errorf(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid value '%s' for Version: this endpoint serves %s", v, APIVersion))
		return
	}
	h, ok := map[string]handler{
		"RunInstances":                 s.runInstances,
		"DescribeInstances":            s.describeInstances,
		"TerminateInstances":           s.terminateInstances,
		"DescribeSubnets":              s.describeSubnets,
		"DescribeSpotInstanceRequests": s.describeSpotRequests,
		"GetConsoleOutput":             s.getConsoleOutput,
	}[action]
	if !ok {
		s.writeError(w, errorf(http.StatusBadRequest, "InvalidAction",
			"The action %s is not valid for this web service.", action))
		return
	}
	if f, ok := s.takeFault(action); ok {
		s.writeError(w, &f.err)
		return
	}
	out, aerr := h(r.PostForm)
	if aerr == nil && s.takeLost(action) {
		dropConnection(w)
		return
	}
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

// signed reports whether auth is a SigV4 Authorization header of an
// accepted access key (the signature itself is not checked).
func (s *Server) signed(auth string) bool {
	cred, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
	if !ok {
		return false
	}
	key, _, _ := strings.Cut(cred, "/")
	return key != "" && (len(s.opts.AccessKeys) == 0 || slices.Contains(s.opts.AccessKeys, key))
}

// dropConnection closes the client's connection without an answer: the
// call was done, its response lost.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	w.WriteHeader(http.StatusInternalServerError)
}

type errorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Errors    []xmlErr `xml:"Errors>Error"`
	RequestID string   `xml:"RequestID"`
}

type xmlErr struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(errorResponse{Errors: []xmlErr{{e.code, e.message}}, RequestID: requestID()})
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// list returns the values of a Query list: prefix.1, prefix.2, ...
func list(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[fmt.Sprintf("%s.%d", prefix, i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// instanceFilters are the DescribeInstances filters the fake knows, besides tag:<key>.
var instanceFilters = []string{"tag-key", "instance-state-name", "instance-id", "client-token",
	"availability-zone", "instance-type", "instance-lifecycle"}

// filters returns the Filter.N.Name / Filter.N.Value.M of a request.
func filters(form url.Values) (map[string][]string, *apiError) {
	out := map[string][]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("Filter.%d", i)
		name, ok := form[p+".Name"]
		if !ok {
			return out, nil
		}
		vals := list(form, p+".Value")
		if len(vals) == 0 {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue",
				"The filter '%s' requires at least one value", name[0])
		}
		if !strings.HasPrefix(name[0], "tag:") && !slices.Contains(instanceFilters, name[0]) {
			return nil, invalidParameter("The filter '%s' is invalid", name[0])
		}
		out[name[0]] = append(out[name[0]], vals...)
	}
}

func (s *Server) known(kind string, v string) bool {
	switch kind {
	case "type":
		return slices.Contains(s.opts.InstanceTypes, v)
	case "image":
		return slices.Contains(s.opts.Images, v)
	case "zone":
		return slices.Contains(s.opts.Zones, v)
	}
	return false
}
