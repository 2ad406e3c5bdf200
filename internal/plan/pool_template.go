package plan

import (
	"maps"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// TemplateChanges lists the attributes (the provider's names) whose change
// makes new machines: the pool's machine template, as the node pool
// controller hashes it (api.NodePoolSpec.TemplateHash). Size, bounds, rollout,
// drain and remediation settings, and an ssh pool's host list, keep the
// machines there are. a and b are defaulted specs; nil when the template
// is the same.
func TemplateChanges(a, b *api.NodePoolSpec) []string {
	if a.TemplateHash() == b.TemplateHash() {
		return nil
	}
	var changed []string
	add := func(differ bool, name string) {
		if differ {
			changed = append(changed, name)
		}
	}
	add(a.Provider != b.Provider, "provider")
	add(a.MachineType != b.MachineType, "machine_type")
	add(!slices.Equal(a.Zones, b.Zones), "zones")
	add(!maps.Equal(a.Labels, b.Labels), "labels")
	add(!slices.EqualFunc(a.Taints, b.Taints, func(x, y api.Taint) bool {
		return x.Key == y.Key && x.Value == y.Value && x.Effect == y.Effect
	}), "taint")
	add(a.Spot != b.Spot, "spot")
	if a.SSH != nil && b.SSH != nil {
		add(a.SSH.User != b.SSH.User, "ssh.user")
		add(a.SSH.Port != b.SSH.Port, "ssh.port")
		add(!slices.Equal(a.SSH.HostKeys, b.SSH.HostKeys), "ssh.host_keys")
		add(a.SSH.InsecureIgnoreHostKey != b.SSH.InsecureIgnoreHostKey, "ssh.insecure_ignore_host_key")
		add(a.SSH.InstallDir != b.SSH.InstallDir, "ssh.install_dir")
	}
	cloudTemplateChanges(a, b, add)
	if len(changed) == 0 {
		changed = append(changed, "machine template")
	}
	return changed
}

// cloudTemplateChanges adds the cloud blocks' template attributes.
func cloudTemplateChanges(a, b *api.NodePoolSpec, add func(bool, string)) {
	if x, y := a.AWS, b.AWS; x != nil && y != nil {
		add(x.Region != y.Region, "aws.region")
		add(x.AMI != y.AMI, "aws.ami")
		add(!slices.Equal(x.SubnetIDs, y.SubnetIDs), "aws.subnet_ids")
		add(!slices.Equal(x.SecurityGroupIDs, y.SecurityGroupIDs), "aws.security_group_ids")
		add(x.InstanceProfile != y.InstanceProfile, "aws.instance_profile")
		add(x.KeyName != y.KeyName, "aws.key_name")
		add(!maps.Equal(x.Tags, y.Tags), "aws.tags")
		add(x.Endpoint != y.Endpoint, "aws.endpoint")
		add(x.CredentialsSecretRef != y.CredentialsSecretRef, "aws credentials")
	}
	if x, y := a.GCP, b.GCP; x != nil && y != nil {
		add(x.Project != y.Project, "gcp.project")
		add(x.Image != y.Image, "gcp.image")
		add(x.Network != y.Network, "gcp.network")
		add(x.Subnetwork != y.Subnetwork, "gcp.subnetwork")
		add(x.ServiceAccount != y.ServiceAccount, "gcp.service_account")
		add(!maps.Equal(x.Labels, y.Labels), "gcp.labels")
		add(x.Endpoint != y.Endpoint, "gcp.endpoint")
		add(x.CredentialsSecretRef != y.CredentialsSecretRef, "gcp credentials")
	}
}

// treeTemplateChanges lists the template attributes that differ between
// two attribute trees (a Terraform plan read without API objects).
func treeTemplateChanges(before, after map[string]any) []string {
	var changed []string
	for _, p := range Changed(before, after) {
		ap := AttrPath(p)
		for _, t := range poolTemplateAttrs {
			if Under(ap, t) && !Under(ap, "ssh.hosts") && !slices.Contains(changed, ap) {
				changed = append(changed, ap)
			}
		}
	}
	return changed
}
