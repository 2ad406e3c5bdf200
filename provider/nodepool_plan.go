package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/maestro-dev/maestro/engine/api"
)

// Plan-time checks of a pool. All pure. What an apply does to a pool's
// machines is internal/plan's to say (see addImpact).

// poolPath turns "remediation.startup_timeout" into an attribute path.
func poolPath(dotted string) path.Path {
	parts := strings.Split(dotted, ".")
	p := path.Root(parts[0])
	for _, part := range parts[1:] {
		p = p.AtName(part)
	}
	return p
}

// poolFieldNames maps API field names of a NodePool to the schema's.
var poolFieldNames = map[string]string{
	"minSize": "min_size", "maxSize": "max_size", "size": "size", "machineType": "machine_type",
	"zones": "zones", "labels": "labels", "taints": "taint", "spot": "spot", "rollout": "rollout",
	"maxSurge": "max_surge", "maxUnavailable": "max_unavailable", "drainTimeoutSeconds": "drain_timeout",
	"remediation": "remediation", "startupTimeoutSeconds": "startup_timeout",
	"notReadyTimeoutSeconds": "not_ready_timeout", "maxInFlight": "max_in_flight", "ssh": "ssh",
	"hosts": "hosts", "user": "user", "port": "port", "privateKeySecretRef": "private_key",
	"hostKeys": "host_keys", "insecureIgnoreHostKey": "insecure_ignore_host_key", "installDir": "install_dir",
	"key": "key", "value": "value", "effect": "effect",
	"aws": "aws", "region": "region", "ami": "ami", "subnetIDs": "subnet_ids", "securityGroupIDs": "security_group_ids",
	"keyName": "key_name", "instanceProfile": "instance_profile", "tags": "tags", "endpoint": "endpoint",
	"gcp": "gcp", "project": "project", "image": "image", "network": "network", "subnetwork": "subnetwork",
	"serviceAccount": "service_account",
}

var fieldSegment = regexp.MustCompile(`^([A-Za-z]+)((?:\[[^\]]*\])*)$`)

// poolAttrPath maps an API field path ("spec.taints[0].key",
// `spec.labels["a b"]`, "metadata.name") to the schema's attribute path;
// ok is false for fields the schema does not have.
func poolAttrPath(field string) (path.Path, bool) {
	if field == "metadata.name" {
		return path.Root("name"), true
	}
	rest, found := strings.CutPrefix(field, "spec.")
	if !found {
		return path.Empty(), false
	}
	var p path.Path
	for i, seg := range strings.Split(rest, ".") {
		m := fieldSegment.FindStringSubmatch(seg)
		if m == nil {
			return path.Empty(), false
		}
		name, ok := poolFieldNames[m[1]]
		if !ok {
			return path.Empty(), false
		}
		if i == 0 {
			p = path.Root(name)
		} else {
			p = p.AtName(name)
		}
		for _, idx := range regexp.MustCompile(`\[([^\]]*)\]`).FindAllStringSubmatch(m[2], -1) {
			if n, err := strconv.Atoi(idx[1]); err == nil {
				p = p.AtListIndex(n)
			} else {
				p = p.AtMapKey(strings.Trim(idx[1], `"`))
			}
		}
	}
	return p, true
}

// validatePoolShape checks what needs several attributes together, on
// known values: one provider block, a size, min_size <= size <= max_size,
// the ssh key and host key policy, a cloud block's required settings and
// its aliases of the pool's attributes.
func validatePoolShape(m *NodePoolResourceModel, diags *diag.Diagnostics) {
	validatePoolProvider(m, diags)
	validatePoolCloud(m, diags)
	if m.SSH != nil {
		if m.SSH.PrivateKey.IsNull() {
			diags.AddAttributeError(poolPath("ssh.private_key"), "Missing private_key",
				"An ssh pool logs in to its hosts with a private key: set private_key (e.g. private_key = file(\"~/.ssh/id_ed25519\")).")
		}
		if m.SSH.HostKeys.IsNull() && !m.SSH.InsecureIgnoreHostKey.IsUnknown() && !m.SSH.InsecureIgnoreHostKey.ValueBool() {
			diags.AddAttributeError(poolPath("ssh.host_keys"), "Missing host_keys",
				"Pin the hosts' public keys in host_keys (`ssh-keyscan -t ed25519 HOST` prints them), or set insecure_ignore_host_key = true to accept any key.")
		}
	}
	validatePoolSizes(m, diags)
}

func validatePoolSizes(m *NodePoolResourceModel, diags *diag.Diagnostics) {
	if m.Size.IsUnknown() || m.MinSize.IsUnknown() || m.MaxSize.IsUnknown() {
		return
	}
	size, minSize, maxSize := m.Size, m.MinSize, m.MaxSize
	switch {
	case size.IsNull() && minSize.IsNull() && maxSize.IsNull():
		diags.AddAttributeError(path.Root("size"), "Missing size", "Set size (a fixed number of machines), or min_size and max_size.")
	case size.IsNull() && (minSize.IsNull() || maxSize.IsNull()):
		missing := "max_size"
		if minSize.IsNull() {
			missing = "min_size"
		}
		diags.AddAttributeError(path.Root(missing), "Missing "+missing, "Set both min_size and max_size, or size.")
	}
	if !minSize.IsNull() && !maxSize.IsNull() && minSize.ValueInt64() > maxSize.ValueInt64() {
		diags.AddAttributeError(path.Root("max_size"), "Invalid max_size",
			fmt.Sprintf("max_size (%d) must be greater than or equal to min_size (%d).", maxSize.ValueInt64(), minSize.ValueInt64()))
		return
	}
	if size.IsNull() {
		return
	}
	n := size.ValueInt64()
	if !minSize.IsNull() && n < minSize.ValueInt64() || !maxSize.IsNull() && n > maxSize.ValueInt64() {
		diags.AddAttributeError(path.Root("size"), "Invalid size",
			fmt.Sprintf("size (%d) must be between min_size and max_size, inclusive.", n))
	}
}

// validatePoolAPI runs the API's own validation of the pool the
// configuration makes (when it is wholly known), reporting each problem at
// its attribute; paths already reported are skipped.
func validatePoolAPI(ctx context.Context, m *NodePoolResourceModel, diags *diag.Diagnostics) {
	var d diag.Diagnostics
	p := &api.NodePool{}
	expandNodePool(ctx, m, p, &d)
	if d.HasError() {
		diags.Append(d...)
		return
	}
	api.Default(p)
	reported := map[string]bool{}
	for _, e := range *diags {
		if wp, ok := e.(diag.DiagnosticWithPath); ok {
			reported[wp.Path().String()] = true
		}
	}
	for _, fe := range api.Validate(p) {
		at, ok := poolAttrPath(fe.Field)
		if !ok || reported[at.String()] {
			continue
		}
		reported[at.String()] = true
		diags.AddAttributeError(at, "Invalid node pool", fmt.Sprintf("%s: %s", fe.Field, fe.Detail))
	}
}
