package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Refreshing an unchanged object without the framework.
//
// A resource's state is a function of the live object and the prior
// state (flatten), and flattening the same object again into its own
// result gives that result: the acceptance tests hold the provider to it
// (see provider_test.go). So when the live object is still the version a
// stored state was flattened from, and the stored state is still the one
// written then, refreshing gives the stored state back, and asking the API
// server for the object's resourceVersion is all a refresh needs to do.
//
// Every write of a state records, in the resource's private state, the
// object it was flattened from (crud.markRefresh), and the protocol server
// seals that record with a digest of the state it goes out with
// (sealMark): a refreshMark. A refresh whose mark names the live object's
// UID and resourceVersion and the digest of the state Terraform sends
// returns that state and private state as they are. Anything else goes to
// the framework: no mark (an import, a state written by an older
// provider), another provider version (its flatten may differ), a state
// changed since it was written (upgraded from an older schema, edited), a
// state that keeps part of the object as it was (another controller owns
// it, so the state is not the object's), a gone or unreadable object,
// settings known only after apply. After a wait (a rollout, a pod
// starting), the object has moved on: the mark is made from the object as
// it is when the wait ends, if refreshing would leave the state as it is.
//
// Objects that controllers keep writing (a deployment's status, its
// revision annotation) would miss the mark at every plan, since a plan
// does not save what it refreshed. A kind that says what flatten reads of
// its objects (crud.reads) has the mark hold a digest of that too: the
// object's spec, say, and the labels and annotations the state tracks. A
// live object with another resourceVersion but the same digest flattens
// into the same state.

// refreshMarkKey is the private state key of the refreshMark.
const refreshMarkKey = "refresh"

// refreshMark names the object version a state was flattened from: its
// UID and resourceVersion (store revisions never repeat in a cluster, a
// restore included: store.RestoreRevisionBump; the UID tells a cluster
// made again, whose revisions start over, or an object made again).
type refreshMark struct {
	Version         string `json:"v"` // the provider's
	Namespace       string `json:"ns,omitempty"`
	Name            string `json:"name"`
	UID             string `json:"uid"`
	ResourceVersion int64  `json:"rv"`
	// State is the stateDigest of the state the mark went out with.
	State string `json:"state,omitempty"`
	// Reads is the digest of what flatten read of the object (readsDigest),
	// for a kind that says what that is; Labels and Annotations are the
	// keys of the object's maps the state tracks, which flatten reads.
	Reads       string   `json:"reads,omitempty"`
	Labels      []string `json:"labels,omitempty"`
	Annotations []string `json:"annotations,omitempty"`
}

// flattenReads is what a kind's flatten reads of an object: besides the
// metadata's name, namespace and UID, the labels and annotations the state
// tracks (the keys of the model's maps) and what object returns.
type flattenReads[T api.Object, M any] struct {
	object   func(obj T) any
	metadata func(m *M) (labels, annotations types.Map)
}

// readsOf makes the flattenReads of a kind whose model has the usual
// metadata block.
func readsOf[T api.Object, M any](object func(obj T) any, md func(m *M) *metadataModel) *flattenReads[T, M] {
	return &flattenReads[T, M]{object: object, metadata: func(m *M) (types.Map, types.Map) {
		if b := md(m); b != nil {
			return b.Labels, b.Annotations
		}
		return types.MapNull(types.StringType), types.MapNull(types.StringType)
	}}
}

