package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// The schema of a pod spec, shared by maestro_pod's spec block and
// maestro_deployment's template. Attributes the server defaults carry the
// same default here, so the server filling them in is never a diff and
// import reads back exactly what an apply wrote.

// podSpecAttributes are the pod-level attributes.
func podSpecAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"restart_policy": schema.StringAttribute{
			MarkdownDescription: "`Always` (default), `OnFailure` or `Never`. Deployments accept only `Always`.",
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(string(api.RestartAlways)),
			Validators:          []validator.String{oneOfValidator{string(api.RestartAlways), string(api.RestartOnFailure), string(api.RestartNever)}},
		},
		"termination_grace_period_seconds": schema.Int64Attribute{
			MarkdownDescription: "Seconds between SIGTERM and SIGKILL when the pod stops (default 30).",
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(api.DefaultTerminationGracePeriodSeconds),
			Validators:          []validator.Int64{int64RangeValidator{min: 0, max: 24 * 3600}},
		},
		"node_selector": schema.MapAttribute{
			MarkdownDescription: "Node labels the pod's node must have.",
			ElementType:         types.StringType,
			Optional:            true,
		},
	}
}

// podSpecBlocks are the pod-level blocks.
func podSpecBlocks() map[string]schema.Block {
	return map[string]schema.Block{
		"container":          containerBlock(),
		"volume":             volumeBlock(),
		"affinity":           affinityBlock(),
		"security_context":   podSecurityContextBlock(),
		"image_pull_secrets": imagePullSecretsBlock(),
		"toleration": schema.ListNestedBlock{
			MarkdownDescription: "A taint the pod tolerates.",
			NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"key": schema.StringAttribute{Optional: true, MarkdownDescription: "Taint key (empty with `Exists`: every taint)."},
				"operator": schema.StringAttribute{
					MarkdownDescription: "`Equal` (default) or `Exists`.",
					Optional:            true,
					Computed:            true,
					Default:             stringdefault.StaticString(api.TolerationOpEqual),
					Validators:          []validator.String{oneOfValidator{api.TolerationOpEqual, api.TolerationOpExists}},
				},
				"value": schema.StringAttribute{Optional: true, MarkdownDescription: "Taint value, for `Equal`."},
				"effect": schema.StringAttribute{
					MarkdownDescription: "`NoSchedule`, `PreferNoSchedule` or `NoExecute` (empty: every effect).",
					Optional:            true,
					Validators:          []validator.String{oneOfValidator{string(api.TaintNoSchedule), string(api.TaintPreferNoSchedule), string(api.TaintNoExecute)}},
				},
				"toleration_seconds": schema.Int64Attribute{
					MarkdownDescription: "How long a `NoExecute` taint is tolerated before eviction (default: forever).",
					Optional:            true,
					Validators:          []validator.Int64{int64RangeValidator{min: 0, max: 1 << 31}},
				},
			}},
		},
		"topology_spread_constraint": schema.ListNestedBlock{
			MarkdownDescription: "Spread the matching pods evenly over the values of a node label (zones, hosts).",
			NestedObject: schema.NestedBlockObject{
				Attributes: map[string]schema.Attribute{
					"max_skew": schema.Int64Attribute{
						MarkdownDescription: "Largest allowed difference in matching pods between two domains.",
						Required:            true,
						Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1 << 20}},
					},
					"topology_key": schema.StringAttribute{MarkdownDescription: "Node label whose values are the domains, e.g. `" + api.LabelZone + "`.", Required: true},
					"when_unsatisfiable": schema.StringAttribute{
						MarkdownDescription: "`DoNotSchedule` (default: a hard rule) or `ScheduleAnyway` (a preference).",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(api.DoNotSchedule),
						Validators:          []validator.String{oneOfValidator{api.DoNotSchedule, api.ScheduleAnyway}},
					},
				},
				Blocks: map[string]schema.Block{"label_selector": labelSelectorBlock("Which pods are counted.")},
			},
		},
	}
}

