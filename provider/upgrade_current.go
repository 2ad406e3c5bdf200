package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Reading a state of the current schema version without the framework.
//
// Terraform hands every stored state to the provider at every plan
// (UpgradeResourceState), as the JSON its state file holds. When the state
// is of the schema's current version, the framework decodes that JSON
// against the schema, leaving out attributes the schema does not have, and
// encodes the value again: a tenth of the provider's CPU in a no-op plan.
// Terraform reads an answer in JSON as well as in MessagePack, so a state
// whose JSON is already exactly of the schema's type (every attribute one
// the schema has, every value of its attribute's type, numbers integers)
// is answered with that JSON as it is: decoding it gives the value the
// framework would have encoded. Any other state (an older version, an
// attribute the schema no longer has, a value in a looser form the
// decoders convert, a flatmap state of Terraform 0.11) goes to the
// framework. The acceptance tests decode every such answer next to the
// framework's and fail on any difference (shadowUpgrades).

// currentKind is what a state of a resource type must be to be answered
// as it is.
type currentKind struct {
	version int64
	typ     tftypes.Type
}

// UpgradeResourceState answers a state of the current version that is
// exactly of the schema's type with itself; any other goes to the
// framework.
func (u *directServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	var shadow func(ours, framework *tfprotov6.UpgradeResourceStateResponse)
	if u.shadows.upgrade != nil {
		shadow = func(ours, framework *tfprotov6.UpgradeResourceStateResponse) {
			u.shadows.upgrade(u.current[req.TypeName].typ, req, ours, framework)
		}
	}
	return answer(ctx, req, u.upgradeCurrent(req), u.ProviderServer.UpgradeResourceState, shadow)
}

// upgradeCurrent is the answer to a state already of the current schema,
// or nil when the framework must read it.
func (u *directServer) upgradeCurrent(req *tfprotov6.UpgradeResourceStateRequest) *tfprotov6.UpgradeResourceStateResponse {
	k, ok := u.current[req.TypeName]
	if !ok || req.RawState == nil || len(req.RawState.JSON) == 0 || req.Version != k.version {
		return nil
	}
	if !jsonOfType(req.RawState.JSON, k.typ) {
		return nil
	}
	return &tfprotov6.UpgradeResourceStateResponse{UpgradedState: &tfprotov6.DynamicValue{JSON: req.RawState.JSON}}
}

// jsonOfType reports whether doc is one JSON value exactly of type typ, in
// the form Terraform writes: null anywhere, strings as strings, booleans
// as booleans, numbers as integers, lists as arrays, maps and objects as
// objects, an object's keys among its attributes.
func jsonOfType(doc []byte, typ tftypes.Type) bool {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		return false // more than one value
	}
	return valueOfType(v, typ)
}

// integer is a JSON number that is an integer as Terraform writes it.
var integer = regexp.MustCompile(`^(0|-?[1-9][0-9]{0,17})$`)

func valueOfType(v any, typ tftypes.Type) bool {
	if v == nil {
		return true
	}
	switch {
	case typ.Is(tftypes.String):
		_, ok := v.(string)
		return ok
	case typ.Is(tftypes.Bool):
		_, ok := v.(bool)
		return ok
	case typ.Is(tftypes.Number):
		n, ok := v.(json.Number)
		return ok && integer.MatchString(string(n))
	}
	switch t := typ.(type) {
	case tftypes.List:
		elems, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range elems {
			if !valueOfType(e, t.ElementType) {
				return false
			}
		}
		return true
	case tftypes.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for _, e := range m {
			if !valueOfType(e, t.ElementType) {
				return false
			}
		}
		return true
	case tftypes.Object:
		m, ok := v.(map[string]any)
		if !ok || len(t.OptionalAttributes) > 0 {
			return false
		}
		for name, e := range m {
			at, ok := t.AttributeTypes[name]
			if !ok || !valueOfType(e, at) {
				return false
			}
		}
		return true
	}
	return false // sets, tuples, dynamic values
}
