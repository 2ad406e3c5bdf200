package provider

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/maestro-dev/maestro/internal/schema"
)

// upgradeState sends a stored state of schema version 0 (JSON, as
// Terraform keeps it in its state file) through the provider's server, as
// Terraform does before it reads a state written by an older provider,
// and decodes the upgraded state into model.
func upgradeState(t *testing.T, typeName string, r resource.Resource, stateJSON string, model any) {
	t.Helper()
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
		TypeName: typeName,
		Version:  0,
		RawState: &tfprotov6.RawState{JSON: []byte(stateJSON)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("%s: %s: %s", d.Severity, d.Summary, d.Detail)
	}
	if t.Failed() {
		t.FailNow()
	}
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	raw, err := resp.UpgradedState.Unmarshal(sr.Schema.Type().TerraformType(ctx))
	if err != nil {
		t.Fatal(err)
	}
	state := tfsdk.State{Schema: sr.Schema, Raw: raw}
	if d := state.Get(ctx, model); d.HasError() {
		t.Fatalf("upgraded state does not fit the new schema: %v", d)
	}
}

func strMapValue(kv ...string) types.Map {
	m := map[string]attr.Value{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = types.StringValue(kv[i+1])
	}
	return types.MapValueMust(types.StringType, m)
}

// TestUpgradeStateFlatToMetadata: a state written by the provider before
// namespace, config map, secret and autoscaler had a metadata block
// upgrades to the new shape with every value where the new schema keeps it
// (the secret's data too), so no object is replaced or loses data after
// upgrading.
func TestUpgradeStateFlatToMetadata(t *testing.T) {
	nullMap := types.MapNull(types.StringType)
	tests := []struct {
		name, typeName string
		res            resource.Resource
		state          string
		got, want      any
	}{
		{
			name: "namespace", typeName: "maestro_namespace", res: NewNamespaceResource(),
			state: `{"id":"shop","name":"shop","labels":{"team":"a"},"annotations":null,"uid":"u-1"}`,
			got:   &NamespaceResourceModel{},
			want: &NamespaceResourceModel{ID: types.StringValue("shop"), Metadata: &clusterMetadataModel{
				Name: types.StringValue("shop"), Labels: strMapValue("team", "a"), Annotations: nullMap, UID: types.StringValue("u-1")}},
		},
		{
			name: "config map", typeName: "maestro_config_map", res: NewConfigMapResource(),
			state: `{"id":"shop/settings","namespace":"shop","name":"settings","labels":null,"annotations":{"note":"x"},"data":{"a":"1","b":""}}`,
			got:   &ConfigMapResourceModel{},
			want: &ConfigMapResourceModel{ID: types.StringValue("shop/settings"),
				Metadata: &metadataModel{Name: types.StringValue("settings"), Namespace: types.StringValue("shop"),
					Labels: nullMap, Annotations: strMapValue("note", "x"), UID: types.StringNull()},
				Data: strMapValue("a", "1", "b", "")},
		},
		{
			name: "config map without data", typeName: "maestro_config_map", res: NewConfigMapResource(),
			state: `{"id":"shop/empty","namespace":"shop","name":"empty","labels":null,"annotations":null,"data":null}`,
			got:   &ConfigMapResourceModel{},
			want: &ConfigMapResourceModel{ID: types.StringValue("shop/empty"),
				Metadata: &metadataModel{Name: types.StringValue("empty"), Namespace: types.StringValue("shop"),
					Labels: nullMap, Annotations: nullMap, UID: types.StringNull()},
				Data: nullMap},
		},
		{
			name: "secret with data", typeName: "maestro_secret", res: NewSecretResource(),
			state: `{"id":"shop/db","namespace":"shop","name":"db","labels":{"app":"db"},"annotations":null,` +
				`"type":"Opaque","data":{"password":"hunter2"},"data_wo":null,"data_wo_version":null}`,
			got: &SecretResourceModel{},
			want: &SecretResourceModel{ID: types.StringValue("shop/db"),
				Metadata: &metadataModel{Name: types.StringValue("db"), Namespace: types.StringValue("shop"),
					Labels: strMapValue("app", "db"), Annotations: nullMap, UID: types.StringNull()},
				Type: types.StringValue("Opaque"), Data: strMapValue("password", "hunter2"),
				DataWO: nullMap, DataWOVersion: types.Int64Null()},
		},
		{
			name: "secret with write-only data", typeName: "maestro_secret", res: NewSecretResource(),
			state: `{"id":"shop/tls","namespace":"shop","name":"tls","labels":null,"annotations":null,` +
				`"type":"kubernetes.io/tls","data":{"user":"app"},"data_wo":null,"data_wo_version":3}`,
			got: &SecretResourceModel{},
			want: &SecretResourceModel{ID: types.StringValue("shop/tls"),
				Metadata: &metadataModel{Name: types.StringValue("tls"), Namespace: types.StringValue("shop"),
					Labels: nullMap, Annotations: nullMap, UID: types.StringNull()},
				Type: types.StringValue("kubernetes.io/tls"), Data: strMapValue("user", "app"),
				DataWO: nullMap, DataWOVersion: types.Int64Value(3)},
		},
		{
			name: "autoscaler", typeName: "maestro_autoscaler", res: NewAutoscalerResource(),
			state: `{"id":"shop/web","namespace":"shop","name":"web","labels":null,"annotations":null,` +
				`"target":{"kind":"Deployment","name":"web"},"min_replicas":2,"max_replicas":6,` +
				`"metric":[{"resource":"cpu","average_utilization":50,"average_value":null}],` +
				`"behavior":{"scale_up":null,"scale_down":{"stabilization_window_seconds":60,"select_policy":null,"policy":[]}}}`,
			got: &AutoscalerResourceModel{},
			want: &AutoscalerResourceModel{ID: types.StringValue("shop/web"),
				Metadata: &metadataModel{Name: types.StringValue("web"), Namespace: types.StringValue("shop"),
					Labels: nullMap, Annotations: nullMap, UID: types.StringNull()},
				Spec: &autoscalerSpecModel{
					Target:      &scaleTargetModel{Kind: types.StringValue("Deployment"), Name: types.StringValue("web")},
					MinReplicas: types.Int64Value(2), MaxReplicas: types.Int64Value(6),
					Metrics: []metricModel{{Resource: types.StringValue("cpu"), AverageUtilization: types.Int64Value(50), AverageValue: types.StringNull()}},
					Behavior: &behaviorModel{ScaleDown: &scalingRulesModel{StabilizationWindowSeconds: types.Int64Value(60),
						SelectPolicy: types.StringNull(), Policies: []scalingPolicyModel{}}},
				}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upgradeState(t, tc.typeName, tc.res, tc.state, tc.got)
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("upgraded state\n got %+v\nwant %+v", deref(tc.got), deref(tc.want))
			}
		})
	}
}

