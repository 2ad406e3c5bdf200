package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/internal/planrules"
)

// TestReadConfig: a configuration read into a resource's model by
// readValue is the model the framework's Get reads, for a full deployment,
// every internal/planrules case (deployments, services, pods, config maps,
// namespaces, secrets) and a deployment with values known only after
// apply; a configuration Get refuses (an unknown list of blocks) is left
// to Get, and readConfig waits for its values without a word.
func TestReadConfig(t *testing.T) {
	manifests := map[string]string{"a full deployment": validDeployment}
	for _, c := range planrules.Cases {
		manifests[c.Name] = c.Manifest
	}
	image := tftypes.NewAttributePath().WithAttributeName("spec").WithAttributeName("template").
		WithAttributeName("container").WithElementKeyInt(0)
	for name, manifest := range manifests {
		t.Run(name, func(t *testing.T) {
			r, config := manifestConfig(t, manifest)
			if !readsLikeGet(t, typeName(context.Background(), r), config) {
				t.Error("left to the framework")
			}
		})
	}
	_, config := manifestConfig(t, validDeployment)
	config.Raw = unknownAt(image.WithAttributeName("image"))(config.Raw)
	if !readsLikeGet(t, "maestro_deployment", config) {
		t.Error("values known only after apply: left to the framework")
	}
	config.Raw = unknownAt(image.WithAttributeName("env"))(config.Raw)
	if readsLikeGet(t, "maestro_deployment", config) {
		t.Error("an unknown list of blocks was read, which Get refuses")
	}
	var m DeploymentResourceModel
	var diags diag.Diagnostics
	if readConfig(context.Background(), config, &m, &diags) || len(diags) > 0 {
		t.Errorf("readConfig of an unknown list of blocks: read, or said %v; want it waiting for the values, silently", diags)
	}
}

// readsLikeGet reads config into the model of resource type typ both
// ways; false when readValue left it to the framework.
func readsLikeGet(t *testing.T, typ string, config tfsdk.Config) bool {
	t.Helper()
	switch typ {
	case "maestro_deployment":
		return compareRead[DeploymentResourceModel](t, config)
	case "maestro_service":
		return compareRead[ServiceResourceModel](t, config)
	case "maestro_pod":
		return compareRead[PodResourceModel](t, config)
	case "maestro_config_map":
		return compareRead[ConfigMapResourceModel](t, config)
	case "maestro_namespace":
		return compareRead[NamespaceResourceModel](t, config)
	case "maestro_secret":
		return compareRead[SecretResourceModel](t, config)
	case "maestro_volume":
		return compareRead[VolumeResourceModel](t, config)
	case "maestro_autoscaler":
		return compareRead[AutoscalerResourceModel](t, config)
	}
	t.Fatalf("no model for %s", typ)
	return false
}

func compareRead[M any](t *testing.T, config tfsdk.Config) bool {
	t.Helper()
	ctx := context.Background()
	var ours, framework M
	if !readValue(ctx, config.Schema.Type(), config.Raw, reflect.ValueOf(&ours).Elem()) {
		return false
	}
	if diags := config.Get(ctx, &framework); diags.HasError() {
		t.Fatalf("read a configuration Get refuses: %v", diags)
	}
	if !reflect.DeepEqual(ours, framework) {
		t.Errorf("read\n%#v\nthe framework read\n%#v", ours, framework)
	}
	return true
}
