package provider

import (
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Read skips writing the state back when flattening changed nothing in a
// copy of the prior model; that is only right if the copy shares nothing
// flatten can change in place.
func TestCloneModelSharesNothing(t *testing.T) {
	orig := DeploymentResourceModel{
		ID:       types.StringValue("default/web"),
		Metadata: &metadataModel{Name: types.StringValue("web")},
		Spec: &deploymentSpecModel{
			Replicas: types.Int64Value(2),
			Template: &templateModel{PodSpecModel: PodSpecModel{
				Containers: []containerModel{{Name: types.StringValue("app"), Env: []envModel{{Name: types.StringValue("A")}}}},
			}},
		},
	}
	mutations := map[string]func(m *DeploymentResourceModel){
		"pointer field":         func(m *DeploymentResourceModel) { m.Metadata.Name = types.StringValue("other") },
		"nested pointer field":  func(m *DeploymentResourceModel) { m.Spec.Replicas = types.Int64Value(3) },
		"slice element":         func(m *DeploymentResourceModel) { m.Spec.Template.Containers[0].Name = types.StringValue("x") },
		"slice in slice":        func(m *DeploymentResourceModel) { m.Spec.Template.Containers[0].Env[0].Name = types.StringValue("B") },
		"embedded struct slice": func(m *DeploymentResourceModel) { m.Spec.Template.Containers = nil },
		"top-level value":       func(m *DeploymentResourceModel) { m.ID = types.StringNull() },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			c := cloneModel(orig)
			if !reflect.DeepEqual(c, orig) {
				t.Fatalf("clone differs from the original:\n%#v\n%#v", c, orig)
			}
			mutate(&c)
			if reflect.DeepEqual(c, orig) {
				t.Fatal("mutating the clone changed the original (or the mutation changed nothing)")
			}
			fresh := cloneModel(orig)
			mutate(&fresh)
			if reflect.DeepEqual(orig, cloneModel(fresh)) {
				t.Fatal("the original changed along with a clone")
			}
		})
	}
}
