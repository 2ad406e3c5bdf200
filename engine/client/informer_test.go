package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// recorder collects handler calls as "add a", "update a", "delete a".
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) handler() client.Handler[*api.ConfigMap] {
	rec := func(s string) { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }
	return client.Handler[*api.ConfigMap]{
		OnAdd:    func(o *api.ConfigMap) { rec("add " + o.Name) },
		OnUpdate: func(_, o *api.ConfigMap) { rec("update " + o.Name) },
		OnDelete: func(o *api.ConfigMap) { rec("delete " + o.Name) },
	}
}

// waitFor polls until the calls contain want (in order, as a subsequence).
func (r *recorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		calls := slices.Clone(r.calls)
		r.mu.Unlock()
		if isSubsequence(want, calls) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("handler calls %v do not contain %v in order", r.calls, want)
}

func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestInformerFollowsTheServer(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cms := env.Client.ConfigMaps("default")
	if _, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "existing", Labels: map[string]string{"team": "a"}}}); err != nil {
		t.Fatal(err)
	}
	inf := client.NewInformer(cms, client.ListOptions{})
	inf.AddIndex("team", func(o *api.ConfigMap) []string { return []string{o.Labels["team"]} })
	var rec recorder
	inf.AddHandler(rec.handler())
	go inf.Run(ctx)
	if !inf.WaitForSync(ctx) {
		t.Fatal("informer never synced")
	}
	rec.waitFor(t, "add existing")

	created, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "new", Labels: map[string]string{"team": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	created.Labels["team"] = "a"
	if _, err := cms.Update(ctx, created); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "existing"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add existing", "add new", "update new", "delete existing")
	if _, ok := inf.Get("default/existing"); ok {
		t.Error("deleted object still cached")
	}
	if got, ok := inf.Get("default/new"); !ok || got.Labels["team"] != "a" {
		t.Errorf("cache has %v, want the updated object", got)
	}
	if byTeam := inf.ByIndex("team", "a"); len(byTeam) != 1 || byTeam[0].Name != "new" {
		t.Errorf("index team=a holds %d objects, want [new]", len(byTeam))
	}
	if len(inf.ByIndex("team", "b")) != 0 {
		t.Error("index still files the object under its old value")
	}
}

// fakeAPI answers list and watch for config maps from scripted states, to
// make a watch expire on demand.
type fakeAPI struct {
	mu      sync.Mutex
	lists   [][]api.ConfigMap // one per list call; the last repeats
	listRev []int64
	listed  int
	watches int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if r.URL.Query().Get("watch") != "" {
		f.watches++
		n := f.watches
		f.mu.Unlock()
		if n == 1 {
			// The first watch finds its revision compacted.
			st := api.NewStatusError(http.StatusGone, api.ReasonGone, "too old").Status
			w.WriteHeader(http.StatusGone)
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	i := min(f.listed, len(f.lists)-1)
	f.listed++
	items, rev := f.lists[i], f.listRev[i]
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(api.List[api.ConfigMap]{Metadata: api.ListMeta{ResourceVersion: rev}, Items: items})
}

func cm(name string, rv int64) api.ConfigMap {
	return api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: rv}}
}

func TestInformerRelistsAfterExpiredWatch(t *testing.T) {
	t.Parallel()
	fake := &fakeAPI{
		lists:   [][]api.ConfigMap{{cm("a", 1), cm("b", 2)}, {cm("a", 5), cm("c", 6)}},
		listRev: []int64{10, 20},
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c, err := client.New(client.Config{Server: srv.URL, Token: "t.t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inf := client.NewInformer(c.ConfigMaps("default"), client.ListOptions{})
	var rec recorder
	inf.AddHandler(rec.handler())
	go inf.Run(ctx)
	// The relist reports what changed while the watch was lost: a changed,
	// b gone, c new.
	rec.waitFor(t, "add a", "add b", "update a")
	rec.waitFor(t, "delete b")
	rec.waitFor(t, "add c")
	names := func() []string {
		var out []string
		for _, o := range inf.List() {
			out = append(out, fmt.Sprintf("%s@%d", o.Name, o.ResourceVersion))
		}
		slices.Sort(out)
		return out
	}()
	if !slices.Equal(names, []string{"a@5", "c@6"}) {
		t.Fatalf("cache after relist = %v, want [a@5 c@6]", names)
	}
}

func TestClientErrorsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	_, err := client.LoadConfig(t.TempDir() + "/missing")
	if !errors.Is(err, client.ErrNoConfig) {
		t.Fatalf("missing config: %v, want ErrNoConfig", err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := client.New(client.Config{Server: url, Token: "t.t"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Pods("default").List(context.Background(), client.ListOptions{})
	if !errors.Is(err, client.ErrUnreachable) {
		t.Fatalf("closed server: %v, want ErrUnreachable", err)
	}
	for _, bad := range []client.Config{{Token: "x"}, {Server: "ftp://x", Token: "x"}, {Server: "https://x"}} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/sub/config"
	want := client.Config{Server: "https://127.0.0.1:6443", Token: "abc.def", CertificateAuthorityData: testCA}
	if err := client.WriteConfig(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := client.LoadConfig(path)
	if err != nil || got != want {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}
