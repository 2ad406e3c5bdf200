// Package gcefake is a Compute Engine API server for tests: an httptest
// server speaking the REST JSON protocol of compute/v1 for exactly the calls
// engine/cloud/gcp makes (instances insert, get, list, aggregatedList and
// delete; zoneOperations get, wait and list), the OAuth 2.0 token endpoint a
// service-account key file names, and the faults a real project shows
// (throttling, 5xx, a lost response, quota, no capacity in a zone, an unknown
// machine type, spot preemption). An inserted instance boots: the server
// hands its startup-script to a cloudtest.Booter.
package gcefake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
)

// Options configure a Server. Zero values take the defaults named.
type Options struct {
	// Booter runs the instances (default: a cloudtest.NoBoot).
	Booter cloudtest.Booter
	// Project is the only project served (default "maestro-test").
	Project string
	// Zones served (default us-central1-a, us-central1-b, us-central1-c).
	Zones []string
	// MachineTypes maps the machine types served to their vCPUs (default
	// e2-micro, e2-small, e2-medium: 2; n2-standard-2: 2; n2-standard-4: 4).
	MachineTypes map[string]int
	// CPUQuota is the vCPUs a region may run (0: unlimited); an insert past
	// it fails with QUOTA_EXCEEDED as Compute Engine's CPUS quota does.
	CPUQuota int
	// PageSize caps maxResults (default 500, as Compute Engine).
	PageSize int
	// WaitTimeout is how long zoneOperations.wait holds a request for an
	// operation that is not done (default 2 s; Compute Engine: 2 min).
	WaitTimeout time.Duration
	// PreemptionNotice is how long a preempted spot instance stays STOPPING
	// before it is halted and deleted (default 30 s, Compute Engine's).
	PreemptionNotice time.Duration
	// Listen is the address the server listens on (default 127.0.0.1:0;
	// a test bed whose API server runs in an emulated host's network
	// namespace gives an address that host reaches).
	Listen string
	Logger *slog.Logger
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	o    Options
	http *httptest.Server
	key  *rsa.PrivateKey
	log  *slog.Logger

	ctx    context.Context // cancelled by Close: ends boots and preemptions
	cancel context.CancelFunc
	bg     sync.WaitGroup

	mu        sync.Mutex
	instances map[string]*instance // by zone/name
	ops       map[string]*operation
	requests  map[string]string // requestId -> operation name
	tokens    map[string]bool
	faults    faults
	calls     map[string]int
	zoneFull  map[string]bool
	seq       uint64
}

// New starts a Server; Close stops it.
func New(o Options) *Server {
	if o.Booter == nil {
		o.Booter = &cloudtest.NoBoot{}
	}
	if o.Project == "" {
		o.Project = "maestro-test"
	}
	if len(o.Zones) == 0 {
		o.Zones = []string{"us-central1-a", "us-central1-b", "us-central1-c"}
	}
	if o.MachineTypes == nil {
		o.MachineTypes = map[string]int{"e2-micro": 2, "e2-small": 2, "e2-medium": 2, "n2-standard-2": 2, "n2-standard-4": 4}
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = 2 * time.Second
	}
	if o.PreemptionNotice <= 0 {
		o.PreemptionNotice = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		o: o, key: serviceAccountKey(), log: o.Logger.With("component", "gcefake"),
		instances: map[string]*instance{}, ops: map[string]*operation{}, requests: map[string]string{},
		tokens: map[string]bool{}, calls: map[string]int{}, zoneFull: map[string]bool{},
		seq: 1000,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.http = httptest.NewUnstartedServer(s.routes())
	if o.Listen != "" {
		l, err := net.Listen("tcp", o.Listen)
		if err != nil {
			panic(fmt.Sprintf("gcefake: listening on %s: %v", o.Listen, err))
		}
		_ = s.http.Listener.Close()
		s.http.Listener = l
	}
	s.http.Start()
	return s
}

// serviceAccountKey is the key of every Server's service account in this
// process (an RSA key takes a while to make; each Server still accepts only
// the tokens it issued).
var serviceAccountKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("gcefake: generating the service account key: %v", err))
	}
	return key
})

// URL is the server's base URL: the endpoint for option.WithEndpoint.
func (s *Server) URL() string { return s.http.URL }

// Project is the project the server serves.
func (s *Server) Project() string { return s.o.Project }