func containerBlock() schema.ListNestedBlock {
	quantity := func(what string) schema.StringAttribute {
		return schema.StringAttribute{
			MarkdownDescription: what + " Compared by value: `1000m` and `1`, or `1Gi` and `1024Mi`, are the same.",
			Optional:            true,
			Validators:          []validator.String{quantityValidator{}},
			PlanModifiers:       []planmodifier.String{quantitySemanticEquality{}},
		}
	}
	resourceList := func(what string) schema.SingleNestedBlock {
		return schema.SingleNestedBlock{
			MarkdownDescription: what,
			Attributes: map[string]schema.Attribute{
				"cpu":    quantity("CPU, in cores (`0.5`) or millicores (`500m`)."),
				"memory": quantity("Memory, in bytes with a suffix (`512Mi`, `1G`)."),
			},
		}
	}
	keyRef := func(what string) schema.SingleNestedBlock {
		return schema.SingleNestedBlock{
			MarkdownDescription: "A key of a " + what + " in the pod's namespace.",
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{MarkdownDescription: "Name of the " + what + ".", Optional: true, Validators: []validator.String{dnsLabelValidator{}}},
				"key":  schema.StringAttribute{MarkdownDescription: "Key within it.", Optional: true},
			},
		}
	}
	return schema.ListNestedBlock{
		MarkdownDescription: "A container of the pod (at least one).",
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{
					MarkdownDescription: "Container name (a DNS-1123 label).",
					Required:            true,
					Validators:          []validator.String{dnsLabelValidator{}},
				},
				"image": schema.StringAttribute{MarkdownDescription: "Image reference.", Required: true},
				"args": schema.ListAttribute{
					MarkdownDescription: "Arguments to the entrypoint.",
					ElementType:         types.StringType,
					Optional:            true,
				},
				"command": schema.ListAttribute{
					MarkdownDescription: "Entrypoint, replacing the image's.",
					ElementType:         types.StringType,
					Optional:            true,
				},
			},
			Blocks: map[string]schema.Block{
				"env": schema.ListNestedBlock{
					MarkdownDescription: "An environment variable: a literal `value`, or `value_from` a config map, a secret or a field of the pod.",
					NestedObject: schema.NestedBlockObject{
						Attributes: map[string]schema.Attribute{
							"name":  schema.StringAttribute{Required: true, MarkdownDescription: "Variable name."},
							"value": schema.StringAttribute{Optional: true, MarkdownDescription: "Value (default empty)."},
						},
						Blocks: map[string]schema.Block{
							"value_from": schema.SingleNestedBlock{
								MarkdownDescription: "Where the value comes from (exactly one source).",
								Blocks: map[string]schema.Block{
									"config_map_key_ref": keyRef("config map"),
									"secret_key_ref":     keyRef("secret"),
									"field_ref": schema.SingleNestedBlock{
										MarkdownDescription: "A field of the pod.",
										Attributes: map[string]schema.Attribute{
											"field_path": schema.StringAttribute{
												MarkdownDescription: "`metadata.name`, `metadata.namespace`, `metadata.uid`, `spec.nodeName`, `status.podIP` or `status.hostIP`.",
												Optional:            true,
												Validators:          []validator.String{oneOfValidator{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "status.podIP", "status.hostIP"}},
											},
										},
									},
								},
							},
						},
					},
				},
				"port": schema.ListNestedBlock{
					MarkdownDescription: "A port the container listens on.",
					NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Port name, referenced by services and probes."},
						"container_port": schema.Int64Attribute{
							Required:            true,
							MarkdownDescription: "Port number (1-65535).",
							Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 65535}},
						},
						"protocol": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "`TCP` (default) or `UDP`.",
							Validators:          []validator.String{oneOfValidator{string(api.ProtocolTCP), string(api.ProtocolUDP)}},
						},
					}},
				},
				"resources": schema.SingleNestedBlock{
					MarkdownDescription: "Compute resources of the container.",
					Blocks: map[string]schema.Block{
						"requests": resourceList("What the scheduler reserves for the container."),
						"limits":   resourceList("The most the container may use."),
					},
				},
				"volume_mount": schema.ListNestedBlock{
					MarkdownDescription: "A volume of the pod mounted into the container.",
					NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
						"name":       schema.StringAttribute{Required: true, MarkdownDescription: "Name of a `volume` of the pod."},
						"mount_path": schema.StringAttribute{Required: true, MarkdownDescription: "Absolute path in the container.", Validators: []validator.String{absPathValidator{}}},
						"sub_path":   schema.StringAttribute{Optional: true, MarkdownDescription: "Path within the volume to mount instead of its root."},
						"read_only":  schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false), MarkdownDescription: "Mount read-only (default false)."},
					}},
				},
				"env_from":         envFromBlock(),
				"security_context": containerSecurityContextBlock(),
				"liveness_probe":   probeBlock("Restarts the container when it fails."),
				"readiness_probe":  probeBlock("Takes the pod out of its services' endpoints while it fails."),
				"startup_probe":    probeBlock("Holds the other probes back until it first succeeds."),
			},
		},
	}
}

