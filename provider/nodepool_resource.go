package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

var (
	_ resource.Resource                   = (*NodePoolResource)(nil)
	_ resource.ResourceWithConfigure      = (*NodePoolResource)(nil)
	_ resource.ResourceWithImportState    = (*NodePoolResource)(nil)
	_ resource.ResourceWithValidateConfig = (*NodePoolResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*NodePoolResource)(nil)
)

// Default timeouts of maestro_node_pool: a machine has the startup
// timeout (10 min) to join; a rollout replaces machines one by one.
var poolTimeouts = opTimeouts{create: 15 * time.Minute, update: 30 * time.Minute, delete: 15 * time.Minute}

// NewNodePoolResource is the constructor for maestro_node_pool.
func NewNodePoolResource() resource.Resource {
	return &NodePoolResource{crud[*api.NodePool, NodePoolResourceModel]{
		kind:   "node pool",
		api:    func(c *client.Client, _ string) client.Resource[*api.NodePool] { return c.NodePools() },
		newObj: func() *api.NodePool { return &api.NodePool{} },
		key:    func(m *NodePoolResourceModel) (string, string) { return "", m.Name.ValueString() },
		expand: func(ctx context.Context, plan, _, _ *NodePoolResourceModel, p *api.NodePool, diags *diag.Diagnostics) {
			expandNodePool(ctx, plan, p, diags)
		},
		flatten:       flattenNodePool,
		clusterScoped: true,
		gone:          func(p *api.NodePool) bool { return p.DeletionTimestamp != nil },
		defaults:      poolTimeouts,
		timeouts:      func(m *NodePoolResourceModel) timeouts.Value { return m.Timeouts },
	}}
}

// NodePoolResource manages a NodePool, and the secrets holding an ssh
// pool's private key or a cloud pool's credentials. Read and import come from crud; create, update
// and delete write the secret too and wait for the machines.
type NodePoolResource struct {
	crud[*api.NodePool, NodePoolResourceModel]
}

func (r *NodePoolResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node_pool"
}

func (r *NodePoolResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m NodePoolResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	validatePoolShape(&m, &resp.Diagnostics)
	if req.Config.Raw.IsFullyKnown() && !resp.Diagnostics.HasError() {
		validatePoolAPI(ctx, &m, &resp.Diagnostics)
	}
}

// ModifyPlan fills in the sizes the configuration leaves to others (size
// alone sets min_size and max_size; min_size and max_size alone keep the
// current size within them) and says, as a plan warning, what the apply
// will do to the pool's machines.
func (r *NodePoolResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state *NodePoolResourceModel
	if !req.State.Raw.IsNull() {
		state = &NodePoolResourceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if req.Plan.Raw.IsNull() { // destroy
		if state != nil {
			addImpact(ctx, state, nil, req.State.Raw, req.Plan.Raw, &resp.Diagnostics)
		}
		return
	}
	if unknownBlocks(req.Plan.Raw) {
		return // a dynamic block over values not known yet: planned once they are
	}
	var plan, config NodePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	planSizes(&config, state, &plan)
	planCloudSpot(&config, &plan)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	if !req.Config.Raw.IsFullyKnown() {
		return // known after apply: no impact to tell
	}
	addImpact(ctx, state, &plan, req.State.Raw, resp.Plan.Raw, &resp.Diagnostics)
}

// planSizes sets the planned size, min_size and max_size from what the
// configuration gives.
func planSizes(config, state, plan *NodePoolResourceModel) {
	if config.Size.IsUnknown() || config.MinSize.IsUnknown() || config.MaxSize.IsUnknown() {
		return
	}
	if !config.Size.IsNull() {
		if config.MinSize.IsNull() {
			plan.MinSize = config.Size
		}
		if config.MaxSize.IsNull() {
			plan.MaxSize = config.Size
		}
		return
	}
	if config.MinSize.IsNull() || config.MaxSize.IsNull() {
		return
	}
	lo, hi := config.MinSize.ValueInt64(), config.MaxSize.ValueInt64()
	size := lo
	if state != nil && !state.Size.IsNull() {
		size = min(max(state.Size.ValueInt64(), lo), hi)
	}
	plan.Size = types.Int64Value(size)
}

// addImpact adds the plan warning that tells what happens to machines
// (internal/plan's node pool impact): state nil on create, plan nil on
// destroy; stateRaw and planRaw are the values they were read from.
func addImpact(ctx context.Context, state, plan *NodePoolResourceModel, stateRaw, planRaw tftypes.Value, diags *diag.Diagnostics) {
	object := func(m *NodePoolResourceModel) api.Object {
		if m == nil {
			return nil
		}
		var d diag.Diagnostics
		p := &api.NodePool{}
		expandNodePool(ctx, m, p, &d)
		return p
	}
	action, name := mplan.Update, ""
	switch {
	case state == nil:
		action, name = mplan.Create, plan.Name.ValueString()
	case plan == nil:
		action, name = mplan.Delete, state.Name.ValueString()
	default:
		name = plan.Name.ValueString()
	}
	c := resourceChange("NodePool", action, stateRaw, planRaw, object(state), object(plan))
	warnImpact(diags, "maestro_node_pool", name, mplan.ChangeImpact(c, false),
		"What the apply does to the pool's machines. Each is drained (its pods evicted and started elsewhere) before it is deleted; "+
			"the apply waits until the pool's nodes are Ready (wait_for_ready).")
}

func (r *NodePoolResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config NodePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if config.SSH != nil {
		if !writePoolKey(ctx, c, name, config.SSH.PrivateKey.ValueString(), &resp.Diagnostics) {
			return
		}
	}
	p := &api.NodePool{}
	expandNodePool(ctx, &plan, p, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !sendPoolCredentials(ctx, c, &config, p, true, &resp.Diagnostics) {
		return
	}
	created, err := c.NodePools().Create(ctx, p)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot create node pool %q", name), err)
		return
	}
	r.saveAndWaitReady(ctx, c, created, &plan, "create", &resp.State, &resp.Diagnostics)
}

func (r *NodePoolResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config NodePoolResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	if config.SSH != nil && (state.SSH == nil || !plan.SSH.PrivateKeyVersion.Equal(state.SSH.PrivateKeyVersion)) {
		if !writePoolKey(ctx, c, name, config.SSH.PrivateKey.ValueString(), &resp.Diagnostics) {
			return
		}
	}
	live, err := c.NodePools().Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read node pool %q", name), err)
		return
	}
	expandNodePool(ctx, &plan, live, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !sendPoolCredentials(ctx, c, &config, live, cloudCredentialsChanged(&plan, &state), &resp.Diagnostics) {
		return
	}
	updated, err := c.NodePools().Update(ctx, live)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot update node pool %q", name), err)
		return
	}
	// A pool that leaves ssh keeps its key secret until it is destroyed:
	// its old machines are uninstalled over SSH as the rollout replaces
	// them.
	r.saveAndWaitReady(ctx, c, updated, &plan, "update", &resp.State, &resp.Diagnostics)
}

