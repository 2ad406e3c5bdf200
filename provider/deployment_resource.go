package provider

import (
	"context"
	"fmt"
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
	_ resource.Resource                   = (*DeploymentResource)(nil)
	_ resource.ResourceWithConfigure      = (*DeploymentResource)(nil)
	_ resource.ResourceWithImportState    = (*DeploymentResource)(nil)
	_ resource.ResourceWithValidateConfig = (*DeploymentResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*DeploymentResource)(nil)
)

// Default timeouts of a deployment's operations (the timeouts block
// overrides them).
const (
	deploymentCreateTimeout = 10 * time.Minute
	deploymentUpdateTimeout = 10 * time.Minute
	deploymentDeleteTimeout = 5 * time.Minute
)

// NewDeploymentResource is the constructor for maestro_deployment.
func NewDeploymentResource() resource.Resource {
	return &DeploymentResource{crud[*api.Deployment, DeploymentResourceModel]{
		kind:   "deployment",
		api:    (*client.Client).Deployments,
		newObj: func() *api.Deployment { return &api.Deployment{} },
		key: func(m *DeploymentResourceModel) (string, string) {
			return m.Metadata.Namespace.ValueString(), m.Metadata.Name.ValueString()
		},
		expand:  expandDeployment,
		flatten: flattenDeployment,
		// flattenDeployment reads the spec; not the status, nor the
		// revision annotation the controller writes.
		reads: readsOf(func(d *api.Deployment) any { return &d.Spec },
			func(m *DeploymentResourceModel) *metadataModel { return m.Metadata }),
		importExample: "terraform import maestro_deployment.web default/web",
		importModel: func() DeploymentResourceModel {
			return DeploymentResourceModel{WaitForRollout: types.BoolValue(true), Timeouts: nullTimeouts()}
		},
		defaults:   opTimeouts{create: deploymentCreateTimeout, update: deploymentUpdateTimeout, delete: deploymentDeleteTimeout},
		timeouts:   func(m *DeploymentResourceModel) timeouts.Value { return m.Timeouts },
		waits:      func(m *DeploymentResourceModel) bool { return m.WaitForRollout.ValueBool() },
		owned:      deploymentAutoscaled,
		keepModel:  keepReplicasInModel,
		keepObject: keepLiveReplicas,
		afterWrite: func(ctx context.Context, c *client.Client, d *api.Deployment, m *DeploymentResourceModel, timeout time.Duration, diags *diag.Diagnostics) {
			if err := waitForRollout(ctx, c, d, m, timeout); err != nil {
				rolloutError(diags, d, err)
			}
		},
	}}
}

// DeploymentResource manages a Deployment.
type DeploymentResource struct {
	crud[*api.Deployment, DeploymentResourceModel]
}

