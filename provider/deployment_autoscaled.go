package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// While an autoscaler targets a deployment, it owns the replicas: the
// provider reads the namespace's autoscalers on every refresh and apply,
// and then keeps `replicas` in the state as configured (the autoscaler's
// changes are no diff) and leaves the live count alone on update (no
// fight). Creating the deployment still writes the configured count: it is
// where the autoscaler starts from.

// deploymentAutoscaled reports whether an autoscaler targets d.
func deploymentAutoscaled(ctx context.Context, c *client.Client, d *api.Deployment) (bool, error) {
	list, _, err := c.Autoscalers(d.Namespace).List(ctx, client.ListOptions{})
	if err != nil {
		return false, fmt.Errorf("listing the autoscalers of namespace %s: %w", d.Namespace, err)
	}
	for _, a := range list {
		if a.DeletionTimestamp == nil && a.Spec.ScaleTargetRef.Kind == "Deployment" && a.Spec.ScaleTargetRef.Name == d.Name {
			return true, nil
		}
	}
	return false, nil
}

// keepReplicasInModel saves the model's replicas and puts them back.
func keepReplicasInModel(m *DeploymentResourceModel) func(*DeploymentResourceModel) {
	replicas := types.Int64Null()
	if m.Spec != nil {
		replicas = m.Spec.Replicas
	}
	return func(m *DeploymentResourceModel) {
		if m.Spec != nil && !replicas.IsNull() && !replicas.IsUnknown() {
			m.Spec.Replicas = replicas
		}
	}
}

// keepLiveReplicas saves the live deployment's replicas and puts them back.
func keepLiveReplicas(d *api.Deployment) func(*api.Deployment) {
	replicas := d.Spec.Replicas
	return func(d *api.Deployment) { d.Spec.Replicas = replicas }
}
