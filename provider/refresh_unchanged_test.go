package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestRefreshUnchanged: a refresh whose private state names the live
// object's resourceVersion returns the stored state and private state
// without the framework; every other refresh (no mark, a mark of another
// provider version, an object written since, gone or terminating, a
// provider whose settings are known only after apply or that was never
// configured, a resource type that keeps no mark) goes to the framework.
// That the states are the framework's own is checked over every
// acceptance test (shadowRefreshes in provider_test.go).
func TestRefreshUnchanged(t *testing.T) {
	ctx := context.Background()
	env := testenv.Start(t)
	u, err := newServer("test", shadows{})
	if err != nil {
		t.Fatal(err)
	}
	cms := env.Client.ConfigMaps("default")
	cm, err := cms.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "web"}, Data: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop", Finalizers: []string{"test.maestro.dev/hold"}}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Namespaces().Delete(ctx, "shop"); err != nil { // terminating, held by its finalizer
		t.Fatal(err)
	}
	ns, err := env.Client.Namespaces().Get(ctx, "shop")
	if err != nil || ns.DeletionTimestamp == nil {
		t.Fatalf("namespace shop is not terminating: %v, %v", ns, err)
	}
	state := func(typeName string) *tfprotov6.DynamicValue {
		typ := u.refreshers[typeName].typ
		if typ == nil {
			typ = tftypes.Object{}
		}
		v, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	stored := state("maestro_config_map")
	digest, err := stateDigest(stored.MsgPack)
	if err != nil {
		t.Fatal(err)
	}
	private := func(m refreshMark, extra map[string][]byte) []byte {
		keys := map[string][]byte{}
		for k, v := range extra {
			keys[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		keys[refreshMarkKey] = b
		out, err := json.Marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	configured := &clientHandle{client: env.Client, version: "test"}
	current := refreshMark{Version: "test", Namespace: "default", Name: "web", UID: cm.UID, ResourceVersion: cm.ResourceVersion, State: digest}
	withVersion := func(v string) refreshMark { m := current; m.Version = v; return m }
	withRV := func(rv int64) refreshMark { m := current; m.ResourceVersion = rv; return m }
	withName := func(n string) refreshMark { m := current; m.Name = n; return m }
	withUID := func(uid string) refreshMark { m := current; m.UID = uid; return m }
	withState := func(digest string) refreshMark { m := current; m.State = digest; return m }

	tests := []struct {
		name     string
		typeName string
		handle   *clientHandle
		private  []byte
		fast     bool
	}{
		{"the version the state was written from", "maestro_config_map", configured, private(current, nil), true},
		{"other private keys are kept", "maestro_config_map", configured, private(current, map[string][]byte{"other": []byte(`{"x":1}`)}), true},
		{"no private state (imported, or written by an older provider)", "maestro_config_map", configured, nil, false},
		{"private state without a mark", "maestro_config_map", configured, []byte(`{"other":"e30="}`), false},
		{"private state that is not the framework's", "maestro_config_map", configured, []byte(`not json`), false},
		{"a mark of another provider version", "maestro_config_map", configured, private(withVersion("0.9.0"), nil), false},
		{"written since", "maestro_config_map", configured, private(withRV(cm.ResourceVersion-1), nil), false},
		{"another object of that name and version (a cluster made again)", "maestro_config_map", configured, private(withUID("u-elsewhere"), nil), false},
		{"a state changed since it was written (upgraded, edited)", "maestro_config_map", configured, private(withState("0123456789abcdef0123456789abcdef"), nil), false},
		{"a mark that went out unsealed", "maestro_config_map", configured, private(withState(""), nil), false},
		{"gone", "maestro_config_map", configured, private(withName("gone"), nil), false},
		{"terminating", "maestro_namespace", configured,
			private(refreshMark{Version: "test", Name: "shop", UID: ns.UID, ResourceVersion: ns.ResourceVersion, State: digest}, nil), false},
		{"settings known only after apply", "maestro_config_map", &clientHandle{unknown: true, version: "test"}, private(current, nil), false},
		{"not configured", "maestro_config_map", nil, private(current, nil), false},
		{"a resource type without marks", "maestro_cluster", configured, private(current, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u.provider.handle.Store(tt.handle)
			req := &tfprotov6.ReadResourceRequest{TypeName: tt.typeName, CurrentState: stored, Private: tt.private}
			got := u.refreshUnchanged(ctx, req)
			if (got != nil) != tt.fast {
				t.Fatalf("answered without the framework: %v, want %v", got != nil, tt.fast)
			}
			if got == nil {
				return
			}
			if got.NewState != req.CurrentState || !bytes.Equal(got.Private, tt.private) || len(got.Diagnostics) > 0 {
				t.Errorf("got state %p (stored %p), private %q (stored %q), diagnostics %v", got.NewState, req.CurrentState, got.Private, tt.private, got.Diagnostics)
			}
		})
	}
}

// keys is a private state for crud's marks.
type keys map[string][]byte

func (k keys) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	if len(value) == 0 {
		delete(k, key)
	} else {
		k[key] = value
	}
	return nil
}

func (k keys) mark(t *testing.T) (refreshMark, bool) {
	t.Helper()
	b, err := json.Marshal(map[string][]byte(k))
	if err != nil {
		t.Fatal(err)
	}
	_, mark, ok := readRefreshMark(b)
	return mark, ok
}

// TestMarkAfterWait: after a wait, the state is marked with the object
// as it is then when refreshing would leave the state as it is (a
// rollout moved only the status on), and not at all when it would not
// (the spec changed meanwhile), when another controller owns part of the
// object, or when the object is gone.
func TestMarkAfterWait(t *testing.T) {
	ctx := context.Background()
	env := testenv.Start(t)
	deployments := env.Client.Deployments("default")
	d, err := deployments.Create(ctx, testenv.DemoDeployment("demo:test", "web", 2))
	if err != nil {
		t.Fatal(err)
	}
	r := NewDeploymentResource().(*DeploymentResource)
	r.handle = &clientHandle{client: env.Client, version: "test"}
	m := r.importModel()
	var diags diag.Diagnostics
	r.flatten(ctx, d, &m, true, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	d.Status.ObservedGeneration = d.Generation
	d.Status.Replicas, d.Status.ReadyReplicas = 2, 2
	if d, err = deployments.UpdateStatus(ctx, d); err != nil {
		t.Fatal(err)
	}

	private := keys{}
	r.markIfCurrent(ctx, env.Client, &m, false, private)
	want := refreshMark{Version: "test", Namespace: "default", Name: "web", UID: d.UID, ResourceVersion: d.ResourceVersion,
		Labels: mapKeys(m.Metadata.Labels), Reads: r.reads.readsDigest(d, mapKeys(m.Metadata.Labels), nil)}
	if mark, ok := private.mark(t); !ok || !reflect.DeepEqual(mark, want) {
		t.Errorf("after a status change: mark %+v (%v), want %+v", mark, ok, want)
	}
	r.markIfCurrent(ctx, env.Client, &m, true, private)
	if mark, ok := private.mark(t); ok {
		t.Errorf("owned elsewhere: mark %+v, want none", mark)
	}

	d.Spec.Replicas = api.Ptr[int32](3)
	if d, err = deployments.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	private = keys{}
	r.markIfCurrent(ctx, env.Client, &m, false, private)
	if mark, ok := private.mark(t); ok {
		t.Errorf("after a spec change: mark %+v, want none", mark)
	}
	r.flatten(ctx, d, &m, false, &diags) // the state of the object as it is now
	r.markIfCurrent(ctx, env.Client, &m, false, private)
	if mark, ok := private.mark(t); !ok || mark.ResourceVersion != d.ResourceVersion {
		t.Errorf("refreshed after the spec change: mark %+v (%v), want one of resourceVersion %d", mark, ok, d.ResourceVersion)
	}
	private = keys{}
	if err := deployments.Delete(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	r.markIfCurrent(ctx, env.Client, &m, false, private)
	if mark, ok := private.mark(t); ok {
		t.Errorf("gone: mark %+v, want none", mark)
	}
}

// TestSealMark: a mark goes out with the digest of the state it goes out
// with, or not at all when that state has none; a private state without a
// mark goes out as it is.
func TestSealMark(t *testing.T) {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"id": tftypes.String}}
	dv := func(v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	state := dv(tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, "default/web")}))
	unknown := dv(tftypes.NewValue(typ, map[string]tftypes.Value{"id": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)}))
	digest, err := stateDigest(state.MsgPack)
	if err != nil {
		t.Fatal(err)
	}
	mark, err := json.Marshal(refreshMark{Version: "test", Name: "web", UID: "u-1", ResourceVersion: 7})
	if err != nil {
		t.Fatal(err)
	}
	private := func(keys map[string][]byte) []byte {
		b, err := json.Marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	other := []byte(`{"x":1}`)
	tests := []struct {
		name    string
		state   *tfprotov6.DynamicValue
		private []byte
		want    string // the sealed mark's digest, "" for no mark
		other   bool   // the other key is still there
	}{
		{"sealed with the state's digest", state, private(map[string][]byte{refreshMarkKey: mark}), digest, false},
		{"other keys kept", state, private(map[string][]byte{refreshMarkKey: mark, "other": other}), digest, true},
		{"no state (removed)", nil, private(map[string][]byte{refreshMarkKey: mark, "other": other}), "", true},
		{"a state with an unknown value", unknown, private(map[string][]byte{refreshMarkKey: mark}), "", false},
		{"no mark", state, private(map[string][]byte{"other": other}), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := sealMark(tt.state, tt.private)
			keys, got, ok := readRefreshMark(sealed)
			if ok != (tt.want != "") || got.State != tt.want {
				t.Errorf("sealed %q: mark %+v (%v), want digest %q", sealed, got, ok, tt.want)
			}
			if _, kept := keys["other"]; kept != tt.other {
				t.Errorf("sealed %q: other key kept %v, want %v", sealed, kept, tt.other)
			}
		})
	}
	if sealed := sealMark(unknown, private(map[string][]byte{refreshMarkKey: mark})); sealed != nil {
		t.Errorf("a private state left empty: %q, want none (as the framework writes it)", sealed)
	}
}