func probeBlock(what string) schema.SingleNestedBlock {
	seconds := func(desc string, def, min int64) schema.Int64Attribute {
		return schema.Int64Attribute{
			MarkdownDescription: desc,
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(def),
			Validators:          []validator.Int64{int64RangeValidator{min: min, max: 1 << 20}},
		}
	}
	port := schema.StringAttribute{
		MarkdownDescription: "Port number or the name of a container port.",
		Optional:            true,
		Validators:          []validator.String{portOrNameValidator{}},
	}
	return schema.SingleNestedBlock{
		MarkdownDescription: what + " Exactly one of `http_get`, `tcp_socket` or `exec`.",
		Attributes: map[string]schema.Attribute{
			"initial_delay_seconds": seconds("Seconds after the container starts before the first check (default 0).", 0, 0),
			"period_seconds":        seconds("Seconds between checks (default 10).", 10, 1),
			"timeout_seconds":       seconds("Seconds a check may take (default 1).", 1, 1),
			"success_threshold":     seconds("Consecutive successes that count as passing (default 1; must be 1 for liveness and startup probes).", 1, 1),
			"failure_threshold":     seconds("Consecutive failures that count as failing (default 3).", 3, 1),
		},
		Blocks: map[string]schema.Block{
			"http_get": schema.SingleNestedBlock{
				MarkdownDescription: "An HTTP GET; a status of 200-399 passes.",
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						MarkdownDescription: "Request path (default `/`).",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString("/"),
						Validators:          []validator.String{absPathValidator{}},
					},
					"port": port,
					"scheme": schema.StringAttribute{
						MarkdownDescription: "`HTTP` (default) or `HTTPS`.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString("HTTP"),
						Validators:          []validator.String{oneOfValidator{"HTTP", "HTTPS"}},
					},
				},
			},
			"tcp_socket": schema.SingleNestedBlock{
				MarkdownDescription: "A TCP connection; connecting passes.",
				Attributes:          map[string]schema.Attribute{"port": port},
			},
			"exec": schema.SingleNestedBlock{
				MarkdownDescription: "A command run in the container; exit status 0 passes.",
				Attributes: map[string]schema.Attribute{
					"command": schema.ListAttribute{MarkdownDescription: "The command and its arguments.", ElementType: types.StringType, Optional: true},
				},
			},
		},
	}
}

func volumeBlock() schema.ListNestedBlock {
	name := func(what string) map[string]schema.Attribute {
		return map[string]schema.Attribute{"name": schema.StringAttribute{MarkdownDescription: what, Optional: true}}
	}
	return schema.ListNestedBlock{
		MarkdownDescription: "A volume the pod's containers can mount (exactly one source).",
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{MarkdownDescription: "Volume name, used by `volume_mount`.", Required: true, Validators: []validator.String{dnsLabelValidator{}}},
			},
			Blocks: map[string]schema.Block{
				"empty_dir": schema.SingleNestedBlock{
					MarkdownDescription: "Scratch space that lives as long as the pod.",
					Attributes: map[string]schema.Attribute{
						"medium": schema.StringAttribute{
							MarkdownDescription: "Empty (disk, default) or `Memory` (tmpfs).",
							Optional:            true,
							Validators:          []validator.String{oneOfValidator{"Memory"}},
						},
						"size_limit": schema.StringAttribute{
							MarkdownDescription: "Largest size, as a quantity (`64Mi`).",
							Optional:            true,
							Validators:          []validator.String{quantityValidator{}},
							PlanModifiers:       []planmodifier.String{quantitySemanticEquality{}},
						},
					},
				},
				"host_path": schema.SingleNestedBlock{
					MarkdownDescription: "A path of the node.",
					Attributes: map[string]schema.Attribute{
						"path": schema.StringAttribute{MarkdownDescription: "Absolute path on the node.", Optional: true, Validators: []validator.String{absPathValidator{}}},
						"type": schema.StringAttribute{
							MarkdownDescription: "Check before mounting: `Directory`, `DirectoryOrCreate`, `File` or `FileOrCreate` (default none).",
							Optional:            true,
							Validators:          []validator.String{oneOfValidator{"Directory", "DirectoryOrCreate", "File", "FileOrCreate"}},
						},
					},
				},
				"config_map": schema.SingleNestedBlock{MarkdownDescription: "A config map's keys as files.", Attributes: name("Name of the config map.")},
				"secret": schema.SingleNestedBlock{
					MarkdownDescription: "A secret's keys as files.",
					Attributes:          map[string]schema.Attribute{"secret_name": schema.StringAttribute{MarkdownDescription: "Name of the secret.", Optional: true}},
				},
				"persistent": schema.SingleNestedBlock{
					MarkdownDescription: "A named volume kept by the node across pod replacements: a new pod on the same node mounting the same name sees the same data.",
					Attributes:          name("Name of the node-local volume (a DNS-1123 label)."),
				},
			},
		},
	}
}

