package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// TestUpgradeCurrent: a stored state of the current schema version whose
// JSON is exactly of the schema's type is answered as it is, and decodes,
// as Terraform decodes it, into the value it decodes from the framework's
// answer; a state of another version, with an attribute the schema does
// not have, with a value in a form the decoders convert (a number as a
// string, a fraction, a string as a number), or not one JSON value goes to
// the framework.
func TestUpgradeCurrent(t *testing.T) {
	ctx := context.Background()
	u, err := newServer("test", shadows{})
	if err != nil {
		t.Fatal(err)
	}
	_, config := manifestConfig(t, validDeployment)
	typ := u.current["maestro_deployment"].typ
	version := u.current["maestro_deployment"].version
	dv, err := tfprotov6.NewDynamicValue(typ, config.Raw)
	if err != nil {
		t.Fatal(err)
	}
	val, err := ctymsgpack.Unmarshal(dv.MsgPack, ctyType(typ))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ctyjson.Marshal(val, ctyType(typ)) // as Terraform writes a state file
	if err != nil {
		t.Fatal(err)
	}
	state := string(stored)
	edit := func(old, new string) string {
		if !strings.Contains(state, old) {
			t.Fatalf("no %s in %s", old, state)
		}
		return strings.Replace(state, old, new, 1)
	}

	tests := []struct {
		name    string
		json    string
		version int64
		direct  bool
	}{
		{"a state as Terraform writes it", state, version, true},
		{"null attributes left out", `{"metadata":{"name":"web","namespace":"default"}}`, version, true},
		{"another schema version", state, version - 1, false},
		{"an attribute the schema does not have", edit(`"replicas":3`, `"replicas":3,"paused":true`), version, false},
		{"a number as a string", edit(`"replicas":3`, `"replicas":"3"`), version, false},
		{"a fraction", edit(`"replicas":3`, `"replicas":1.5`), version, false},
		{"a number too large for an integer attribute", edit(`"replicas":3`, `"replicas":12345678901234567890`), version, false},
		{"a string as a number", edit(`"name":"web"`, `"name":7`), version, false},
		{"a list as an object", edit(`"command":["/app"]`, `"command":{"0":"/app"}`), version, false},
		{"two values", state + ` {}`, version, false},
		{"not JSON", `{"metadata":`, version, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &tfprotov6.UpgradeResourceStateRequest{TypeName: "maestro_deployment", Version: tt.version,
				RawState: &tfprotov6.RawState{JSON: []byte(tt.json)}}
			ours := u.upgradeCurrent(req)
			if (ours != nil) != tt.direct {
				t.Fatalf("answered as it is: %v, want %v", ours != nil, tt.direct)
			}
			if ours == nil {
				return
			}
			framework, err := u.ProviderServer.UpgradeResourceState(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			var d shadowDiffs
			d.compareUpgrade(typ, req, ours, framework)
			if len(d.diffs) > 0 {
				t.Error(d.diffs)
			}
		})
	}
	if u.upgradeCurrent(&tfprotov6.UpgradeResourceStateRequest{TypeName: "maestro_deployment", Version: version,
		RawState: &tfprotov6.RawState{Flatmap: map[string]string{"id": "default/web"}}}) != nil {
		t.Error("a flatmap state (Terraform 0.11) was answered as it is")
	}
}
