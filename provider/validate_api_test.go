package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/internal/planrules"
)

// attrPathOf is internal/fieldpath's mapping as the framework's paths,
// which print as the mapping does (TestAttrPath there has the table).
func TestAttrPathOf(t *testing.T) {
	for _, tc := range []struct{ kind, field, want string }{
		{"Deployment", `spec.template.spec.containers[0].resources.requests["cpu"]`, "spec.template.container[0].resources.requests.cpu"},
		{"Deployment", `spec.template.metadata.labels["app/x"]`, `spec.template.labels["app/x"]`},
		{"ConfigMap", "metadata.name", "metadata.name"},
		{"Autoscaler", "spec.metrics[1].resource.name", "spec.metric[1].resource"},
	} {
		if got := attrPathOf(tc.kind, tc.field).String(); got != tc.want {
			t.Errorf("attrPathOf(%s, %s) = %s, want %s", tc.kind, tc.field, got, tc.want)
		}
	}
}

// A configuration with a value known only after apply is not checked
// against the API's rules: the value would be validated as empty.
func TestValidateWithAPISkipsUnknownValues(t *testing.T) {
	ctx := context.Background()
	c := planrules.Cases[0] // the selector does not match the template labels
	r, config := manifestConfig(t, c.Manifest)
	validate := func(config tfsdk.Config) diag.Diagnostics {
		var resp resource.ValidateConfigResponse
		r.(resource.ResourceWithValidateConfig).ValidateConfig(ctx, resource.ValidateConfigRequest{Config: config}, &resp)
		return resp.Diagnostics
	}
	if d := validate(config); !hasError(d, c.WantAttr, c.WantText) {
		t.Fatalf("known configuration: no error at %s:\n%s", c.WantAttr, diagText(d))
	}
	labels := tftypes.NewAttributePath().WithAttributeName("spec").WithAttributeName("template").WithAttributeName("labels")
	raw, err := tftypes.Transform(config.Raw, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if p.Equal(labels) {
			return tftypes.NewValue(v.Type(), tftypes.UnknownValue), nil
		}
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	config.Raw = raw
	if d := validate(config); d.HasError() {
		t.Fatalf("the labels are unknown, yet:\n%s", diagText(d))
	}
}
