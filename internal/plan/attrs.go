package plan

import (
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// Minimal API objects read from attribute trees, for impact analysis when
// no API object is at hand (a Terraform plan has only the trees): the
// fields impact needs and nothing more. The attribute names are the
// provider's (maestro_deployment, maestro_node_pool).

// DeploymentFromAttrs reads a deployment's identity, replicas and
// strategy from its attribute tree.
func DeploymentFromAttrs(tree map[string]any) *api.Deployment {
	d := &api.Deployment{}
	d.Name, _ = Lookup(tree, "metadata.name").(string)
	d.Namespace, _ = Lookup(tree, "metadata.namespace").(string)
	if n, ok := Int(Lookup(tree, "spec.replicas")); ok {
		d.Spec.Replicas = api.Ptr(int32(n))
	}
	d.Spec.Strategy.Type, _ = Lookup(tree, "spec.strategy.type").(string)
	surge := intOrString(Lookup(tree, "spec.strategy.rolling_update.max_surge"))
	unavailable := intOrString(Lookup(tree, "spec.strategy.rolling_update.max_unavailable"))
	if surge != nil || unavailable != nil {
		d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}
	}
	return d
}

// NodePoolFromAttrs reads a node pool's provider, sizes and rollout from
// its attribute tree, with the provider's defaults (size alone fixes the
// bounds; rollout 1 surge, 0 unavailable).
func NodePoolFromAttrs(tree map[string]any) *api.NodePool {
	p := &api.NodePool{}
	p.Name, _ = tree["name"].(string)
	for _, prov := range []string{api.ProviderLocal, api.ProviderSSH, api.ProviderAWS, api.ProviderGCP} {
		if _, ok := tree[prov].(map[string]any); ok {
			p.Spec.Provider = prov
		}
	}
	s := &p.Spec
	if n, ok := Int(tree["size"]); ok {
		s.Size = api.Ptr(int32(n))
		s.MinSize, s.MaxSize = int32(n), int32(n)
	}
	if n, ok := Int(tree["min_size"]); ok {
		s.MinSize = int32(n)
	}
	if n, ok := Int(tree["max_size"]); ok {
		s.MaxSize = int32(n)
	}
	s.Autoscaling, _ = tree["autoscaling"].(bool)
	s.MachineType, _ = tree["machine_type"].(string)
	s.Rollout.MaxSurge = intOrString(Lookup(tree, "rollout.max_surge"))
	s.Rollout.MaxUnavailable = intOrString(Lookup(tree, "rollout.max_unavailable"))
	if s.Rollout.MaxSurge == nil {
		s.Rollout.MaxSurge = api.Ptr(api.FromInt(1))
	}
	if s.Rollout.MaxUnavailable == nil {
		s.Rollout.MaxUnavailable = api.Ptr(api.FromInt(0))
	}
	return p
}

// intOrString reads "25%", "1" or 1; nil when absent or malformed.
func intOrString(v any) *api.IntOrString {
	if s, ok := v.(string); ok && strings.HasSuffix(s, "%") {
		return api.Ptr(api.FromString(s))
	}
	if n, ok := Int(v); ok {
		return api.Ptr(api.FromInt(int32(n)))
	}
	return nil
}