// DeploymentResourceModel is the state of maestro_deployment.
type DeploymentResourceModel struct {
	ID             types.String         `tfsdk:"id"`
	Metadata       *metadataModel       `tfsdk:"metadata"`
	Spec           *deploymentSpecModel `tfsdk:"spec"`
	WaitForRollout types.Bool           `tfsdk:"wait_for_rollout"`
	// UnschedulableTimeout and CrashLoopRestarts tune the rollout wait's
	// fail-fast rules (null: client.DefaultRolloutOptions).
	UnschedulableTimeout types.String   `tfsdk:"unschedulable_timeout"`
	CrashLoopRestarts    types.Int64    `tfsdk:"crash_loop_restarts"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

type deploymentSpecModel struct {
	Replicas                types.Int64    `tfsdk:"replicas"`
	MinReadySeconds         types.Int64    `tfsdk:"min_ready_seconds"`
	ProgressDeadlineSeconds types.Int64    `tfsdk:"progress_deadline_seconds"`
	Selector                *selectorModel `tfsdk:"selector"`
	Strategy                *strategyModel `tfsdk:"strategy"`
	Template                *templateModel `tfsdk:"template"`
}

type selectorModel struct {
	MatchLabels types.Map `tfsdk:"match_labels"`
}

type strategyModel struct {
	Type          types.String        `tfsdk:"type"`
	RollingUpdate *rollingUpdateModel `tfsdk:"rolling_update"`
}

type rollingUpdateModel struct {
	MaxSurge       types.String `tfsdk:"max_surge"`
	MaxUnavailable types.String `tfsdk:"max_unavailable"`
}

type templateModel struct {
	Labels types.Map `tfsdk:"labels"`
	PodSpecModel
}

func (r *DeploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (r *DeploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "deployment")
}

// ValidateConfig checks the blocks the schema cannot require.
func (r *DeploymentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m DeploymentResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A deployment needs a metadata block with name and namespace.")
	}
	switch {
	case m.Spec == nil:
		resp.Diagnostics.AddAttributeError(path.Root("spec"), "Missing spec block", "A deployment needs a spec block with a selector and a template.")
	case m.Spec.Selector == nil:
		resp.Diagnostics.AddAttributeError(path.Root("spec").AtName("selector"), "Missing selector block", "Add spec.selector with match_labels that the template's labels include.")
	case m.Spec.Template == nil:
		resp.Diagnostics.AddAttributeError(path.Root("spec").AtName("template"), "Missing template", "Add spec.template with at least one container block.")
	case !req.Config.Raw.IsFullyKnown():
		// The API's validation (validateAPI) waits for every value; until
		// then, what can be checked is.
		if mr, pd := m.Spec.MinReadySeconds, m.Spec.ProgressDeadlineSeconds; !mr.IsNull() && !mr.IsUnknown() && !pd.IsNull() && !pd.IsUnknown() &&
			pd.ValueInt64() <= mr.ValueInt64() {
			resp.Diagnostics.AddAttributeError(path.Root("spec").AtName("progress_deadline_seconds"), "Invalid value",
				fmt.Sprintf("%d: the progress deadline must be greater than min_ready_seconds (%d), or no rollout could ever make progress in time.", pd.ValueInt64(), mr.ValueInt64()))
		}
		tp := path.Root("spec").AtName("template")
		validatePodSpec(&m.Spec.Template.PodSpecModel, tp, &resp.Diagnostics)
		if rp := m.Spec.Template.RestartPolicy; known(rp) && rp.ValueString() != string(api.RestartAlways) {
			resp.Diagnostics.AddAttributeError(tp.AtName("restart_policy"), "Invalid value",
				fmt.Sprintf("%q: a deployment's pods are always restarted; restart_policy must be \"Always\" (use maestro_pod for OnFailure or Never).", rp.ValueString()))
		}
	}
	r.validateAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ModifyPlan says, as plan warnings, what an update or destroy does to
// the running pods (warnDeploymentImpact), and, when the cluster is
// reachable and the configuration known, that the planned pods cannot all
// be placed (the API's dry-run placement preview). Unchanged deployments
// are not previewed.
func (r *DeploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() { // destroy
		var state DeploymentResourceModel
		if !req.State.Raw.IsNull() && !req.State.Get(ctx, &state).HasError() {
			r.warnDeploymentImpact(ctx, req, nil, &state, &resp.Diagnostics)
		}
		return
	}
	if req.Plan.Raw.Equal(req.State.Raw) || unknownBlocks(req.Plan.Raw) {
		return // unchanged, or a dynamic block over values not known yet: nothing to tell until they are
	}
	var plan, state DeploymentResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() || plan.Metadata == nil || plan.Spec == nil || plan.Spec.Selector == nil || plan.Spec.Template == nil {
		return
	}
	if !creating {
		r.warnDeploymentImpact(ctx, req, &plan, &state, &resp.Diagnostics)
	}
	previewPlacement(ctx, r.handle, req.Config, "deployment", &resp.Diagnostics, func(ctx context.Context, c *client.Client) (api.Object, bool, error) {
		var diags diag.Diagnostics
		d := &api.Deployment{}
		if !creating && state.Metadata != nil {
			live, err := c.Deployments(plan.Metadata.Namespace.ValueString()).Get(ctx, plan.Metadata.Name.ValueString())
			if err != nil {
				return nil, false, err
			}
			expandDeployment(ctx, &plan, &state, nil, live, &diags)
			return live, true, diagErr(diags)
		}
		expandDeployment(ctx, &plan, nil, nil, d, &diags)
		return d, false, diagErr(diags)
	})
}
