package provider

import (
	"bytes"
	"context"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestPlanUnchanged: an object whose configuration matches its prior
// state is planned as that state without the framework, with the same
// answer the framework gives; whenever the framework would change
// something (a left-out attribute drifted from its default, target_port
// from its port, a node port it may drop), or the proposal is not the
// prior state, the framework plans it.
func TestPlanUnchanged(t *testing.T) {
	ctx := context.Background()
	u, err := newServer("test", shadows{})
	if err != nil {
		t.Fatal(err)
	}
	fw := u.ProviderServer
	schemas, err := fw.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// A ClusterIP service as applied: the server's defaults in state.
	port := func(p map[string]any) map[string]any {
		out := map[string]any{"name": "http", "port": 80}
		for k, v := range p {
			out[k] = v
		}
		return out
	}
	service := func(spec map[string]any, ports ...map[string]any) map[string]any {
		s := map[string]any{"selector": map[string]string{"app": "web"}}
		for k, v := range spec {
			s[k] = v
		}
		s["port"] = ports
		return map[string]any{"metadata": map[string]any{"name": "web", "namespace": "shop"}, "spec": s}
	}
	applied := func(spec map[string]any, ports ...map[string]any) map[string]any {
		v := service(spec, ports...)
		v["id"] = "shop/web"
		v["metadata"].(map[string]any)["uid"] = "u-1"
		s := v["spec"].(map[string]any)
		for k, d := range map[string]any{"type": "ClusterIP", "session_affinity": "None", "cluster_ip": "10.0.0.7"} {
			if _, ok := s[k]; !ok {
				s[k] = d
			}
		}
		return v
	}
	filled := map[string]any{"protocol": "TCP", "target_port": "80"}
	tests := []struct {
		name          string
		typ           string
		config, prior map[string]any
		proposed      map[string]any // nil: the prior state
		fast          bool
	}{
		{"unchanged, defaults left out", "maestro_service", service(nil, port(nil)), applied(nil, port(filled)), nil, true},
		{"unchanged, values set", "maestro_service",
			service(map[string]any{"type": "NodePort"}, port(map[string]any{"node_port": 30080, "target_port": "http"})),
			applied(map[string]any{"type": "NodePort"}, port(map[string]any{"protocol": "TCP", "node_port": 30080, "target_port": "http"})), nil, true},
		{"type left out but drifted from its default", "maestro_service", service(nil, port(nil)),
			applied(map[string]any{"type": "NodePort"}, port(filled)), nil, false},
		{"target_port left out but not the port", "maestro_service", service(nil, port(nil)),
			applied(nil, port(map[string]any{"protocol": "TCP", "target_port": "8080"})), nil, false},
		{"node_port left out but allocated", "maestro_service", service(nil, port(nil)),
			applied(nil, port(map[string]any{"protocol": "TCP", "target_port": "80", "node_port": 30001})), nil, false},
		{"a change proposed", "maestro_service", service(map[string]any{"selector": map[string]string{"app": "api"}}, port(nil)),
			applied(nil, port(filled)), applied(map[string]any{"selector": map[string]string{"app": "api"}}, port(filled)), false},
		{"volumes are always the framework's", "maestro_volume",
			map[string]any{"metadata": map[string]any{"name": "data", "namespace": "shop"}},
			map[string]any{"id": "shop/data", "node": "n1", "phase": "Bound", "metadata": map[string]any{"name": "data", "namespace": "shop", "uid": "u"},
				"spec": map[string]any{"reclaim_policy": "Retain", "node_name": "n1"}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := schemas.ResourceSchemas[tt.typ].ValueType()
			proposed := tt.proposed
			if proposed == nil {
				proposed = tt.prior
			}
			req := &tfprotov6.PlanResourceChangeRequest{
				TypeName:         tt.typ,
				Config:           dynamicValue(t, typ, tt.config),
				PriorState:       dynamicValue(t, typ, tt.prior),
				ProposedNewState: dynamicValue(t, typ, proposed),
			}
			ours := u.planUnchanged(req)
			if (ours != nil) != tt.fast {
				t.Fatalf("planned without the framework: %v, want %v", ours != nil, tt.fast)
			}
			full, err := fw.PlanResourceChange(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range full.Diagnostics {
				if d.Severity == tfprotov6.DiagnosticSeverityError {
					t.Fatalf("the framework refused the request: %s: %s", d.Summary, d.Detail)
				}
			}
			planned, err := full.PlannedState.Unmarshal(typ)
			if err != nil {
				t.Fatal(err)
			}
			prior, _ := req.PriorState.Unmarshal(typ)
			sameAsPrior := planned.Equal(prior) // values: the framework's bytes order a map's keys at random
			if ours != nil {
				if !sameAsPrior || !bytes.Equal(ours.PlannedState.MsgPack, req.PriorState.MsgPack) || len(full.RequiresReplace) > 0 {
					t.Errorf("planned the prior state; the framework planned another (replace %v)", full.RequiresReplace)
				}
				return
			}
			if tt.proposed == nil && tt.typ == "maestro_service" && sameAsPrior {
				t.Errorf("left to the framework, which planned nothing either: the check is stricter than it needs to be")
			}
		})
	}
}

// dynamicValue is v (attribute values by name, nested blocks as maps and
// lists of maps) as a value of the resource type typ; what v leaves out
// is null, or no blocks.
func dynamicValue(t *testing.T, typ tftypes.Type, v map[string]any) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(typ, objectValue(t, typ.(tftypes.Object), v))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

func objectValue(t *testing.T, typ tftypes.Object, v map[string]any) tftypes.Value {
	t.Helper()
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = blockValue(t, at, v[name])
	}
	return tftypes.NewValue(typ, vals)
}

func blockValue(t *testing.T, typ tftypes.Type, v any) tftypes.Value {
	t.Helper()
	switch typ := typ.(type) {
	case tftypes.Object:
		if v == nil {
			return tftypes.NewValue(typ, nil)
		}
		return objectValue(t, typ, v.(map[string]any))
	case tftypes.List:
		if obj, ok := typ.ElementType.(tftypes.Object); ok { // a block list: absent is empty
			var elems []tftypes.Value
			if v != nil {
				for _, e := range v.([]map[string]any) {
					elems = append(elems, objectValue(t, obj, e))
				}
			}
			return tftypes.NewValue(typ, elems)
		}
	case tftypes.Map:
		if v == nil {
			return tftypes.NewValue(typ, nil)
		}
		elems := map[string]tftypes.Value{}
		for k, s := range v.(map[string]string) {
			elems[k] = tftypes.NewValue(tftypes.String, s)
		}
		return tftypes.NewValue(typ, elems)
	}
	switch v := v.(type) {
	case nil:
		return tftypes.NewValue(typ, nil)
	case int:
		return tftypes.NewValue(typ, new(big.Float).SetInt64(int64(v)))
	default:
		return tftypes.NewValue(typ, v)
	}
}
