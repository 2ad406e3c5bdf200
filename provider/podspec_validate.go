package provider

import (
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// validatePodSpec checks at plan time, without the cluster, a pod spec
// whose configuration still has values known only after apply: one
// source per volume, env value and probe; the probe rules of the API;
// mounts naming a volume of the pod. Once every value is known the API's
// own validation (validate_api.go) checks all of this and more, and this
// does not run, so a mistake is reported once, in the API's words. p is
// the path of the block holding the spec.
func validatePodSpec(m *PodSpecModel, p path.Path, diags *diag.Diagnostics) {
	if len(m.Containers) == 0 {
		diags.AddAttributeError(p, "Missing container", "Add at least one container block.")
	}
	volumes := map[string]bool{}
	for i, v := range m.Volumes {
		vp := p.AtName("volume").AtListIndex(i)
		if known(v.Name) {
			if volumes[v.Name.ValueString()] {
				diags.AddAttributeError(vp.AtName("name"), "Duplicate volume", fmt.Sprintf("Volume %q is declared twice.", v.Name.ValueString()))
			}
			volumes[v.Name.ValueString()] = true
		}
		exactlyOne(diags, vp, "volume source", map[string]bool{
			"empty_dir": v.EmptyDir != nil, "host_path": v.HostPath != nil, "config_map": v.ConfigMap != nil,
			"secret": v.Secret != nil, "persistent": v.Persistent != nil,
		})
		required(diags, vp.AtName("host_path").AtName("path"), v.HostPath != nil, func() types.String { return v.HostPath.Path })
		required(diags, vp.AtName("config_map").AtName("name"), v.ConfigMap != nil, func() types.String { return v.ConfigMap.Name })
		required(diags, vp.AtName("secret").AtName("secret_name"), v.Secret != nil, func() types.String { return v.Secret.SecretName })
		required(diags, vp.AtName("persistent").AtName("name"), v.Persistent != nil, func() types.String { return v.Persistent.Name })
		if v.Persistent != nil && known(v.Persistent.Name) {
			if msg := api.IsDNS1123Label(v.Persistent.Name.ValueString()); msg != "" {
				diags.AddAttributeError(vp.AtName("persistent").AtName("name"), "Invalid name", fmt.Sprintf("%q %s.", v.Persistent.Name.ValueString(), msg))
			}
		}
	}
	allVolumesKnown := true
	for _, v := range m.Volumes {
		allVolumesKnown = allVolumesKnown && known(v.Name)
	}
	for i, c := range m.Containers {
		cp := p.AtName("container").AtListIndex(i)
		for j, e := range c.Env {
			ep := cp.AtName("env").AtListIndex(j)
			if e.ValueFrom == nil {
				continue
			}
			if known(e.Value) && e.Value.ValueString() != "" {
				diags.AddAttributeError(ep, "Conflicting env value", "Set either value or value_from, not both.")
			}
			vf, fp := e.ValueFrom, ep.AtName("value_from")
			exactlyOne(diags, fp, "value source", map[string]bool{
				"config_map_key_ref": vf.ConfigMapKeyRef != nil, "secret_key_ref": vf.SecretKeyRef != nil, "field_ref": vf.FieldRef != nil,
			})
			for name, ref := range map[string]*keyRefModel{"config_map_key_ref": vf.ConfigMapKeyRef, "secret_key_ref": vf.SecretKeyRef} {
				required(diags, fp.AtName(name).AtName("name"), ref != nil, func() types.String { return ref.Name })
				required(diags, fp.AtName(name).AtName("key"), ref != nil, func() types.String { return ref.Key })
			}
			required(diags, fp.AtName("field_ref").AtName("field_path"), vf.FieldRef != nil, func() types.String { return vf.FieldRef.FieldPath })
		}
		for j, e := range c.EnvFrom {
			ep := cp.AtName("env_from").AtListIndex(j)
			exactlyOne(diags, ep, "env_from source", map[string]bool{"config_map_ref": e.ConfigMapRef != nil, "secret_ref": e.SecretRef != nil})
			required(diags, ep.AtName("config_map_ref").AtName("name"), e.ConfigMapRef != nil, func() types.String { return e.ConfigMapRef.Name })
			required(diags, ep.AtName("secret_ref").AtName("name"), e.SecretRef != nil, func() types.String { return e.SecretRef.Name })
		}
		for j, vm := range c.VolumeMounts {
			if allVolumesKnown && known(vm.Name) && !volumes[vm.Name.ValueString()] {
				diags.AddAttributeError(cp.AtName("volume_mount").AtListIndex(j).AtName("name"), "Unknown volume",
					fmt.Sprintf("No volume named %q in this pod; add a volume block with that name.", vm.Name.ValueString()))
			}
		}
		validateProbe(diags, c.Liveness, cp.AtName("liveness_probe"), true)
		validateProbe(diags, c.Readiness, cp.AtName("readiness_probe"), false)
		validateProbe(diags, c.Startup, cp.AtName("startup_probe"), true)
	}
}

func validateProbe(diags *diag.Diagnostics, pr *probeModel, p path.Path, successMustBeOne bool) {
	if pr == nil {
		return
	}
	exactlyOne(diags, p, "probe handler", map[string]bool{"http_get": pr.HTTPGet != nil, "tcp_socket": pr.TCPSocket != nil, "exec": pr.Exec != nil})
	required(diags, p.AtName("http_get").AtName("port"), pr.HTTPGet != nil, func() types.String { return pr.HTTPGet.Port })
	required(diags, p.AtName("tcp_socket").AtName("port"), pr.TCPSocket != nil, func() types.String { return pr.TCPSocket.Port })
	if pr.Exec != nil && !pr.Exec.Command.IsUnknown() && len(pr.Exec.Command.Elements()) == 0 {
		diags.AddAttributeError(p.AtName("exec").AtName("command"), "Missing command", "An exec probe needs a command.")
	}
	if successMustBeOne && !pr.SuccessThreshold.IsNull() && !pr.SuccessThreshold.IsUnknown() && pr.SuccessThreshold.ValueInt64() != 1 {
		diags.AddAttributeError(p.AtName("success_threshold"), "Invalid probe setting",
			fmt.Sprintf("success_threshold is %d; liveness and startup probes pass on one success, so it must be 1.", pr.SuccessThreshold.ValueInt64()))
	}
}

// exactlyOne reports unless exactly one of the named blocks is set.
func exactlyOne(diags *diag.Diagnostics, p path.Path, what string, set map[string]bool) {
	var names []string
	n := 0
	for name, ok := range set {
		names = append(names, name)
		if ok {
			n++
		}
	}
	if n != 1 {
		slices.Sort(names)
		diags.AddAttributeError(p, "Invalid "+what, fmt.Sprintf("Set exactly one %s block (%d set); one of %s.", what, n, mschema.QuoteList(names)))
	}
}

// required reports a block's attribute left out, when the block is present.
func required(diags *diag.Diagnostics, p path.Path, present bool, value func() types.String) {
	if !present {
		return
	}
	if v := value(); v.IsNull() || (!v.IsUnknown() && v.ValueString() == "") {
		diags.AddAttributeError(p, "Missing required argument", fmt.Sprintf("%s is required in this block.", p))
	}
}

func known(v types.String) bool { return !v.IsNull() && !v.IsUnknown() }
