package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                   = (*PodResource)(nil)
	_ resource.ResourceWithConfigure      = (*PodResource)(nil)
	_ resource.ResourceWithImportState    = (*PodResource)(nil)
	_ resource.ResourceWithValidateConfig = (*PodResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*PodResource)(nil)
)

// Default timeouts of a pod's operations.
const (
	podCreateTimeout = 5 * time.Minute
	podDeleteTimeout = 5 * time.Minute
)

// NewPodResource is the constructor for maestro_pod.
func NewPodResource() resource.Resource {
	return &PodResource{crud[*api.Pod, PodResourceModel]{
		kind:   "pod",
		api:    (*client.Client).Pods,
		newObj: func() *api.Pod { return &api.Pod{} },
		key: func(m *PodResourceModel) (string, string) {
			return m.Metadata.Namespace.ValueString(), m.Metadata.Name.ValueString()
		},
		expand:  expandPod,
		flatten: flattenPod,
		// flattenPod reads the spec and the pod's address, not the rest
		// of its status (conditions, restarts).
		reads: readsOf(func(p *api.Pod) any { return []any{&p.Spec, p.Status.PodIP} },
			func(m *PodResourceModel) *metadataModel { return m.Metadata }),
		importExample: "terraform import maestro_pod.debug default/debug",
		importModel: func() PodResourceModel {
			return PodResourceModel{WaitForRollout: types.BoolValue(true), Timeouts: nullTimeouts()}
		},
		defaults:   opTimeouts{create: podCreateTimeout, update: podCreateTimeout, delete: podDeleteTimeout},
		timeouts:   func(m *PodResourceModel) timeouts.Value { return m.Timeouts },
		waits:      func(m *PodResourceModel) bool { return m.WaitForRollout.ValueBool() },
		afterWrite: waitForPodAfterWrite,
	}}
}

// PodResource manages a single Pod: no controller replaces it when it
// fails or its node goes away (use maestro_deployment for that).
type PodResource struct {
	crud[*api.Pod, PodResourceModel]
}

