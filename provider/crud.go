package provider

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// crud is what every resource does the same way: read the plan or state,
// get the client, call the API, report failures with the object's name,
// treat an object deleted outside Terraform as gone (so the plan recreates
// it), and write the model back. Each resource supplies the parts that
// differ: the conversion between its model M and the API object T, and
// optional hooks for waiting.
type crud[T api.Object, M any] struct {
	handle *clientHandle
	// kind names the object in messages ("config map").
	kind string
	// api addresses the object's collection in a namespace ("" for
	// cluster-scoped kinds).
	api func(c *client.Client, namespace string) client.Resource[T]
	// newObj returns an empty object to create.
	newObj func() T
	// key is the namespace and name a model addresses.
	key func(m *M) (namespace, name string)
	// expand writes the plan into obj: an empty object on create (state is
	// nil), the live one on update. config is the configuration, for
	// write-only attributes.
	expand func(ctx context.Context, plan, state, config *M, obj T, diags *diag.Diagnostics)
	// flatten writes obj into m, which holds the prior values (zero on
	// import, where importing is true).
	flatten func(ctx context.Context, obj T, m *M, importing bool, diags *diag.Diagnostics)

	// Optional hooks.

	// importModel is the model import starts from (default the zero M).
	importModel func() M
	// importExample is a sample import command for the error message.
	importExample string
	// clusterScoped kinds import by name rather than namespace/name.
	clusterScoped bool
	// gone reports a live object that counts as deleted (terminating).
	gone func(obj T) bool
	// defaults are the operations' timeouts; a zero delete timeout means
	// delete does not wait for the object to be gone.
	defaults opTimeouts
	// timeouts reads the model's timeouts block, which overrides the
	// defaults (nil: the resource has none).
	timeouts func(m *M) timeouts.Value
	// waits reports whether create and update wait after writing
	// (wait_for_rollout); afterWrite is that wait. It runs once the new
	// state is saved, so a failure taints the resource; what it changes
	// in m (a pod's node) is saved too.
	waits      func(m *M) bool
	afterWrite func(ctx context.Context, c *client.Client, obj T, m *M, timeout time.Duration, diags *diag.Diagnostics)
	// owned, when set, reports that another controller owns part of the
	// live object (an autoscaler owns its target's replicas). Refresh and
	// apply then keep that part of the model as it was (keepModel), and
	// update leaves it as it is on the live object (keepObject), so
	// Terraform neither fights the owner nor shows its changes as a diff.
	owned      func(ctx context.Context, c *client.Client, obj T) (bool, error)
	keepModel  func(m *M) (restore func(*M))
	keepObject func(obj T) (restore func(T))
	// reads, when set, is what flatten reads of an object: a refresh mark
	// then also holds when the object was written since only in what
	// flatten does not read (its status, a controller's annotation); see
	// refresh_unchanged.go. nil: any write misses the mark.
	reads *flattenReads[T, M]
	// writeError reports a failed create or update (default apiError);
	// secrets use it to keep values out of the message.
	writeError func(diags *diag.Diagnostics, summary string, err error, obj T)
}

// opTimeouts are default timeouts of create, update and delete.
type opTimeouts struct{ create, update, delete time.Duration }

// timeout is how long operation op ("create", "update", "delete") may
// take for model m: its timeouts block's value, or the default.
func (r *crud[T, M]) timeout(ctx context.Context, m *M, op string, diags *diag.Diagnostics) time.Duration {
	def := map[string]time.Duration{"create": r.defaults.create, "update": r.defaults.update, "delete": r.defaults.delete}[op]
	if r.timeouts == nil {
		return def
	}
	t := r.timeouts(m)
	var d diag.Diagnostics
	var timeout time.Duration
	switch op {
	case "create":
		timeout, d = t.Create(ctx, def)
	case "update":
		timeout, d = t.Update(ctx, def)
	default:
		timeout, d = t.Delete(ctx, def)
	}
	diags.Append(d...)
	return timeout
}

// name is how messages refer to an object.
func (r *crud[T, M]) name(ns, name string) string {
	if ns == "" {
		return fmt.Sprintf("%s %q", r.kind, name)
	}
	return fmt.Sprintf("%s %s/%s", r.kind, ns, name)
}

// The methods below are promoted into every resource that embeds crud,
// making it a resource.ResourceWithConfigure and ResourceWithImportState.

