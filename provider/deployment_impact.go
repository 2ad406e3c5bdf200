package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/maestro-dev/maestro/engine/api"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

// warnDeploymentImpact adds the plan warning of a deployment's update,
// replacement or destroy (plan nil): pods rolled (with the strategy's
// surge and unavailability), recreated, scaled or stopped, and replicas
// an autoscaler owns. A create says nothing here: the placement preview
// says where its pods go.
func (r *DeploymentResource) warnDeploymentImpact(ctx context.Context, req resource.ModifyPlanRequest, plan, state *DeploymentResourceModel, diags *diag.Diagnostics) {
	if !deploymentExpandable(state) || plan != nil && !deploymentExpandable(plan) {
		return
	}
	var d diag.Diagnostics
	live := &api.Deployment{}
	expandDeployment(ctx, state, nil, nil, live, &d)
	var desired api.Object
	action := mplan.Delete
	if plan != nil {
		action = mplan.Update
		if identityChanged(plan.Metadata, state.Metadata) || !plan.Spec.Selector.MatchLabels.Equal(state.Spec.Selector.MatchLabels) {
			action = mplan.Replace
		}
		dep := &api.Deployment{}
		expandDeployment(ctx, plan, state, nil, dep, &d)
		desired = dep
	}
	if d.HasError() {
		return // the plan reports what is wrong elsewhere
	}
	c := resourceChange("Deployment", action, req.State.Raw, req.Plan.Raw, live, desired)
	autoscaled := action == mplan.Update && int64Differs(plan.Spec.Replicas, state.Spec.Replicas) && r.autoscaledAtPlan(ctx, live)
	warnImpact(diags, "maestro_deployment", objectID(state.Metadata), mplan.ChangeImpact(c, autoscaled), "")
}

// deploymentExpandable reports whether a model has the blocks
// expandDeployment reads.
func deploymentExpandable(m *DeploymentResourceModel) bool {
	return m != nil && m.Metadata != nil && m.Spec != nil && m.Spec.Selector != nil && m.Spec.Template != nil
}

// autoscaledAtPlan asks the cluster whether an autoscaler targets d, so
// the plan can say its replicas are left alone. An unreachable cluster
// answers no: the plan then shows the configured count as a scale.
func (r *DeploymentResource) autoscaledAtPlan(ctx context.Context, d *api.Deployment) bool {
	c, diags := r.handle.Client()
	if diags.HasError() || c == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	owned, err := deploymentAutoscaled(ctx, c, d)
	if err != nil {
		logImpactSkipped(ctx, "deployment", "autoscaler lookup", err)
		return false
	}
	return owned
}