// Close stops the server and every boot or preemption in flight.
func (s *Server) Close() {
	s.cancel()
	s.http.Close()
	s.bg.Wait()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.handleToken)
	const zone = "/compute/v1/projects/{project}/zones/{zone}"
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request){
		"POST " + zone + "/instances":                             s.handleInsert,
		"GET " + zone + "/instances":                              s.handleList,
		"GET " + zone + "/instances/{name}/serialPort":            s.handleSerialPort,
		"GET " + zone + "/instances/{name}":                       s.handleGet,
		"DELETE " + zone + "/instances/{name}":                    s.handleDelete,
		"GET /compute/v1/projects/{project}/aggregated/instances": s.handleAggregatedList,
		"GET " + zone + "/operations":                             s.handleOperationList,
		"GET " + zone + "/operations/{op}":                        s.handleOperationGet,
		"POST " + zone + "/operations/{op}/wait":                  s.handleOperationWait,
	} {
		mux.Handle(pattern, s.api(h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "notFound", fmt.Sprintf("gcefake: no method %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// api checks a call's project and bearer token and applies the faults set
// for it before h runs.
func (s *Server) api(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := opName(r)
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		s.calls[op]++
		known := ok && s.tokens[tok]
		s.mu.Unlock()
		switch {
		case !ok:
			writeErrorStatus(w, http.StatusUnauthorized, "required", "UNAUTHENTICATED",
				"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
			return
		case !known:
			writeErrorStatus(w, http.StatusUnauthorized, "authError", "UNAUTHENTICATED",
				"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
			return
		case r.PathValue("project") != s.o.Project:
			writeError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("Required 'compute.instances.list' permission for 'projects/%s'", r.PathValue("project")))
			return
		}
		if f := s.takeFault(op); f != nil {
			f.apply(w)
			return
		}
		if z := r.PathValue("zone"); z != "" && !s.hasZone(z) {
			writeError(w, http.StatusNotFound, "notFound", fmt.Sprintf("The resource 'projects/%s/zones/%s' was not found", s.o.Project, z))
			return
		}
		if s.takeLoss(op) {
			h(discard{}, r)
			loseResponse(w)
			return
		}
		h(w, r)
	})
}

// opName names a call as the faults do: insert, get, list, aggregatedList,
// delete, getSerialPortOutput, operations.get, operations.wait,
// operations.list.
func opName(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/serialPort"):
		return "getSerialPortOutput"
	case strings.HasSuffix(p, "/wait"):
		return "operations.wait"
	case strings.Contains(p, "/operations/"):
		return "operations.get"
	case strings.HasSuffix(p, "/operations"):
		return "operations.list"
	case strings.Contains(p, "/aggregated/"):
		return "aggregatedList"
	case r.Method == http.MethodPost:
		return "insert"
	case r.Method == http.MethodDelete:
		return "delete"
	case strings.HasSuffix(p, "/instances"):
		return "list"
	}
	return "get"
}

func (s *Server) hasZone(z string) bool {
	for _, x := range s.o.Zones {
		if x == z {
			return true
		}
	}
	return false
}

// Calls is how many requests of op (see FailNext; "token": the token
// endpoint) the server received, rejected ones included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CredentialsJSON is a service-account key file whose token_uri is this
// server's token endpoint: with GOOGLE_APPLICATION_CREDENTIALS naming it,
// Application Default Credentials get their tokens here.
func (s *Server) CredentialsJSON() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(err)
	}
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  s.o.Project,
		"private_key_id":              "gcefake-key-1",
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                "maestro@" + s.o.Project + ".iam.gserviceaccount.com",
		"client_id":                   "100000000000000000001",
		"auth_uri":                    s.URL() + "/auth",
		"token_uri":                   s.URL() + "/token",
		"auth_provider_x509_cert_url": s.URL() + "/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return b
}

// WriteCredentials writes CredentialsJSON into dir and returns its path.
func (s *Server) WriteCredentials(dir string) (string, error) {
	p := filepath.Join(dir, "gcefake-service-account.json")
	return p, os.WriteFile(p, s.CredentialsJSON(), 0o600)
}

// Instance is a snapshot of an instance, for tests.
type Instance struct {
	ID, Name, Zone, MachineType, Status, NetworkIP string
	Spot                                           bool
	Labels                                         map[string]string
	RequestID                                      string
}

// Instances returns every instance that exists (deleted ones excluded),
// sorted by zone and name.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Instance
	for _, in := range s.instances {
		p := in.pb
		out = append(out, Instance{
			ID: fmt.Sprint(p.GetId()), Name: p.GetName(), Zone: in.zone, MachineType: in.machineType,
			Status: p.GetStatus(), NetworkIP: p.GetNetworkInterfaces()[0].GetNetworkIP(),
			Spot: p.GetScheduling().GetProvisioningModel() == "SPOT", Labels: p.GetLabels(), RequestID: in.requestID,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Zone+"/"+out[i].Name < out[j].Zone+"/"+out[j].Name })
	return out
}

// Running is how many instances are RUNNING.
func (s *Server) Running() int {
	n := 0
	for _, in := range s.Instances() {
		if in.Status == "RUNNING" {
			n++
		}
	}
	return n
}

// discard is a ResponseWriter for a call whose response is lost.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// loseResponse drops the connection without an answer: the client sees the
// call fail though the server did it.
func loseResponse(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "backendError", "Backend Error")
		return
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// timestamp formats t as Compute Engine does (RFC 3339 with milliseconds
// and the offset of the US Pacific time it reports in).
func timestamp(t time.Time) string {
	return t.In(time.FixedZone("", -8*3600)).Format("2006-01-02T15:04:05.000-07:00")
}
