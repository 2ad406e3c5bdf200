package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
	"github.com/maestro-dev/maestro/internal/testreq"
)

const terraformPath = "/usr/local/bin/terraform"

// testAccProtoV6ProviderFactories runs the provider in-process, so
// Terraform needs no registry to find it (one server for every provider
// block: see serialServer). Unchanged objects are refreshed and planned as
// in the released provider (directServer), and every such answer is
// checked against the framework's own (shadowPlans, shadowRefreshes), as
// is every configuration validated without the framework's schema walk
// (shadowValidations).
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"maestro": func() (tfprotov6.ProviderServer, error) {
		u, err := newServer("test", shadows{plan: shadowPlans.compare, refresh: shadowRefreshes.compareRefresh,
			validate: shadowValidations.compareValidate, upgrade: shadowUpgrades.compareUpgrade})
		if err != nil {
			return nil, err
		}
		return serialized(u), nil
	},
}

// shadowPlans, shadowRefreshes, shadowValidations, shadowUpgrades and
// shadowModelReads (readConfig) collect the
// differences between directServer' answers and the framework's for
// the same requests, over every acceptance test; TestMain fails the run on
// any.
var (
	shadowPlans       = shadowDiffs{what: "plans"}
	shadowRefreshes   = shadowDiffs{what: "refreshes"}
	shadowValidations = shadowDiffs{what: "validations"}
	shadowUpgrades    = shadowDiffs{what: "stored states"}
	shadowModelReads  = shadowDiffs{what: "configurations read into models"}
)

type shadowDiffs struct {
	what  string
	mu    sync.Mutex
	same  int
	moved int // refreshes where the object changed before the framework read it
	newer int // of same: refreshes of an object written since only in what flatten does not read
	diffs []string
}

func (d *shadowDiffs) add(typeName string, why []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(why) == 0 {
		d.same++
		return
	}
	d.diffs = append(d.diffs, typeName+": "+strings.Join(why, "; "))
}

// compareRefresh: the framework reads the object a moment later, so its
// answer is compared only when it saw the same version, or a version that
// differs only in what flatten does not read (the same reads digest; then
// its private state names the newer version, and only the states are
// compared, which is the point of the digest). (When it found another
// controller owning part of the object, it drops the mark, and only the
// states are compared.)
func (d *shadowDiffs) compareRefresh(typ tftypes.Type, req *tfprotov6.ReadResourceRequest, ours, framework *tfprotov6.ReadResourceResponse) {
	_, asked, _ := readRefreshMark(req.Private)
	_, seen, marked := readRefreshMark(framework.Private)
	sameVersion := seen.UID == asked.UID && seen.ResourceVersion == asked.ResourceVersion
	sameReads := seen.UID == asked.UID && asked.Reads != "" && seen.Reads == asked.Reads
	if marked && !sameVersion && !sameReads && len(framework.Diagnostics) == 0 {
		d.mu.Lock()
		d.moved++
		d.mu.Unlock()
		return
	}
	var why []string
	if diff := stateDiff(typ, ours.NewState, framework.NewState); diff != "" {
		why = append(why, "state differs: "+diff)
	}
	if marked && sameVersion && !bytes.Equal(ours.Private, framework.Private) {
		why = append(why, fmt.Sprintf("private state %q, the framework's %q", ours.Private, framework.Private))
	}
	if len(framework.Diagnostics) > 0 || framework.Deferred != nil || framework.NewIdentity != nil {
		why = append(why, fmt.Sprintf("the framework also said: diagnostics %v, deferred %v, identity %v",
			framework.Diagnostics, framework.Deferred, framework.NewIdentity))
	}
	if marked && !sameVersion && len(why) == 0 {
		d.mu.Lock()
		d.newer++
		d.mu.Unlock()
	}
	d.add(req.TypeName, why)
}

// compareValidate: a configuration validated without the framework's
// schema walk had nothing to say; the framework must say nothing either.
func (d *shadowDiffs) compareValidate(req *tfprotov6.ValidateResourceConfigRequest, ours, framework *tfprotov6.ValidateResourceConfigResponse) {
	var why []string
	if len(ours.Diagnostics) > 0 || len(framework.Diagnostics) > 0 {
		why = append(why, fmt.Sprintf("diagnostics %v, the framework's %v", ours.Diagnostics, framework.Diagnostics))
	}
	d.add(req.TypeName, why)
}