// PodResourceModel is the state of maestro_pod.
type PodResourceModel struct {
	ID             types.String   `tfsdk:"id"`
	Metadata       *metadataModel `tfsdk:"metadata"`
	Spec           *PodSpecModel  `tfsdk:"spec"`
	NodeName       types.String   `tfsdk:"node_name"`
	PodIP          types.String   `tfsdk:"pod_ip"`
	WaitForRollout types.Bool     `tfsdk:"wait_for_rollout"`
	// UnschedulableTimeout and CrashLoopRestarts tune the wait's
	// fail-fast rules (null: client.DefaultRolloutOptions).
	UnschedulableTimeout types.String   `tfsdk:"unschedulable_timeout"`
	CrashLoopRestarts    types.Int64    `tfsdk:"crash_loop_restarts"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

func (r *PodResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pod"
}

func (r *PodResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "pod")
}

// ValidateConfig checks the blocks the schema cannot require.
func (r *PodResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m PodResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A pod needs a metadata block with name and namespace.")
	}
	if m.Spec == nil {
		resp.Diagnostics.AddAttributeError(path.Root("spec"), "Missing spec block", "A pod needs a spec block with at least one container.")
		return
	}
	if !req.Config.Raw.IsFullyKnown() {
		// The API's validation (validateAPI) waits for every value; until
		// then, what can be checked is.
		validatePodSpec(m.Spec, path.Root("spec"), &resp.Diagnostics)
	}
	r.validateAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ModifyPlan marks the pod for replacement when its spec changes beyond
// what a running pod absorbs (container images), and warns when the
// cluster has no room for a new pod.
func (r *PodResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() { // destroy
		var state PodResourceModel
		if !req.State.Raw.IsNull() && !req.State.Get(ctx, &state).HasError() {
			warnPodImpact(req, nil, &state, false, &resp.Diagnostics)
		}
		return
	}
	if unknownBlocks(req.Plan.Raw) {
		// A dynamic block over values not known yet: whether the spec
		// stays updatable in place cannot be told, so a pod that exists
		// may be replaced.
		if !req.State.Raw.IsNull() {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("spec"))
		}
		return
	}
	var plan PodResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Spec == nil || plan.Metadata == nil {
		return
	}
	if !req.State.Raw.IsNull() {
		var state PodResourceModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		replace := state.Spec != nil && !podSpecUpdatableInPlace(ctx, plan.Spec, state.Spec)
		if replace {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("spec"))
		}
		warnPodImpact(req, &plan, &state, replace, &resp.Diagnostics)
		return // a replacement's pod would be previewed next to the one it replaces: not a fair answer
	}
	previewPlacement(ctx, r.handle, req.Config, "pod", &resp.Diagnostics, func(ctx context.Context, _ *client.Client) (api.Object, bool, error) {
		pod := &api.Pod{}
		var diags diag.Diagnostics
		expandPod(ctx, &plan, nil, nil, pod, &diags)
		return pod, false, diagErr(diags)
	})
}

// podSpecUpdatableInPlace reports whether the planned spec differs from
// the state's only in container images, the one change the API allows.
func podSpecUpdatableInPlace(ctx context.Context, plan, state *PodSpecModel) bool {
	var diags diag.Diagnostics
	var p, s api.PodSpec
	expandPodSpec(ctx, plan, &p, &diags)
	expandPodSpec(ctx, state, &s, &diags)
	if diags.HasError() || len(p.Containers) != len(s.Containers) {
		return false
	}
	for i := range p.Containers {
		p.Containers[i].Image = s.Containers[i].Image
	}
	return reflect.DeepEqual(p, s)
}

func expandPod(ctx context.Context, plan, state, _ *PodResourceModel, p *api.Pod, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &p.ObjectMeta, diags)
	if state == nil {
		expandPodSpec(ctx, plan.Spec, &p.Spec, diags)
		return
	}
	// In place, only images change: everything else in the live spec
	// (the binding, what the server filled in) must stay as it is.
	for i, c := range plan.Spec.Containers {
		if i < len(p.Spec.Containers) {
			p.Spec.Containers[i].Image = c.Image.ValueString()
		}
	}
}

func flattenPod(ctx context.Context, p *api.Pod, m *PodResourceModel, _ bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &p.ObjectMeta, &m.Metadata, diags)
	if m.Spec == nil {
		m.Spec = &PodSpecModel{}
	}
	flattenPodSpec(ctx, p.Spec, m.Spec, diags)
	m.NodeName = types.StringValue(p.Spec.NodeName)
	m.PodIP = types.StringValue(p.Status.PodIP)
}

// waitForPodAfterWrite waits for the written pod (wait_for_rollout) and
// records where it runs.
func waitForPodAfterWrite(ctx context.Context, c *client.Client, p *api.Pod, m *PodResourceModel, timeout time.Duration, diags *diag.Diagnostics) {
	title := fmt.Sprintf("Pod %s/%s did not become ready", p.Namespace, p.Name)
	opt, err := rolloutOptions(m.UnschedulableTimeout, m.CrashLoopRestarts)
	if err != nil {
		diags.AddError(title, err.Error())
		return
	}
	ready, err := waitForPod(ctx, c, p, opt, timeout)
	var re *client.RolloutError
	switch {
	case errors.As(err, &re):
		advice := re.Advice
		re.Advice = "" // said apart below
		diags.AddError(title, fmt.Sprintf("The pod was written, but %v\n\n%s\n\n%s", re, advice, failFastSettings(re.Reason, "starts")))
		return
	case err != nil:
		diags.AddError(title,
			fmt.Sprintf("The pod was written, but %v.\n\nFix the cause and apply again (the pod is replaced); raise timeouts for slow starts, or set wait_for_rollout = false to not wait.", err))
		return
	}
	// The node and address are known now: record them.
	m.NodeName, m.PodIP = types.StringValue(ready.Spec.NodeName), types.StringValue(ready.Status.PodIP)
}

// waitForPod waits until the pod is ready, or has completed when its
// restart policy lets it stop. It fails fast when the pod has failed, and
// by the rollout wait's rules (client.CheckPodStart: unschedulable with no
// node pool adding room, a crash loop) with a *client.RolloutError.
func waitForPod(ctx context.Context, c *client.Client, p *api.Pod, opt client.RolloutOptions, timeout time.Duration) (*api.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pods := c.Pods(p.Namespace)
	last := p
	for {
		cur, err := pods.Get(ctx, p.Name)
		if err == nil {
			last = cur
			switch {
			case api.IsPodReady(cur) && podRunsSpec(cur):
				return cur, nil
			case cur.Status.Phase == api.PodSucceeded:
				return cur, nil
			case cur.Status.Phase == api.PodFailed:
				return nil, fmt.Errorf("it failed: %s", describePods(context.WithoutCancel(ctx), c, []*api.Pod{cur}))
			}
			var failed *client.RolloutError
			if failed, err = c.CheckPodStart(ctx, cur, opt); failed != nil {
				return nil, failed
			}
		}
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("reading it failed: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("it was not ready after %s (phase %s): %s", timeout, last.Status.Phase, describePods(context.WithoutCancel(ctx), c, []*api.Pod{last}))
		case <-time.After(rolloutPollInterval):
		}
	}
}

// podRunsSpec reports whether the pod's status is of its current spec:
// the agent has seen this generation and every container runs its image.
func podRunsSpec(p *api.Pod) bool {
	if p.Status.ObservedGeneration != 0 && p.Status.ObservedGeneration < p.Generation {
		return false
	}
	images := map[string]string{}
	for _, cs := range p.Status.ContainerStatuses {
		images[cs.Name] = cs.Image
	}
	for _, c := range p.Spec.Containers {
		if images[c.Name] != c.Image {
			return false
		}
	}
	return true
}
