package apiserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestLeaderFence: writes carrying a leader fence commit only while the
// fence's election key exists as created; a refused write changes nothing
// and says why; reads ignore the fence; only admins may send one, and only
// for election keys.
func TestLeaderFence(t *testing.T) {
	env := testenv.Start(t)
	ctx := ctxT(t)
	etcd := env.CP.EtcdClient()
	put, err := etcd.Put(ctx, "/maestro/leader/test/1a", "me")
	if err != nil {
		t.Fatal(err)
	}
	fence := api.LeaderFence{Key: "/leader/test/1a", Revision: put.Header.Revision}
	fenced := env.Client.With(client.WithLeaderFence(fence))
	cms := fenced.ConfigMaps("default")
	cm, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c"}, Data: map[string]string{"v": "1"}})
	if err != nil {
		t.Fatalf("create under a fence that holds: %v", err)
	}
	cm.Data["v"] = "2"
	if cm, err = cms.Update(ctx, cm); err != nil {
		t.Fatalf("update under a fence that holds: %v", err)
	}
	if _, err := fenced.Pods("default").Create(ctx, pod("p", "")); err != nil {
		t.Fatal(err)
	}

	// The term ends: its key goes (lease expired), and may come back as a
	// new key under the same name, which is another term.
	if _, err := etcd.Delete(ctx, "/maestro/leader/test/1a"); err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.Put(ctx, "/maestro/leader/test/1a", "someone else"); err != nil {
		t.Fatal(err)
	}
	cm.Data["v"] = "3"
	writes := map[string]func() error{
		"create": func() error {
			_, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "d"}})
			return err
		},
		"update": func() error { _, err := cms.Update(ctx, cm); return err },
		"status": func() error {
			p, _ := env.Client.Pods("default").Get(ctx, "p")
			p.Status.Message = "x"
			_, err := fenced.Pods("default").UpdateStatus(ctx, p)
			return err
		},
		"bind": func() error {
			_, err := fenced.BindPod(ctx, "default", "p", "node-1", 0)
			return err
		},
		"delete": func() error { return cms.Delete(ctx, "c") },
	}
	for name, write := range writes {
		err := write()
		if !api.IsLeaderFenced(err) || api.CodeOf(err) != http.StatusPreconditionFailed ||
			!strings.Contains(err.Error(), "/leader/test/1a") {
			t.Errorf("%s under an ended term: %v, want 412 %s naming the fence", name, err, api.ReasonLeaderFenced)
		}
	}
	got, err := fenced.ConfigMaps("default").Get(ctx, "c") // reads are not fenced
	if err != nil || got.Data["v"] != "2" || got.ResourceVersion != cm.ResourceVersion {
		t.Fatalf("after refused writes: %+v %v, want v=2 at revision %d", got, err, cm.ResourceVersion)
	}
	if p, _ := env.Client.Pods("default").Get(ctx, "p"); p.Spec.NodeName != "" || p.Status.Message != "" {
		t.Fatalf("refused binding or status changed the pod: %+v", p)
	}

	raw := newRaw(t, env)
	tok, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	send := func(token, header string) rawResponse {
		t.Helper()
		return raw.doWith(t, http.MethodPost, "/v1/namespaces/default/configmaps", token, []byte(`{"metadata":{"name":"e"}}`),
			map[string]string{"Content-Type": "application/json", api.LeaderFenceHeader: header})
	}
	if r := send(tok.Token, fence.String()); r.Code != http.StatusForbidden || !strings.Contains(string(r.Body), api.LeaderFenceHeader) {
		t.Errorf("viewer sending a fence: %d %s, want 403 naming the header", r.Code, r.Body)
	}
	for _, bad := range []string{"/secrets/default/db@5", "/leader/test/1a", "/leader/test/1a@0", "/leader/test/xyz@5", "junk"} {
		if r := send(env.Config.Token, bad); r.Code != http.StatusBadRequest || !strings.Contains(string(r.Body), api.LeaderFenceHeader) {
			t.Errorf("fence %q: %d %s, want 400 naming the header", bad, r.Code, r.Body)
		}
	}
	if _, err := env.Client.ConfigMaps("default").Get(ctx, "e"); !api.IsNotFound(err) {
		t.Fatalf("a refused request stored its object: %v", err)
	}
}
