package apiserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// joined is a node that joined through POST /v1/join.
type joined struct {
	name   string
	client *client.Client
	resp   api.JoinResponse
	cert   tls.Certificate
}

// join exchanges a join token for a node's credentials, asking for a
// serving certificate for ips.
func join(t *testing.T, env *testenv.Env, joinToken, name string, ips ...string) (*joined, error) {
	t.Helper()
	keyPEM, csrPEM := csrFor(t, name, ips...)
	cfg := env.Config
	cfg.Token = joinToken
	jc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := jc.Join(ctxT(t), api.JoinRequest{NodeName: name, CSR: string(csrPEM)})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair([]byte(resp.ServingCertificate), keyPEM)
	if err != nil {
		t.Fatalf("serving certificate of %s: %v", name, err)
	}
	cfg.Token = resp.Token
	nc, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &joined{name: name, client: nc, resp: resp, cert: cert}, nil
}

func csrFor(t *testing.T, name string, ips ...string) (keyPEM, csrPEM []byte) {
	t.Helper()
	var addrs []net.IP
	for _, ip := range ips {
		addrs = append(addrs, net.ParseIP(ip))
	}
	keyPEM, csrPEM, err := pki.NewAgentCSR(name, addrs)
	if err != nil {
		t.Fatal(err)
	}
	return keyPEM, csrPEM
}

func mustJoin(t *testing.T, env *testenv.Env, req api.TokenRequest, name string, ips ...string) *joined {
	t.Helper()
	req.Role = "join"
	tok, err := env.Client.CreateToken(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	j, err := join(t, env, tok.Token, name, ips...)
	if err != nil {
		t.Fatalf("joining %s: %v", name, err)
	}
	return j
}

func joinToken(t *testing.T, env *testenv.Env, req api.TokenRequest) api.TokenResponse {
	t.Helper()
	req.Role = "join"
	if req.TTLSeconds == 0 {
		req.TTLSeconds = 600
	}
	tok, err := env.Client.CreateToken(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func servingCert(t *testing.T, j *joined) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(j.resp.ServingCertificate))
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ready(t *testing.T, j *joined) {
	t.Helper()
	n, err := j.client.Nodes().Create(ctxT(t), &api.Node{ObjectMeta: api.ObjectMeta{Name: j.name}})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, LastHeartbeatTime: time.Now().UTC()}}
	if _, err := j.client.Nodes().UpdateStatus(ctxT(t), n); err != nil {
		t.Fatal(err)
	}
}