// compareUpgrade: a stored state answered as it is must decode, as
// Terraform decodes it (go-cty's JSON decoder), into the value Terraform
// decodes from the framework's answer (its MessagePack decoder).
func (d *shadowDiffs) compareUpgrade(typ tftypes.Type, req *tfprotov6.UpgradeResourceStateRequest, ours, framework *tfprotov6.UpgradeResourceStateResponse) {
	var why []string
	ty := ctyType(typ)
	switch {
	case len(framework.Diagnostics) > 0 || framework.UpgradedState == nil:
		why = append(why, fmt.Sprintf("the framework said %v", framework.Diagnostics))
	default:
		a, errA := ctyjson.Unmarshal(ours.UpgradedState.JSON, ty)
		b, errB := ctymsgpack.Unmarshal(framework.UpgradedState.MsgPack, ty)
		if errA != nil || errB != nil || !a.RawEquals(b) {
			why = append(why, fmt.Sprintf("values differ: %#v (%v) vs the framework's %#v (%v)", a, errA, b, errB))
		}
	}
	d.add(req.TypeName, why)
}

// ctyType is typ as go-cty has it.
func ctyType(typ tftypes.Type) cty.Type {
	switch t := typ.(type) {
	case tftypes.List:
		return cty.List(ctyType(t.ElementType))
	case tftypes.Set:
		return cty.Set(ctyType(t.ElementType))
	case tftypes.Map:
		return cty.Map(ctyType(t.ElementType))
	case tftypes.Object:
		attrs := map[string]cty.Type{}
		for name, at := range t.AttributeTypes {
			attrs[name] = ctyType(at)
		}
		return cty.Object(attrs)
	}
	switch {
	case typ.Is(tftypes.String):
		return cty.String
	case typ.Is(tftypes.Number):
		return cty.Number
	case typ.Is(tftypes.Bool):
		return cty.Bool
	}
	return cty.DynamicPseudoType
}

// compareModel: a configuration read into a model without the framework
// must be the model the framework reads, which it reads without a word.
func (d *shadowDiffs) compareModel(model string, ours, framework any, diags diag.Diagnostics) {
	var why []string
	if diags.HasError() || !reflect.DeepEqual(ours, framework) {
		why = append(why, fmt.Sprintf("%#v, the framework's %#v (%v)", ours, framework, diags))
	}
	d.add(model, why)
}

func (d *shadowDiffs) compare(typ tftypes.Type, req *tfprotov6.PlanResourceChangeRequest, ours, framework *tfprotov6.PlanResourceChangeResponse) {
	var why []string
	if diff := stateDiff(typ, ours.PlannedState, framework.PlannedState); diff != "" {
		why = append(why, "planned state differs: "+diff)
	}
	if !bytes.Equal(ours.PlannedPrivate, framework.PlannedPrivate) {
		why = append(why, fmt.Sprintf("private state %q, the framework's %q", ours.PlannedPrivate, framework.PlannedPrivate))
	}
	if len(framework.RequiresReplace) > 0 || len(framework.Diagnostics) > 0 || framework.Deferred != nil || framework.PlannedIdentity != nil {
		why = append(why, fmt.Sprintf("the framework also said: replace %v, diagnostics %v, deferred %v, identity %v",
			framework.RequiresReplace, framework.Diagnostics, framework.Deferred, framework.PlannedIdentity))
	}
	d.add(req.TypeName, why)
}

// stateDiff names the attributes where two planned states differ, empty
// when they are equal. (Equal values need not be equal bytes: the
// framework encodes a map's keys in Go's map order.)
func stateDiff(typ tftypes.Type, a, b *tfprotov6.DynamicValue) string {
	if a == nil || b == nil {
		return fmt.Sprintf("%v vs %v", a, b)
	}
	av, err := a.Unmarshal(typ)
	if err != nil {
		return err.Error()
	}
	bv, err := b.Unmarshal(typ)
	if err != nil {
		return err.Error()
	}
	if av.Equal(bv) {
		return ""
	}
	diffs, err := av.Diff(bv)
	if err != nil {
		return err.Error()
	}
	out := []string{"values differ"}
	for _, d := range diffs {
		if d.Value1 == nil || d.Value2 == nil || d.Value1.Type().Is(tftypes.Object{}) || d.Value1.Type().Is(tftypes.List{}) {
			continue // the leaves say it
		}
		out = append(out, fmt.Sprintf("%s: %s vs the framework's %s", d.Path, d.Value1, d.Value2))
	}
	return strings.Join(out, ", ")
}