// saveAndWaitReady records the pool, then (wait_for_ready) waits for its
// machines; a failed wait leaves the pool in state, tainted.
func (r *NodePoolResource) saveAndWaitReady(ctx context.Context, c *client.Client, p *api.NodePool, m *NodePoolResourceModel, op string, state stateSetter, diags *diag.Diagnostics) {
	flattenNodePool(ctx, p, m, false, diags)
	diags.Append(state.Set(ctx, m)...)
	if diags.HasError() || !m.WaitForReady.ValueBool() {
		return
	}
	err := waitPoolReady(ctx, c, p.Name, r.timeout(ctx, m, op, diags))
	if err == nil {
		return
	}
	var failed *poolFailure
	if errors.As(err, &failed) {
		diags.AddError(fmt.Sprintf("Node pool %q failed", p.Name), failed.msg+
			"\n\nFix the cause (the host, its key, the network; the cloud's quota, permissions, instance type or image), then apply again: the failed machines are replaced. `maestro describe machines` shows every machine's conditions.")
		return
	}
	diags.AddError(fmt.Sprintf("Node pool %q is not ready", p.Name), err.Error()+
		"\n\n`maestro get machines` and `maestro describe nodepool "+p.Name+"` show where it stands; raise timeouts if the machines are just slow.")
}

func (r *NodePoolResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state NodePoolResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	if err := c.NodePools().Delete(ctx, name); err != nil && !api.IsNotFound(err) {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot delete node pool %q", name), err)
		return
	}
	timeout := r.timeout(ctx, &state, "delete", &resp.Diagnostics)
	err := waitGone(ctx, timeout, func(ctx context.Context) error {
		_, err := c.NodePools().Get(ctx, name)
		return err
	})
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Node pool %q was not deleted", name),
			fmt.Sprintf("It is %v: its machines are still being drained or deleted (`maestro get machines`). Raise the delete timeout, or look at the machines' conditions.", err))
		return
	}
	deletePoolSecrets(ctx, c, name, &resp.Diagnostics) // after the machines: deleting them needs the key or credentials
}

// writePoolKey creates or replaces the secret holding an ssh pool's
// private key.
func writePoolKey(ctx context.Context, c *client.Client, pool, key string, diags *diag.Diagnostics) bool {
	return writePoolSecret(ctx, c, pool, poolKeySecretName(pool), "the private key", map[string][]byte{poolPrivateKeySecretKey: []byte(key)}, diags)
}

// writePoolSecret creates or replaces a secret in maestro-system holding
// what a pool's machines are made with (what: for messages). No message
// carries the data.
func writePoolSecret(ctx context.Context, c *client.Client, pool, name, what string, data map[string][]byte, diags *diag.Diagnostics) bool {
	s := &api.Secret{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: api.NamespaceSystem, Labels: map[string]string{"nodepool.maestro.dev/pool": pool}},
		Type:       api.SecretTypeOpaque,
		Data:       data,
	}
	secrets := c.Secrets(api.NamespaceSystem)
	_, err := secrets.Create(ctx, s)
	if api.ReasonOf(err) == api.ReasonAlreadyExists {
		var live *api.Secret
		if live, err = secrets.Get(ctx, name); err == nil {
			live.Data = s.Data
			_, err = secrets.Update(ctx, live)
		}
	}
	if err != nil {
		secretError(diags, fmt.Sprintf("Cannot write %s of node pool %q to secret %s/%s", what, pool, api.NamespaceSystem, name), err, s)
		return false
	}
	return true
}

// deletePoolSecrets deletes the secrets of the pool's ssh key and cloud
// credentials there are.
func deletePoolSecrets(ctx context.Context, c *client.Client, pool string, diags *diag.Diagnostics) {
	for _, s := range []struct{ name, what string }{
		{poolKeySecretName(pool), "the private key"}, {poolAWSSecretName(pool), "the AWS credentials"}, {poolGCPSecretName(pool), "the Google Cloud credentials"},
	} {
		if err := c.Secrets(api.NamespaceSystem).Delete(ctx, s.name); err != nil && !api.IsNotFound(err) {
			apiError(diags, fmt.Sprintf("Cannot delete secret %s/%s (%s of node pool %q)", api.NamespaceSystem, s.name, s.what, pool), err)
		}
	}
}