// TestJoinTokenSingleUse: a join token admits one machine, once, under
// the name and addresses it was minted for; a live node's name cannot be
// taken over; node credentials expire and are renewed by the node.
func TestJoinTokenSingleUse(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)

	t.Run("single use by default", func(t *testing.T) {
		tok := joinToken(t, env, api.TokenRequest{})
		if _, err := join(t, env, tok.Token, "once-1"); err != nil {
			t.Fatalf("first join: %v", err)
		}
		if _, err := join(t, env, tok.Token, "once-2"); !api.IsUnauthorized(err) {
			t.Fatalf("second join with the same token: %v, want 401", err)
		}
		for _, info := range listTokens(t, env) {
			if info.ID == tok.ID {
				t.Errorf("a used-up join token is still stored: %+v", info)
			}
		}
	})

	t.Run("concurrent joins share one use", func(t *testing.T) {
		tok := joinToken(t, env, api.TokenRequest{})
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { _, errs[i] = join(t, env, tok.Token, fmt.Sprintf("race-%d", i)) })
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !api.IsUnauthorized(err):
				t.Errorf("join race-%d: %v, want success or 401", i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent joins with a single-use token succeeded, want 1", ok, len(errs))
		}
	})

	t.Run("uses", func(t *testing.T) {
		tok := joinToken(t, env, api.TokenRequest{Uses: 2})
		for _, name := range []string{"twice-1", "twice-2"} {
			if _, err := join(t, env, tok.Token, name); err != nil {
				t.Fatalf("join %s: %v", name, err)
			}
		}
		if _, err := join(t, env, tok.Token, "twice-3"); !api.IsUnauthorized(err) {
			t.Fatalf("third join with a two-use token: %v, want 401", err)
		}
	})

	t.Run("bound to a node name", func(t *testing.T) {
		tok := joinToken(t, env, api.TokenRequest{Node: "bound-1"})
		_, err := join(t, env, tok.Token, "bound-2")
		if !api.IsForbidden(err) || !strings.Contains(err.Error(), "bound-1") {
			t.Fatalf("joining as another name: %v, want 403 naming bound-1", err)
		}
		if _, err := join(t, env, tok.Token, "bound-1"); err != nil {
			t.Fatalf("joining as the bound name (a refused attempt must not use the token up): %v", err)
		}
	})

	t.Run("a live node's name is refused", func(t *testing.T) {
		live := mustJoin(t, env, api.TokenRequest{}, "live-1")
		ready(t, live)
		tok := joinToken(t, env, api.TokenRequest{})
		_, err := join(t, env, tok.Token, "live-1")
		if api.CodeOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "live-1") {
			t.Fatalf("joining as a live node: %v, want 409 naming it", err)
		}
		// The live node's credential still works, and the token was not spent.
		if _, err := live.client.Nodes().Get(ctx, "live-1"); err != nil {
			t.Fatalf("live node after the refused join: %v", err)
		}
		if _, err := join(t, env, tok.Token, "live-2"); err != nil {
			t.Fatalf("token after a refused join: %v", err)
		}
		// Its machine replaced: once an admin deletes the Node, a new machine
		// takes the name and the old machine's credential stops working.
		if err := env.Client.Nodes().Delete(ctx, "live-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := join(t, env, joinToken(t, env, api.TokenRequest{}).Token, "live-1"); err != nil {
			t.Fatalf("joining as a deleted node's name: %v", err)
		}
		if _, err := live.client.Namespaces().Get(ctx, "default"); !api.IsUnauthorized(err) {
			t.Fatalf("the replaced machine's credential: %v, want 401", err)
		}
	})

	t.Run("only admitted addresses are signed", func(t *testing.T) {
		tok := joinToken(t, env, api.TokenRequest{})
		_, err := join(t, env, tok.Token, "addr-1", "10.1.2.3")
		if err == nil || api.CodeOf(err) >= 500 || !strings.Contains(err.Error(), "10.1.2.3") {
			t.Fatalf("CSR for an address the node was not admitted with: %v, want a 4xx naming it", err)
		}
		// The join request's own source address is admitted.
		j, err := join(t, env, tok.Token, "addr-1", "127.0.0.1")
		if err != nil {
			t.Fatalf("CSR for the source address: %v", err)
		}
		if c := servingCert(t, j); len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) ||
			!slices.Equal(c.DNSNames, []string{"addr-1"}) {
			t.Fatalf("signed for %v %v", c.IPAddresses, c.DNSNames)
		}
		// A token bound to addresses admits exactly those.
		bound := joinToken(t, env, api.TokenRequest{Addresses: []string{"10.1.2.3"}})
		if _, err := join(t, env, bound.Token, "addr-2", "127.0.0.1"); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("CSR for the source address with an address-bound token: %v, want refused", err)
		}
		j, err = join(t, env, bound.Token, "addr-2", "10.1.2.3")
		if err != nil {
			t.Fatalf("CSR for the bound address: %v", err)
		}
		if c := servingCert(t, j); len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
			t.Fatalf("signed for %v", c.IPAddresses)
		}
	})

	t.Run("node credentials expire and are renewed", func(t *testing.T) {
		j := mustJoin(t, env, api.TokenRequest{}, "renew-1", "127.0.0.1")
		if j.resp.Expires == nil || j.resp.Expires.Before(time.Now().Add(24*time.Hour)) {
			t.Fatalf("node credential expires %v, want a lifetime of days", j.resp.Expires)
		}
		_, csrPEM := csrFor(t, "renew-1", "127.0.0.1")
		renewed, err := j.client.RenewNodeCredentials(ctx, api.JoinRequest{NodeName: "renew-1", CSR: string(csrPEM)})
		if err != nil {
			t.Fatalf("renewing: %v", err)
		}
		if renewed.Token == j.resp.Token || renewed.Expires == nil || renewed.ServingCertificate == "" {
			t.Fatalf("renewal gave %+v", renewed)
		}
		cfg := env.Config
		cfg.Token = renewed.Token
		nc, _ := client.New(cfg)
		if _, err := nc.Namespaces().Get(ctx, "default"); err != nil {
			t.Fatalf("renewed credential: %v", err)
		}
		// The old credential works for a grace period, then no more; it cannot renew again.
		oldID, _, _ := strings.Cut(j.resp.Token, ".")
		var old *api.TokenInfo
		for _, info := range listTokens(t, env) {
			if info.ID == oldID {
				old = &info
			}
		}
		if old == nil || old.Expires == nil || old.Expires.After(time.Now().Add(15*time.Minute)) {
			t.Fatalf("old credential after renewal: %+v, want it to expire within minutes", old)
		}
		if _, err := j.client.Namespaces().Get(ctx, "default"); err != nil {
			t.Fatalf("old credential within its grace period: %v", err)
		}
		if _, err := j.client.RenewNodeCredentials(ctx, api.JoinRequest{NodeName: "renew-1", CSR: string(csrPEM)}); !api.IsForbidden(err) {
			t.Fatalf("renewing with the replaced credential: %v, want 403", err)
		}
	})
}

func listTokens(t *testing.T, env *testenv.Env) []api.TokenInfo {
	t.Helper()
	out, err := env.Client.ListTokens(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