func (r *crud[T, M]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.handle = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *crud[T, M]) reportWrite(diags *diag.Diagnostics, summary string, err error, obj T) {
	if r.writeError != nil {
		r.writeError(diags, summary, err, obj)
		return
	}
	apiError(diags, summary, err)
}

func (r *crud[T, M]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	obj := r.newObj()
	r.expand(ctx, &plan, nil, &config, obj, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := r.key(&plan)
	created, err := r.api(c, ns).Create(ctx, obj)
	if err != nil {
		r.reportWrite(&resp.Diagnostics, "Cannot create "+r.name(ns, name), err, obj)
		return
	}
	r.saveAndWait(ctx, c, created, &plan, true, false, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *crud[T, M]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if r.handle.settingsUnknown() {
		// The cluster is still to be made (or remade): there is nothing
		// to ask yet. Keep the state as it is and say so.
		ns, name := r.key(&state)
		resp.Diagnostics.AddWarning("Not refreshed: "+r.name(ns, name),
			"The provider's endpoint, token or CA certificate is known only after apply (the cluster it reaches is being created or replaced), so this object could not be read. "+
				"It is kept as it was; if the cluster is new, apply again afterwards to create it there.")
		return
	}
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := r.key(&state)
	obj, err := r.api(c, ns).Get(ctx, name)
	if api.IsNotFound(err) || err == nil && r.gone != nil && r.gone(obj) {
		resp.State.RemoveResource(ctx) // deleted outside Terraform: plan recreates it
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot read "+r.name(ns, name), err)
		return
	}
	owned := r.ownedElsewhere(ctx, c, obj, &resp.Diagnostics)
	prior := cloneModel(state)
	r.flattenKeeping(ctx, obj, &state, owned, &resp.Diagnostics)
	resp.Diagnostics.Append(r.markRefresh(ctx, resp.Private, obj, &state, owned)...)
	if reflect.DeepEqual(prior, state) {
		// Nothing changed: the response's state is already the prior
		// state, and converting the model back (a third of a
		// deployment's refresh CPU) would give the same value.
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// cloneModel returns a copy of a resource model that shares no pointer or
// slice with m, so flattening into one leaves the other as it was. The
// framework's values (types.String, types.Map, ...) are immutable and
// copied as they are.
func cloneModel[M any](m M) M {
	var out M
	cloneValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(m))
	return out
}

// modelPackage is the package path of the provider's model types, the
// only structs cloneValue looks into.
var modelPackage = reflect.TypeFor[opTimeouts]().PkgPath()

func cloneValue(dst, src reflect.Value) {
	dst.Set(src)
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		cloneValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			cloneValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			cloneValue(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Struct:
		if src.Type().PkgPath() != modelPackage {
			return
		}
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				cloneValue(dst.Field(i), src.Field(i))
			}
		}
	}
}

// ownedElsewhere asks the owned hook; a failure to tell is a warning and
// counts as not owned (Terraform then manages the part as usual).
func (r *crud[T, M]) ownedElsewhere(ctx context.Context, c *client.Client, obj T, diags *diag.Diagnostics) bool {
	if r.owned == nil {
		return false
	}
	owned, err := r.owned(ctx, c, obj)
	if err != nil {
		meta := obj.GetObjectMeta()
		diags.AddWarning("Cannot tell whether another controller owns part of "+r.name(meta.Namespace, meta.Name),
			fmt.Sprintf("%v. Terraform manages it as configured.", err))
		return false
	}
	return owned
}

// flattenKeeping flattens obj into m, keeping the part another controller
// owns as m had it.
func (r *crud[T, M]) flattenKeeping(ctx context.Context, obj T, m *M, owned bool, diags *diag.Diagnostics) {
	if !owned {
		r.flatten(ctx, obj, m, false, diags)
		return
	}
	restore := r.keepModel(m)
	r.flatten(ctx, obj, m, false, diags)
	restore(m)
}

func (r *crud[T, M]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := r.key(&plan)
	// The update is made on the live object, and written only if nothing
	// wrote it since it was read. Controllers and agents write objects
	// all the time (a deployment's status): after such a conflict the
	// object is read again and the update made again on it.
	var updated, live T
	var owned bool
	var d diag.Diagnostics
	err := client.RetryOnConflict(ctx, func() error {
		var err error
		d = nil
		updated, live, owned, err = r.updateLive(ctx, c, ns, name, &plan, &state, &config, &d)
		return err
	})
	if api.IsConflict(err) {
		r.reportWrite(&d, "Cannot update "+r.name(ns, name), err, live)
	}
	resp.Diagnostics.Append(d...)
	if err == nil && !resp.Diagnostics.HasError() {
		r.saveAndWait(ctx, c, updated, &plan, false, owned, &resp.State, resp.Private, &resp.Diagnostics)
	}
}

// updateLive reads the live object, applies the plan to it and writes
// it. Every error but a conflict is reported in diags; the one it returns
// is the write's, so the caller can try again after a conflict.
func (r *crud[T, M]) updateLive(ctx context.Context, c *client.Client, ns, name string, plan, state, config *M, diags *diag.Diagnostics) (updated, live T, owned bool, err error) {
	live, err = r.api(c, ns).Get(ctx, name)
	if err != nil {
		apiError(diags, "Cannot read "+r.name(ns, name), err)
		return updated, live, false, nil
	}
	owned = r.ownedElsewhere(ctx, c, live, diags)
	keep := func(T) {}
	if owned {
		keep = r.keepObject(live)
	}
	r.expand(ctx, plan, state, config, live, diags)
	if diags.HasError() {
		return updated, live, owned, nil
	}
	keep(live)
	updated, err = r.api(c, ns).Update(ctx, live)
	if err != nil && !api.IsConflict(err) {
		r.reportWrite(diags, "Cannot update "+r.name(ns, name), err, live)
	}
	return updated, live, owned, err
}

// stateSetter is the state of a create or update response.
type stateSetter interface {
	Set(ctx context.Context, val any) diag.Diagnostics
}

// saveAndWait records the written object, then runs afterWrite: the state
// is saved first, so a failed wait leaves a tainted resource to replace
// rather than an object Terraform does not know.
func (r *crud[T, M]) saveAndWait(ctx context.Context, c *client.Client, obj T, m *M, creating, owned bool, state stateSetter, private privateKeys, diags *diag.Diagnostics) {
	r.flattenKeeping(ctx, obj, m, owned, diags)
	diags.Append(state.Set(ctx, m)...)
	diags.Append(r.markRefresh(ctx, private, obj, m, owned)...)
	if r.afterWrite != nil && r.waits(m) && !diags.HasError() {
		// The wait may save what it learns from later versions of the
		// object, and the object moves on while it waits: the mark is
		// made again afterwards, from the object as it is then.
		diags.Append(private.SetKey(ctx, refreshMarkKey, nil)...)
		op := "update"
		if creating {
			op = "create"
		}
		r.afterWrite(ctx, c, obj, m, r.timeout(ctx, m, op, diags), diags)
		diags.Append(state.Set(ctx, m)...) // what the wait learned (a pod's node and address)
		if !diags.HasError() {
			diags.Append(r.markIfCurrent(ctx, c, m, owned, private)...)
		}
	}
}

func (r *crud[T, M]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := r.key(&state)
	if err := r.api(c, ns).Delete(ctx, name); err != nil && !api.IsNotFound(err) {
		apiError(&resp.Diagnostics, "Cannot delete "+r.name(ns, name), err)
		return
	}
	if r.defaults.delete == 0 {
		return
	}
	timeout := r.timeout(ctx, &state, "delete", &resp.Diagnostics)
	err := waitGone(ctx, timeout, func(ctx context.Context) error {
		_, err := r.api(c, ns).Get(ctx, name)
		return err
	})
	if err != nil {
		nsFlag := ""
		if ns != "" {
			nsFlag = " -n " + ns
		}
		resp.Diagnostics.AddError(fmt.Sprintf("The %s was not deleted", r.name(ns, name)),
			fmt.Sprintf("It is %v. Something keeps it (look for finalizers or terminating dependents with `maestro get %s %s%s -o yaml`).", err, r.api(c, ns).Kind().Plural, name, nsFlag))
	}
}

func (r *crud[T, M]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name := "", req.ID
	if !r.clusterScoped {
		var err error
		if ns, name, err = splitID(req.ID); err != nil {
			resp.Diagnostics.AddError("Invalid import ID", err.Error()+", e.g. "+r.importExample+".")
			return
		}
	}
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	obj, err := r.api(c, ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot import "+r.name(ns, name), err)
		return
	}
	var m M
	if r.importModel != nil {
		m = r.importModel()
	}
	r.flatten(ctx, obj, &m, true, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
