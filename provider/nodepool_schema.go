package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// maxPoolSize bounds the sizes a plan accepts.
const maxPoolSize = 1000

func (r *NodePoolResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	size := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{
			MarkdownDescription: desc, Optional: true, Computed: true,
			Validators:    []validator.Int64{int64RangeValidator{0, maxPoolSize}},
			PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
		}
	}
	duration := func(desc, def string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc + " A duration such as `90s` or `5m`; default `" + def + "`.",
			Optional: true, Computed: true, Default: stringdefault.StaticString(def), Validators: []validator.String{durationValidator{}}}
	}
	countOrPercent := func(desc, def string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc + " A count (`1`) or a percentage of the size (`25%`); default `" + def + "`.",
			Optional: true, Computed: true, Default: stringdefault.StaticString(def)}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A node pool: machines of one template, kept at a size by the cluster's controllers, which create each " +
			"machine, join its node with a single-use token, replace machines one step at a time when the template changes, and " +
			"drain every node before its machine is deleted. The template is what the attributes marked \"Part of the template\" say; " +
			"changing it replaces every machine (size, bounds, hosts, rollout, drain and remediation settings do not). The plan says what will happen to the machines (a warning such as " +
			"`create 2 machines`); the apply waits until the pool's nodes are Ready and fails at once with the reason when a " +
			"machine cannot be made (SSH authentication failed on a host, host unreachable, node never joined, the cloud refused it: quota, permission, " +
			"an invalid instance type or image), with the cloud's own message; a zone out of capacity is waited out (the next zone is tried). " +
			"Import by name: `terraform import maestro_node_pool.a pool-a`.",
		Attributes: map[string]schema.Attribute{
			"id":           computedString("The pool name."),
			"name":         nameAttribute("Name of the pool (a DNS-1123 label); its machines are named after it. Changing it replaces the pool."),
			"machine_type": schema.StringAttribute{MarkdownDescription: "Machine type (the instance type of an aws pool, the machine type of a gcp pool, which may also say it in their block; informational for local and ssh). Part of the template.", Optional: true},
			"zones":        schema.ListAttribute{MarkdownDescription: "Zones the machines are spread over (their nodes' `topology.maestro.dev/zone` label); a cloud pool tries the next zone when one has no capacity. Part of the template.", ElementType: types.StringType, Optional: true},
			"labels":       schema.MapAttribute{MarkdownDescription: "Labels of the pool's nodes. Part of the template.", ElementType: types.StringType, Optional: true},
			"spot": schema.BoolAttribute{MarkdownDescription: "Ask for interruptible capacity where the provider has it. Part of the template.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
			"size":     size("Number of machines. Alone it fixes the pool's size (min_size = max_size = size); with min_size and max_size it must lie between them."),
			"min_size": size("Fewest machines (default: size)."),
			"max_size": size("Most machines (default: size). Must be at least min_size: the plan fails otherwise."),
			"autoscaling": schema.BoolAttribute{MarkdownDescription: "Let the cluster autoscaler move the pool's size between min_size and max_size: " +
				"it adds nodes when pods do not fit (deciding with the scheduler on a template node of the pool, so a pool at 0 can grow) and " +
				"removes nodes whose requested cpu and memory stay under 50% and whose pods fit elsewhere. `size`, if set, is then only the " +
				"initial size: later applies leave the live size alone (no diff). A pool with no node yet assumes 2 cpus and 8 GiB per node " +
				"unless its annotation `clusterautoscaler.maestro.dev/template-capacity` says otherwise.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
			"template_capacity": schema.MapAttribute{MarkdownDescription: "What one node of the pool offers (`cpu`, `memory`, `pods`: " +
				"`{ cpu = \"4\", memory = \"16Gi\" }`), for the cluster autoscaler while the pool has no node to copy it from " +
				"(default 2 cpus, 8 GiB, 110 pods; clouds do not tell maestro their machine types' sizes). Not part of the template.",
				ElementType: types.StringType, Optional: true,
				Validators: []validator.Map{templateCapacityValidator{}}},
			"drain_timeout": duration("How long a node is drained before its machine is deleted anyway.", defaultPoolDrainTimeout),
			"wait_for_ready": schema.BoolAttribute{MarkdownDescription: "Wait, on create and update, until the pool's machines are Running with Ready nodes on the current template (default true).",
				Optional: true, Computed: true, Default: booldefault.StaticBool(true)},
		},
		Blocks: map[string]schema.Block{
			"local": schema.SingleNestedBlock{MarkdownDescription: "Machines on the control plane's host (processes, or emulated hosts where the host allows). Give one of `local {}`, `ssh`, `aws` and `gcp`."},
			"ssh":   poolSSHBlock(),
			"aws":   poolAWSBlock(),
			"gcp":   poolGCPBlock(),
			"taint": schema.ListNestedBlock{
				MarkdownDescription: "A taint of the pool's nodes. Part of the template.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"key":   schema.StringAttribute{MarkdownDescription: "Taint key.", Required: true},
					"value": schema.StringAttribute{MarkdownDescription: "Taint value.", Optional: true},
					"effect": schema.StringAttribute{MarkdownDescription: "`NoSchedule`, `PreferNoSchedule` or `NoExecute`.", Required: true,
						Validators: []validator.String{oneOfValidator{string(api.TaintNoSchedule), string(api.TaintPreferNoSchedule), string(api.TaintNoExecute)}}},
				}},
			},
			"rollout": schema.SingleNestedBlock{
				MarkdownDescription: "How machines are replaced when the template changes.",
				Attributes: map[string]schema.Attribute{
					"max_surge":       countOrPercent("Machines above the size during a rollout.", defaultPoolMaxSurge),
					"max_unavailable": countOrPercent("Machines below the size during a rollout.", defaultPoolMaxUnavailable),
				},
			},
			"remediation": schema.SingleNestedBlock{
				MarkdownDescription: "When a machine is replaced for its node's health.",
				Attributes: map[string]schema.Attribute{
					"startup_timeout":   duration("A machine whose node has not joined and become Ready by then is replaced.", defaultPoolStartupTimeout),
					"not_ready_timeout": duration("A machine whose node stays NotReady that long is replaced.", defaultPoolNotReadyTimeout),
					"max_in_flight":     countOrPercent("Machines of the pool replaced at once.", defaultPoolMaxInFlight),
				},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func poolSSHBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Existing hosts, reached over SSH: the agent is installed on each and joins the cluster.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.ListAttribute{MarkdownDescription: "Addresses of the hosts; one machine per host at most. Adding a host replaces no machine.", ElementType: types.StringType, Optional: true},
			"user": schema.StringAttribute{MarkdownDescription: "SSH user (default `root`). Part of the template.",
				Optional: true, Computed: true, Default: stringdefault.StaticString(defaultPoolSSHUser)},
			"port": schema.Int64Attribute{MarkdownDescription: "SSH port (default 22). Part of the template.",
				Optional: true, Computed: true, Default: int64default.StaticInt64(defaultPoolSSHPort), Validators: []validator.Int64{int64RangeValidator{1, 65535}}},
			"private_key": schema.StringAttribute{
				MarkdownDescription: "PEM private key the hosts accept. Write-only (Terraform 1.11 or later): never stored in plan or state. " +
					"It goes into the secret `maestro-system/nodepool-<name>-ssh` (key `privateKey`), which the pool names; it is sent on create and whenever `private_key_version` changes, and the secret is deleted with the pool (after its machines, whose removal needs it).",
				Optional: true, Sensitive: true, WriteOnly: true,
			},
			"private_key_version": schema.Int64Attribute{MarkdownDescription: "Change this number to send the current `private_key` again (key rotation).", Optional: true},
			"host_keys": schema.ListAttribute{
				MarkdownDescription: "The hosts' public keys, pinned: `ssh-ed25519 AAAA...`, optionally prefixed by the host as in known_hosts. A host whose key is not listed is refused. Required unless `insecure_ignore_host_key`. Part of the template.",
				ElementType:         types.StringType, Optional: true,
			},
			"insecure_ignore_host_key": schema.BoolAttribute{MarkdownDescription: "Accept any host key: only for hosts on a network you trust. Part of the template.",
				Optional: true, Computed: true, Default: booldefault.StaticBool(false)},
			"install_dir": schema.StringAttribute{MarkdownDescription: "Where the agent is installed on each host (default `" + api.DefaultSSHInstallDir + "`). Part of the template.",
				Optional: true, Computed: true, Default: stringdefault.StaticString(api.DefaultSSHInstallDir), Validators: []validator.String{absPathValidator{}}},
		},
	}
}
