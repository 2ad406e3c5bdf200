package apiserver_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	const value = "hunter2-very-secret"
	s, err := env.Client.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": value}})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["password"]) != value || s.StringData != nil {
		t.Fatalf("answer data=%q stringData=%v; want the value folded into data", s.Data["password"], s.StringData)
	}
	raw, err := env.CP.EtcdClient().Get(ctx, "/maestro/secrets/default/db")
	if err != nil || len(raw.Kvs) != 1 {
		t.Fatalf("raw etcd read: %v (%d keys)", err, len(raw.Kvs))
	}
	stored := raw.Kvs[0].Value
	if bytes.Contains(stored, []byte(value)) || bytes.Contains(stored, []byte("aHVudGVyMi")) || !bytes.HasPrefix(stored, []byte("maestro:enc:")) {
		t.Fatalf("secret stored in the clear: %q", stored[:min(len(stored), 80)])
	}
	// Other kinds are stored as plain JSON (readable by etcdctl for debugging).
	cm, _ := env.CP.EtcdClient().Get(ctx, "/maestro/namespaces/default", clientv3.WithLimit(1))
	if len(cm.Kvs) != 1 || !bytes.HasPrefix(cm.Kvs[0].Value, []byte("{")) {
		t.Fatalf("namespace not stored as JSON")
	}
	got, err := env.Client.Secrets("default").Get(ctx, "db")
	if err != nil || string(got.Data["password"]) != value {
		t.Fatalf("read back: %v %q", err, got.Data["password"])
	}
}

func TestSecretValueNeverInErrors(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	const value = "s3cr3t-value-xyz"
	_, err := env.Client.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "bad"},
		StringData: map[string]string{"bad key!": value}})
	if !api.IsInvalid(err) {
		t.Fatalf("bad key: %v, want Invalid", err)
	}
	if strings.Contains(err.Error(), value) {
		t.Fatalf("error leaks the secret value: %v", err)
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	raw := newRaw(t, env)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := raw.do(t, "GET", path, "", "", nil); r.Code != http.StatusOK {
			t.Fatalf("%s = %d %s", path, r.Code, r.Body)
		}
	}
	if r := raw.do(t, "GET", "/metrics", "", "", nil); r.Code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token = %d, want 401", r.Code)
	}
	_, _, _ = env.Client.Pods("default").List(ctxT(t), client.ListOptions{})
	r := raw.do(t, "GET", "/metrics", env.Config.Token, "", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("/metrics = %d", r.Code)
	}
	for _, want := range []string{
		`maestro_apiserver_requests_total{code="200",resource="pods",verb="list"}`,
		"maestro_apiserver_request_duration_seconds_bucket",
		"go_goroutines",
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
