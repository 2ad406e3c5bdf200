package registry

import (
	"context"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestCreatesFollowTheirNamespace(t *testing.T) {
	r := newTestRegistry(t)
	ctx := context.Background()
	if _, err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) error {
		_, err := r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "shop"}}, WriteOptions{})
		return err
	}
	if err := mk("first"); err != nil { // reads the namespace and remembers it
		t.Fatal(err)
	}
	// Deletion starts (the namespace finalizer holds it): no more creates,
	// even though the registry remembers the namespace as active.
	if _, _, err := r.Delete(ctx, nsKind, "", "shop", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mk("during-deletion"); !api.IsForbidden(err) {
		t.Fatalf("create in a terminating namespace: %v, want Forbidden", err)
	}
	// Events may still be recorded there.
	ev := &api.Event{ObjectMeta: api.ObjectMeta{Name: "e", Namespace: "shop"}, Reason: "R",
		InvolvedObject: api.ObjectReference{Kind: "ConfigMap", Name: "first"}}
	if _, err := r.Create(ctx, ev, WriteOptions{}); err != nil {
		t.Fatalf("event in a terminating namespace: %v", err)
	}
	// The namespace goes; a new one of the same name is a new namespace.
	ns, _ := r.Get(ctx, nsKind, "", "shop")
	ns.GetObjectMeta().Finalizers = nil
	if _, err := r.Update(ctx, ns, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mk("after-deletion"); !api.IsNotFound(err) {
		t.Fatalf("create in a deleted namespace: %v, want NotFound", err)
	}
	if _, err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mk("recreated"); err != nil {
		t.Fatalf("create in the re-created namespace: %v", err)
	}
}