// TestRefreshAfterUnreadWrites: a deployment written since its state was
// marked is refreshed without the framework when the write changed only
// what flatten does not read (the status, the controller's revision
// annotation, a label or annotation the state does not track), and by the
// framework when it changed what it reads (the spec, a tracked label or
// annotation, one of them removed) or is another object of that name.
func TestRefreshAfterUnreadWrites(t *testing.T) {
	ctx := context.Background()
	env := testenv.Start(t)
	u, err := newServer("test", shadows{})
	if err != nil {
		t.Fatal(err)
	}
	u.provider.handle.Store(&clientHandle{client: env.Client, version: "test"})
	r := NewDeploymentResource().(*DeploymentResource)
	r.handle = u.provider.handle.Load()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	deployments := env.Client.Deployments("default")

	tests := []struct {
		name  string
		write func(d *api.Deployment)
		fast  bool
	}{
		{"nothing", nil, true},
		{"the status", func(d *api.Deployment) { d.Status.ReadyReplicas, d.Status.ObservedGeneration = 2, d.Generation }, true},
		{"the revision annotation", func(d *api.Deployment) { d.Annotations[api.AnnotationRevision] = "2" }, true},
		{"a label the state does not track", func(d *api.Deployment) { d.Labels["added-by"] = "someone" }, true},
		{"the spec", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr[int32](5) }, false},
		{"a tracked label", func(d *api.Deployment) { d.Labels["tier"] = "db" }, false},
		{"a tracked label removed", func(d *api.Deployment) { delete(d.Labels, "tier") }, false},
		{"a tracked annotation", func(d *api.Deployment) { d.Annotations["owner"] = "ops" }, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("web-%d", i)
			created, err := deployments.Create(ctx, testenv.DemoDeployment("demo:test", name, 2, func(d *api.Deployment) {
				d.Labels = map[string]string{"tier": "web"}
				d.Annotations = map[string]string{"owner": "web-team", api.AnnotationRevision: "1"}
			}))
			if err != nil {
				t.Fatal(err)
			}
			// The state as an apply leaves it, its mark sealed.
			m := r.importModel()
			var diags diag.Diagnostics
			r.flatten(ctx, created, &m, true, &diags)
			st := tfsdk.State{Schema: sr.Schema}
			diags.Append(st.Set(ctx, &m)...)
			private := keys{}
			diags.Append(r.markRefresh(ctx, private, created, &m, false)...)
			if diags.HasError() {
				t.Fatal(diags)
			}
			state, err := tfprotov6.NewDynamicValue(st.Raw.Type(), st.Raw)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(map[string][]byte(private))
			if err != nil {
				t.Fatal(err)
			}
			sealed := sealMark(&state, b)

			if tt.write != nil {
				live, err := deployments.Get(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				tt.write(live)
				if _, err := deployments.Update(ctx, live); err != nil {
					t.Fatal(err)
				}
				if live, err = deployments.Get(ctx, name); err != nil {
					t.Fatal(err)
				}
				tt.write(live) // status is written on its own
				if _, err := deployments.UpdateStatus(ctx, live); err != nil {
					t.Fatal(err)
				}
			}
			got := u.refreshUnchanged(ctx, &tfprotov6.ReadResourceRequest{TypeName: "maestro_deployment", CurrentState: &state, Private: sealed})
			if (got != nil) != tt.fast {
				t.Fatalf("answered without the framework: %v, want %v", got != nil, tt.fast)
			}
		})
	}
}
