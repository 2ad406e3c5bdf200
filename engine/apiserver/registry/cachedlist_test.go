package registry

import (
	"context"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

// CachedList answers from the watch cache once it runs, without listing
// the store, and says so when it does not run.
func TestCachedList(t *testing.T) {
	r, fs := newFlakyRegistry(t)
	ctx := context.Background()
	createCMIn(t, r, "a", "web", map[string]string{"app": "web"})
	createCMIn(t, r, "a", "db", map[string]string{"app": "db"})
	createCMIn(t, r, "b", "web", map[string]string{"app": "web"})
	if _, ok := r.CachedList(cmKind, "", Selectors{}); ok {
		t.Fatal("CachedList answered before any watch filled the cache")
	}
	w, err := r.Watch(ctx, cmKind, "", 0, Selectors{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	initialEvents(t, w)
	lists := fs.lists.Load()
	sel, err := labels.Parse("app=web")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		namespace string
		sel       Selectors
		want      []string
	}{
		{"", Selectors{}, []string{"db", "web", "web"}}, // in key order
		{"a", Selectors{}, []string{"db", "web"}},
		{"", Selectors{Labels: sel}, []string{"web", "web"}},
		{"b", Selectors{Labels: sel}, []string{"web"}},
	}
	for _, tc := range cases {
		objs, ok := r.CachedList(cmKind, tc.namespace, tc.sel)
		if !ok {
			t.Fatal("CachedList did not answer with the cache running")
		}
		var got []string
		for _, o := range objs {
			got = append(got, o.GetObjectMeta().Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("namespace %q %v: %v, want %v", tc.namespace, tc.sel.Labels, got, tc.want)
		}
	}
	if n := fs.lists.Load(); n != lists {
		t.Errorf("CachedList listed the store %d times", n-lists)
	}
}