// readsDigest digests what flatten reads of obj, given the keys of its
// labels and annotations the state tracks ("" when it cannot).
func (f *flattenReads[T, M]) readsDigest(obj T, labels, annotations []string) string {
	meta := obj.GetObjectMeta()
	b, err := json.Marshal(struct {
		Labels, Annotations map[string]string
		Object              any
	}{pick(meta.Labels, labels), pick(meta.Annotations, annotations), f.object(obj)})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// pick is m's entries under keys.
func pick(m map[string]string, keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// mapKeys is a map value's keys, sorted (none when null or unknown).
func mapKeys(m types.Map) []string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	return slices.Sorted(maps.Keys(m.Elements()))
}

// privateKeys is a response's private state (the framework's type is
// internal to it).
type privateKeys interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// refresher is a resource that can tell whether its object still
// flattens into the state a mark was made for.
type refresher interface {
	current(ctx context.Context, c *client.Client, mark refreshMark) bool
}

type refreshKind struct {
	typ tftypes.Type
	refresher
}

// markRefresh records in private which object the state was flattened
// from (as m, the state, has it), or removes the record when the state
// keeps part of the object as it was (owned).
func (r *crud[T, M]) markRefresh(ctx context.Context, private privateKeys, obj T, m *M, owned bool) diag.Diagnostics {
	if owned || r.handle == nil {
		return private.SetKey(ctx, refreshMarkKey, nil)
	}
	meta := obj.GetObjectMeta()
	rm := refreshMark{Version: r.handle.version, Namespace: meta.Namespace, Name: meta.Name,
		UID: meta.UID, ResourceVersion: meta.ResourceVersion}
	if r.reads != nil {
		labels, annotations := r.reads.metadata(m)
		rm.Labels, rm.Annotations = mapKeys(labels), mapKeys(annotations)
		rm.Reads = r.reads.readsDigest(obj, rm.Labels, rm.Annotations)
	}
	mark, err := json.Marshal(rm)
	if err != nil {
		return private.SetKey(ctx, refreshMarkKey, nil)
	}
	return private.SetKey(ctx, refreshMarkKey, mark)
}

// markIfCurrent marks the state m after a wait: with the live object's
// version when refreshing would leave m as it is, else not at all.
func (r *crud[T, M]) markIfCurrent(ctx context.Context, c *client.Client, m *M, owned bool, private privateKeys) diag.Diagnostics {
	ns, name := r.key(m)
	live, err := r.api(c, ns).Get(ctx, name)
	if err != nil || r.gone != nil && r.gone(live) {
		return nil
	}
	refreshed := cloneModel(*m)
	var ignored diag.Diagnostics // a refresh reports them
	r.flattenKeeping(ctx, live, &refreshed, owned, &ignored)
	if ignored.HasError() || !reflect.DeepEqual(refreshed, *m) {
		return nil
	}
	return r.markRefresh(ctx, private, live, m, owned)
}

// current reports whether the live object still flattens into the state
// mark was made for: the same object (UID), at the marked version or
// changed since only in what flatten does not read. Not when it is gone,
// terminating or cannot be read (the framework then says which).
func (r *crud[T, M]) current(ctx context.Context, c *client.Client, mark refreshMark) bool {
	obj, err := r.api(c, mark.Namespace).Get(ctx, mark.Name)
	if err != nil || r.gone != nil && r.gone(obj) {
		return false
	}
	meta := obj.GetObjectMeta()
	if meta.UID != mark.UID {
		return false
	}
	return meta.ResourceVersion == mark.ResourceVersion ||
		r.reads != nil && mark.Reads != "" && r.reads.readsDigest(obj, mark.Labels, mark.Annotations) == mark.Reads
}

// ReadResource returns the stored state of an object that is still the
// version it was written from; any other request goes to the framework.
func (u *directServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	framework := func(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
		resp, err := u.ProviderServer.ReadResource(ctx, req)
		if err == nil {
			resp.Private = sealMark(resp.NewState, resp.Private)
		}
		return resp, err
	}
	var shadow func(ours, framework *tfprotov6.ReadResourceResponse)
	if u.shadows.refresh != nil {
		shadow = func(ours, framework *tfprotov6.ReadResourceResponse) {
			u.shadows.refresh(u.refreshers[req.TypeName].typ, req, ours, framework)
		}
	}
	return answer(ctx, req, u.refreshUnchanged(ctx, req), framework, shadow)
}

// ApplyResourceChange seals the mark of the state it writes.
func (u *directServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := u.ProviderServer.ApplyResourceChange(ctx, req)
	if err == nil {
		resp.Private = sealMark(resp.NewState, resp.Private)
	}
	return resp, err
}

// refreshUnchanged is the refresh of an unchanged object, or nil when the
// framework must refresh it.
func (u *directServer) refreshUnchanged(ctx context.Context, req *tfprotov6.ReadResourceRequest) *tfprotov6.ReadResourceResponse {
	k, ok := u.refreshers[req.TypeName]
	if !ok || req.CurrentState == nil || len(req.CurrentState.MsgPack) == 0 {
		return nil
	}
	_, mark, ok := readRefreshMark(req.Private)
	h := u.provider.handle.Load()
	if !ok || mark.State == "" || mark.Version != u.provider.version || h.settingsUnknown() {
		return nil
	}
	c, diags := h.Client()
	if c == nil || diags.HasError() {
		return nil // the framework reports why
	}
	if digest, err := stateDigest(req.CurrentState.MsgPack); err != nil || digest != mark.State {
		return nil
	}
	if !k.current(ctx, c, mark) {
		return nil
	}
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}
}

// sealMark adds to the refreshMark in private the digest of the state it
// goes out with; a state without a digest (none, or one with a value only
// one encoder writes) takes the mark away.
func sealMark(state *tfprotov6.DynamicValue, private []byte) []byte {
	keys, mark, ok := readRefreshMark(private)
	if !ok {
		return private
	}
	mark.State = ""
	if state != nil && len(state.MsgPack) > 0 {
		mark.State, _ = stateDigest(state.MsgPack)
	}
	delete(keys, refreshMarkKey)
	if mark.State != "" {
		b, err := json.Marshal(mark)
		if err != nil {
			return private
		}
		keys[refreshMarkKey] = b
	}
	if len(keys) == 0 {
		return nil // as the framework writes an empty private state
	}
	out, err := json.Marshal(keys)
	if err != nil {
		return private
	}
	return out
}

// readRefreshMark is the refreshMark in a private state, if any, with
// the private state's keys.
func readRefreshMark(private []byte) (map[string][]byte, refreshMark, bool) {
	var keys map[string][]byte // the framework's encoding of its private state
	var mark refreshMark
	if len(private) == 0 || json.Unmarshal(private, &keys) != nil || len(keys[refreshMarkKey]) == 0 ||
		json.Unmarshal(keys[refreshMarkKey], &mark) != nil || mark.Name == "" || mark.UID == "" || mark.ResourceVersion == 0 {
		return keys, refreshMark{}, false
	}
	return keys, mark, true
}