// deref shows a model's metadata block, not its address.
func deref(m any) any {
	switch m := m.(type) {
	case *NamespaceResourceModel:
		return []any{m.ID, *m.Metadata}
	case *ConfigMapResourceModel:
		return []any{m.ID, *m.Metadata, m.Data}
	case *SecretResourceModel:
		return []any{m.ID, *m.Metadata, m.Type, m.DataWOVersion}
	case *AutoscalerResourceModel:
		return []any{m.ID, *m.Metadata, *m.Spec}
	}
	return m
}

// TestEveryKindRequiresMetadata: every resource that is an API object has
// the same shape: a metadata block (nothing of it at the top level) whose
// name and namespace force replacement and whose uid is the server's, and
// a configuration without it is refused at plan time, naming the block.
func TestEveryKindRequiresMetadata(t *testing.T) {
	ctx := context.Background()
	for name, r := range map[string]resource.Resource{
		"namespace": NewNamespaceResource(), "config_map": NewConfigMapResource(), "secret": NewSecretResource(),
		"autoscaler": NewAutoscalerResource(), "volume": NewVolumeResource(), "service": NewServiceResource(),
		"deployment": NewDeploymentResource(), "pod": NewPodResource(),
	} {
		t.Run(name, func(t *testing.T) {
			var sr resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &sr)
			if _, ok := sr.Schema.Blocks["metadata"]; !ok {
				t.Fatalf("maestro_%s has no metadata block", name)
			}
			for _, flat := range []string{"name", "namespace", "labels", "annotations"} {
				if _, ok := sr.Schema.Attributes[flat]; ok {
					t.Errorf("maestro_%s has %q at the top level; it belongs in metadata", name, flat)
				}
			}
			// The same block as the deployment's: the name (and namespace)
			// force replacement, the uid is the server's.
			wantNew := []string{"metadata.name", "metadata.namespace"}
			if name == "namespace" {
				wantNew = wantNew[:1]
			}
			for _, p := range wantNew {
				if !slices.Contains(schema.ForceNew(name), p) {
					t.Errorf("maestro_%s: changing %s does not replace it (force-new: %v)", name, p, schema.ForceNew(name))
				}
			}
			if !slices.Contains(schema.ServerOwned(name), "metadata.uid") {
				t.Errorf("maestro_%s: metadata.uid is not the server's (server-owned: %v)", name, schema.ServerOwned(name))
			}
			typ := sr.Schema.Type().TerraformType(ctx).(tftypes.Object)
			nulls := map[string]tftypes.Value{}
			for a, at := range typ.AttributeTypes {
				nulls[a] = tftypes.NewValue(at, nil)
			}
			req := resource.ValidateConfigRequest{Config: tfsdk.Config{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nulls)}}
			var resp resource.ValidateConfigResponse
			r.(resource.ResourceWithValidateConfig).ValidateConfig(ctx, req, &resp)
			for _, d := range resp.Diagnostics {
				if d, ok := d.(diag.DiagnosticWithPath); ok && d.Summary() == "Missing metadata block" && d.Path().Equal(path.Root("metadata")) {
					return
				}
			}
			t.Errorf("a configuration without metadata: diagnostics %v, want \"Missing metadata block\" at metadata", resp.Diagnostics)
		})
	}
}