// report says how the comparisons went; false when any differed.
func (d *shadowDiffs) report() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.diffs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d %s answered without the framework differ from the framework's (%d agree):\n  %s\n", len(d.diffs), d.what, d.same, strings.Join(d.diffs, "\n  "))
		return false
	}
	moved := ""
	if d.moved > 0 {
		moved = fmt.Sprintf(" (%d more not compared: the object changed before the framework read it)", d.moved)
	}
	newer := ""
	if d.newer > 0 {
		newer = fmt.Sprintf(", %d of them of an object written since in what flatten does not read", d.newer)
	}
	fmt.Fprintf(os.Stderr, "%d %s answered without the framework, each equal to the framework's%s%s\n", d.same, d.what, newer, moved)
	return true
}

// accCluster prepares an acceptance test: it checks the terraform binary,
// runs the test in parallel with the others (accEnv), and starts an
// in-process cluster with simulated nodes (and opts). It returns the
// cluster and the provider block that reaches it.
func accCluster(t *testing.T, nodes int, opts ...cluster.Option) (*cluster.Cluster, string) {
	t.Helper()
	accEnv(t)
	c := cluster.Start(t, opts...)
	if nodes > 0 {
		c.AddNodes(t, "node-", nodes)
	}
	cfg := c.Config
	block := fmt.Sprintf(`
provider "maestro" {
  endpoint       = %q
  token          = %q
  ca_certificate = <<-EOT
%s
EOT
}
`, cfg.Server, cfg.Token, strings.TrimSpace(cfg.CertificateAuthorityData))
	return c, block
}

// accEnv checks the terraform binary (failing in CI, skipping loudly
// elsewhere) and runs the test in parallel with the other acceptance
// tests: each has its own cluster and provider server, and the
// environment plugin-testing and Terraform read is set once (TestMain).
func accEnv(t *testing.T) {
	t.Helper()
	accEnvSerial(t)
	t.Parallel()
}

// accEnvSerial is accEnv for a test that changes the environment
// (t.Setenv), which cannot run in parallel: Go runs it before the
// parallel tests resume.
func accEnvSerial(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(accTerraform()); err != nil {
		testreq.Missing(t, "terraform binary at %s for the acceptance tests (install Terraform or set TF_ACC_TERRAFORM_PATH)", accTerraform())
	}
}

// accTerraform is the terraform binary the acceptance tests run.
func accTerraform() string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	return terraformPath
}

