package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	mplan "github.com/maestro-dev/maestro/internal/plan"
)

// warnPodImpact adds the plan warning of a pod's update, replacement or
// destroy (plan nil): a replacement restarts the pod (a new one is made
// after the old one stops), an image change restarts the container in
// place, a destroy stops it. specReplaces says ModifyPlan found a spec
// change the pod cannot take in place.
func warnPodImpact(req resource.ModifyPlanRequest, plan, state *PodResourceModel, specReplaces bool, diags *diag.Diagnostics) {
	if state == nil || state.Metadata == nil {
		return
	}
	action := mplan.Delete
	if plan != nil {
		action = mplan.Update
		if specReplaces || identityChanged(plan.Metadata, state.Metadata) {
			action = mplan.Replace
		}
	}
	c := resourceChange("Pod", action, req.State.Raw, req.Plan.Raw, nil, nil)
	warnImpact(diags, "maestro_pod", objectID(state.Metadata), mplan.ChangeImpact(c, false), "")
}