func labelSelectorBlock(what string) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: what,
		Attributes: map[string]schema.Attribute{
			"match_labels": schema.MapAttribute{MarkdownDescription: "Labels the pods must have.", ElementType: types.StringType, Optional: true},
		},
		Blocks: map[string]schema.Block{"match_expression": matchExpressionBlock(api.SelectorOpIn, api.SelectorOpNotIn, api.SelectorOpExists, api.SelectorOpDoesNotExist)},
	}
}

func matchExpressionBlock(operators ...string) schema.ListNestedBlock {
	return schema.ListNestedBlock{
		MarkdownDescription: "A requirement on one label; all must hold.",
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"key":      schema.StringAttribute{MarkdownDescription: "Label key.", Required: true},
			"operator": schema.StringAttribute{MarkdownDescription: "One of " + quoteList(operators) + ".", Required: true, Validators: []validator.String{oneOfValidator(operators)}},
			"values":   schema.ListAttribute{MarkdownDescription: "Values, for the operators that take them.", ElementType: types.StringType, Optional: true},
		}},
	}
}

func affinityBlock() schema.SingleNestedBlock {
	nodeExpr := func() schema.ListNestedBlock {
		return matchExpressionBlock(api.SelectorOpIn, api.SelectorOpNotIn, api.SelectorOpExists, api.SelectorOpDoesNotExist, api.NodeSelectorOpGt, api.NodeSelectorOpLt)
	}
	weight := schema.Int64Attribute{
		MarkdownDescription: "Weight of the preference (1-100).",
		Required:            true,
		Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 100}},
	}
	podTerm := func(desc string, weighted bool) schema.ListNestedBlock {
		attrs := map[string]schema.Attribute{
			"topology_key": schema.StringAttribute{MarkdownDescription: "Node label whose domains the rule is about (`" + api.LabelHostname + "`, `" + api.LabelZone + "`).", Required: true},
			"namespaces":   schema.ListAttribute{MarkdownDescription: "Namespaces of the pods considered (default the pod's own).", ElementType: types.StringType, Optional: true},
		}
		if weighted {
			attrs["weight"] = weight
		}
		return schema.ListNestedBlock{
			MarkdownDescription: desc,
			NestedObject: schema.NestedBlockObject{
				Attributes: attrs,
				Blocks:     map[string]schema.Block{"label_selector": labelSelectorBlock("Which pods the rule is about.")},
			},
		}
	}
	podAffinity := func(desc string) schema.SingleNestedBlock {
		return schema.SingleNestedBlock{
			MarkdownDescription: desc,
			Blocks: map[string]schema.Block{
				"required":  podTerm("A rule that must hold for the pod to be placed.", false),
				"preferred": podTerm("A weighted preference.", true),
			},
		}
	}
	return schema.SingleNestedBlock{
		MarkdownDescription: "Where the pod may or prefers to run, relative to node labels and other pods.",
		Blocks: map[string]schema.Block{
			"node_affinity": schema.SingleNestedBlock{
				MarkdownDescription: "Rules on the labels of the node.",
				Blocks: map[string]schema.Block{
					"required_term": schema.ListNestedBlock{
						MarkdownDescription: "A node selector term; the node must match at least one term.",
						NestedObject:        schema.NestedBlockObject{Blocks: map[string]schema.Block{"match_expression": nodeExpr()}},
					},
					"preferred": schema.ListNestedBlock{
						MarkdownDescription: "A weighted preference for nodes matching its expressions.",
						NestedObject: schema.NestedBlockObject{
							Attributes: map[string]schema.Attribute{"weight": weight},
							Blocks:     map[string]schema.Block{"match_expression": nodeExpr()},
						},
					},
				},
			},
			"pod_affinity":      podAffinity("Run in the same domain as the selected pods."),
			"pod_anti_affinity": podAffinity("Run away from the domains of the selected pods."),
		},
	}
}