// TestMain sets, once for the whole package, the environment
// plugin-testing and Terraform read, and clears the provider's own
// variables so nothing from the developer's environment leaks into it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "provider-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(cliConfig, nil, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env := map[string]string{
		"TF_ACC": "1", "CHECKPOINT_DISABLE": "1", "TF_ACC_TERRAFORM_PATH": accTerraform(), "TF_IN_AUTOMATION": "1",
		"TF_CLI_CONFIG_FILE": cliConfig, EnvEndpoint: "", EnvToken: "", EnvCACertificate: "", EnvConfig: "",
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	checkModelRead = shadowModelReads.compareModel
	code := m.Run()
	ok := true
	for _, d := range []*shadowDiffs{&shadowPlans, &shadowRefreshes, &shadowValidations, &shadowUpgrades, &shadowModelReads} {
		ok = d.report() && ok
	}
	if !ok && code == 0 {
		code = 1
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func TestBuildClient(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	dir := t.TempDir()
	cfgPath := dir + "/config"
	if err := os.WriteFile(cfgPath, []byte("server: https://file:6443\ntoken: filetoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		data       MaestroProviderModel
		env        map[string]string
		wantServer string
		wantErr    string
	}{
		{name: "attributes", data: MaestroProviderModel{Endpoint: types.StringValue("https://a:1"), Token: types.StringValue("t")}, wantServer: "https://a:1"},
		{name: "environment", env: map[string]string{EnvEndpoint: "https://env:1", EnvToken: "t"}, wantServer: "https://env:1"},
		{name: "attribute beats environment", data: MaestroProviderModel{Endpoint: types.StringValue("https://a:1")}, env: map[string]string{EnvEndpoint: "https://env:1", EnvToken: "t"}, wantServer: "https://a:1"},
		{name: "config file", data: MaestroProviderModel{ConfigPath: types.StringValue(cfgPath)}, wantServer: "https://file:6443"},
		{name: "config file from environment", env: map[string]string{EnvConfig: cfgPath}, wantServer: "https://file:6443"},
		{name: "endpoint overrides config file", data: MaestroProviderModel{ConfigPath: types.StringValue(cfgPath), Endpoint: types.StringValue("https://a:1")}, wantServer: "https://a:1"},
		{name: "missing endpoint is an error, not a default", data: MaestroProviderModel{Token: types.StringValue("t")}, wantErr: "Missing maestro API endpoint"},
		{name: "unknown endpoint", data: MaestroProviderModel{Endpoint: types.StringUnknown(), Token: types.StringValue("t")}, wantErr: "Unknown maestro provider setting"},
		{name: "missing config file", data: MaestroProviderModel{ConfigPath: types.StringValue(dir + "/nope")}, wantErr: "Cannot load the maestro client config"},
		{name: "bad CA", data: MaestroProviderModel{Endpoint: types.StringValue("https://a:1"), Token: types.StringValue("t"), CACertificate: types.StringValue("not pem")}, wantErr: "Invalid maestro provider configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := buildClient(tt.data, env(tt.env), "test")
			c, diags := h.Client()
			if tt.wantErr != "" {
				if !diags.HasError() || !strings.Contains(diags.Errors()[0].Summary(), tt.wantErr) {
					t.Fatalf("diagnostics = %v, want error %q", diags, tt.wantErr)
				}
				return
			}
			if diags.HasError() {
				t.Fatalf("unexpected diagnostics: %v", diags)
			}
			if c.Server() != tt.wantServer {
				t.Errorf("server = %q, want %q", c.Server(), tt.wantServer)
			}
		})
	}
}

// The provider reads the client config file maestro writes.
func TestAccProvider_configPath(t *testing.T) {
	c, _ := accCluster(t, 0)
	cfgPath := t.TempDir() + "/config"
	if err := client.WriteConfig(cfgPath, c.Config); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
provider "maestro" {
  config_path = %q
}
resource "maestro_namespace" "test" {
  metadata {
    name = "from-config-file"
  }
}`, cfgPath),
				Check: resource.TestCheckResourceAttr("maestro_namespace.test", "id", "from-config-file"),
			},
		},
	})
}

// A missing endpoint is reported when a resource needs the client; the
// provider never falls back to a default endpoint.
func TestAccProvider_missingEndpoint(t *testing.T) {
	accEnv(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: `
provider "maestro" {
  token = "t"
}
resource "maestro_namespace" "other" {
  metadata {
    name = "no-endpoint"
  }
}`,
				ExpectError: regexp.MustCompile(`(?s)Missing maestro API endpoint`),
			},
		},
	})
}

func TestHelpers(t *testing.T) {
	ctx := context.Background()
	t.Run("quantitiesEqual", func(t *testing.T) {
		for _, tt := range []struct {
			a, b string
			want bool
		}{
			{"1000m", "1", true}, {"1Gi", "1024Mi", true}, {"500m", "0.5", true},
			{"1", "2", false}, {"1G", "1Gi", false}, {"bad", "bad", false},
		} {
			if got := quantitiesEqual(tt.a, tt.b); got != tt.want {
				t.Errorf("quantitiesEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		}
	})
	t.Run("trackedMap", func(t *testing.T) {
		prior, _ := types.MapValueFrom(ctx, types.StringType, map[string]string{"a": "1", "gone": "x"})
		actual := map[string]string{"a": "2", "server": "y", "deployment.maestro.dev/revision": "3"}
		got, _ := trackedMap(ctx, prior, actual, false)
		if len(got.Elements()) != 1 || got.Elements()["a"].String() != `"2"` {
			t.Errorf("tracked = %v, want only a=2", got)
		}
		got, _ = trackedMap(ctx, types.MapNull(types.StringType), actual, true)
		if len(got.Elements()) != 2 {
			t.Errorf("imported = %v, want a and server (no system keys)", got)
		}
	})
	t.Run("mergeTracked", func(t *testing.T) {
		prior, _ := types.MapValueFrom(ctx, types.StringType, map[string]string{"a": "1", "dropped": "x"})
		planned, _ := types.MapValueFrom(ctx, types.StringType, map[string]string{"a": "9", "new": "n"})
		got, _ := mergeTracked(ctx, map[string]string{"a": "1", "dropped": "x", "other": "o"}, prior, planned)
		want := map[string]string{"a": "9", "new": "n", "other": "o"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("merged = %v, want %v", got, want)
		}
	})
}
