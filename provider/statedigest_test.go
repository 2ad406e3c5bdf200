package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// TestStateDigest: a state encoded by the framework (tftypes, a map's keys
// in Go's map order) and by Terraform (cty, keys sorted) digests the same;
// any change of value digests differently; what is not a state is an
// error.
func TestStateDigest(t *testing.T) {
	tfType := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"name":   tftypes.String,
		"count":  tftypes.Number,
		"ratio":  tftypes.Number,
		"big":    tftypes.Number,
		"on":     tftypes.Bool,
		"labels": tftypes.Map{ElementType: tftypes.String},
		"ports": tftypes.List{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{
			"port": tftypes.Number, "name": tftypes.String}}},
		"note": tftypes.String,
	}}
	ctyType := cty.Object(map[string]cty.Type{
		"name": cty.String, "count": cty.Number, "ratio": cty.Number, "big": cty.Number, "on": cty.Bool,
		"labels": cty.Map(cty.String),
		"ports":  cty.List(cty.Object(map[string]cty.Type{"port": cty.Number, "name": cty.String})),
		"note":   cty.String,
	})
	encodings := func(t *testing.T, doc string) (framework, terraform []byte) {
		t.Helper()
		v, err := (&tfprotov6.RawState{JSON: []byte(doc)}).UnmarshalWithOpts(tfType, tfprotov6.UnmarshalOpts{})
		if err != nil {
			t.Fatal(err)
		}
		dv, err := tfprotov6.NewDynamicValue(tfType, v)
		if err != nil {
			t.Fatal(err)
		}
		cv, err := ctyjson.Unmarshal([]byte(doc), ctyType)
		if err != nil {
			t.Fatal(err)
		}
		mp, err := ctymsgpack.Marshal(cv, ctyType)
		if err != nil {
			t.Fatal(err)
		}
		return dv.MsgPack, mp
	}
	digest := func(t *testing.T, b []byte) string {
		t.Helper()
		d, err := stateDigest(b)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	labels := `{"app":"web","tier":"frontend","zone":"a","team":"platform","cost-center":"1234","a-label-longer-than-thirty-one-characters":"x"}`
	base := `{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels +
		`,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`
	want := ""
	for i := range 20 { // Go's map order differs from run to run
		fw, tf := encodings(t, base)
		if got := digest(t, tf); want == "" {
			want = got
		} else if got != want {
			t.Fatalf("Terraform's encoding: digest %s, then %s", want, got)
		}
		if got := digest(t, fw); got != want {
			t.Fatalf("try %d: the framework's encoding digests %s, Terraform's %s", i, got, want)
		}
	}

	for _, changed := range []string{
		`{"name":"web2","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":4,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.5,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567891,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":false,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":{"app":"web"},"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":443,"name":null},{"port":80,"name":"http"}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":""}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":null,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[],"note":null}`,
		`{"name":"web","count":3,"ratio":0.25,"big":123456789012345678901234567890,"on":true,"labels":` + labels + `,"ports":[{"port":80,"name":"http"},{"port":443,"name":null}],"note":"3"}`,
	} {
		fw, tf := encodings(t, changed)
		if got := digest(t, fw); got == want || got != digest(t, tf) {
			t.Errorf("%s: framework digest %s, Terraform's %s, the unchanged state's %s", changed, got, digest(t, tf), want)
		}
	}

	fw, _ := encodings(t, base)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"truncated":     fw[:len(fw)/2],
		"trailing data": append(append([]byte{}, fw...), 0xc0),
		"an unknown":    {0xd4, 0x00, 0x00}, // the extension both encode unknown values as
	} {
		if d, err := stateDigest(b); err == nil {
			t.Errorf("%s: digest %s, want an error", name, d)
		}
	}
}
