package clouds

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestLocalAgentCommand(t *testing.T) {
	for _, tc := range []struct{ server, address string }{
		{"https://10.1.2.3:6443", "10.1.2.3"},
		{"https://127.0.0.1:40001", "127.0.0.1"},
		{"https://[::1]:6443", "::1"},
		{"https://cp.example.com:6443", "127.0.0.1"},
		{"https://0.0.0.0:6443", "127.0.0.1"},
	} {
		argv := LocalAgentCommand("/bin/maestro", "--runtime", "process")(local.Spec{Name: "m1", Pool: "p", ServerURL: tc.server})
		at := slices.Index(argv, "--address")
		if argv[0] != "/bin/maestro" || argv[1] != "agent" || at < 0 || argv[at+1] != tc.address {
			t.Errorf("server %s: argv %q, want `agent --address %s`", tc.server, argv, tc.address)
		}
		for _, want := range []string{"--port 0", "--proxy=false", "--runtime process", "--node-name m1"} {
			if !strings.Contains(strings.Join(argv, " "), want) {
				t.Errorf("server %s: argv %q lacks %q", tc.server, argv, want)
			}
		}
	}
}

func TestProcessRuntime(t *testing.T) {
	for args, want := range map[string]bool{
		"":                                 false,
		"--runtime process":                true,
		"--runtime=process":                true,
		"--runtime docker":                 false,
		"--infra-image x --runtime=docker": false,
		"--runtime":                        false,
	} {
		if got := processRuntime(strings.Fields(args)); got != want {
			t.Errorf("processRuntime(%q) = %v, want %v", args, got, want)
		}
	}
}

func sshPool(gen int64, secret string) *api.NodePool {
	return &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "onprem", Generation: gen},
		Spec: api.NodePoolSpec{Provider: api.ProviderSSH, SSH: &api.SSHPoolConfig{Hosts: []string{"10.0.0.1"}, PrivateKeySecretRef: secret}}}
}

// TestFor: local pools share one cloud under the data dir; ssh pools get
// a cloud built from the pool and its key secret, kept while neither
// changes; what cannot be resolved is ErrInvalid naming what is missing,
// never showing the key.
func TestFor(t *testing.T) {
	env := testenv.Start(t)
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n"
	var built []string
	opts := Options{DataDir: t.TempDir(), Binary: "/bin/true", Client: env.Client,
		NewSSH: func(pool *api.NodePool, k cloud.Secret) (cloud.Cloud, error) {
			if k.Reveal() != key {
				t.Errorf("NewSSH got key %q", k.Reveal())
			}
			built = append(built, pool.Name)
			return cloudtest.NewFake(), nil
		}}
	res, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a, err := res.For(ctx, &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderLocal}})
	b, err2 := res.For(ctx, &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderLocal}})
	if err != nil || err2 != nil || a != b {
		t.Fatalf("local: %v, %v, same cloud %v; want one shared cloud", err, err2, a == b)
	}
	if _, ok := a.(*local.Cloud); !ok {
		t.Fatalf("local pool: %T", a)
	}

	for _, tc := range []struct {
		name, want string
		pool       *api.NodePool
	}{
		{"secret missing", "secret maestro-system/onprem-key not found", sshPool(1, "onprem-key")},
		{"provider not served", `spec.provider "azure" is not available`, &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "x"}, Spec: api.NodePoolSpec{Provider: "azure"}}},
		{"aws settings missing", `pool x: spec.aws: required`, &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "x"}, Spec: api.NodePoolSpec{Provider: api.ProviderAWS}}},
	} {
		if _, err := res.For(ctx, tc.pool); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", tc.name, err, tc.want)
		}
	}
	secret := &api.Secret{ObjectMeta: api.ObjectMeta{Name: "onprem-key", Namespace: api.NamespaceSystem},
		Data: map[string][]byte{"id_ed25519": []byte(key)}}
	if secret, err = env.Client.Secrets(api.NamespaceSystem).Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := res.For(ctx, sshPool(1, "onprem-key")); !errors.Is(err, cloud.ErrInvalid) ||
		!strings.Contains(err.Error(), `no "privateKey" key (has [id_ed25519])`) || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("secret without privateKey: %v", err)
	}
	secret.Data = map[string][]byte{SSHKeyField: []byte(key)}
	if _, err = env.Client.Secrets(api.NamespaceSystem).Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	first, err := res.For(ctx, sshPool(1, "onprem-key"))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := res.For(ctx, sshPool(1, "onprem-key")); again != first || len(built) != 1 {
		t.Errorf("same pool generation and key: a new cloud (%d built)", len(built))
	}
	if next, _ := res.For(ctx, sshPool(2, "onprem-key")); next == first || len(built) != 2 {
		t.Errorf("new pool generation: the old cloud kept (%d built)", len(built))
	}

	// The default constructor (the ssh cloud) refuses the key, naming the
	// field and not showing it.
	byDefault, _ := New(Options{DataDir: t.TempDir(), Binary: "/bin/true", Client: env.Client})
	if _, err := byDefault.For(ctx, sshPool(1, "onprem-key")); err == nil || !strings.Contains(err.Error(), "PrivateKey") ||
		strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("ssh cloud with a bad key: %v", err)
	}
}
