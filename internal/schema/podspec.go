package schema

import "github.com/maestro-dev/maestro/engine/api"

// The pod spec, shared by maestro_pod's spec block and
// maestro_deployment's template. Attributes the server defaults carry the
// same default here, so the server filling them in is never a diff and
// import reads back exactly what an apply wrote.

// podSpecAttributes are the pod-level attributes.
func podSpecAttributes() map[string]Attribute {
	return map[string]Attribute{
		"restart_policy": {
			Type:        String,
			Description: "`Always` (default), `OnFailure` or `Never`. Deployments accept only `Always`.",
			Default:     string(api.RestartAlways),
			OneOf:       []string{string(api.RestartAlways), string(api.RestartOnFailure), string(api.RestartNever)},
		},
		"termination_grace_period_seconds": {
			Type:        Int64,
			Description: "Seconds between SIGTERM and SIGKILL when the pod stops (default 30).",
			Default:     int64(api.DefaultTerminationGracePeriodSeconds),
			Range:       Between(0, 24*3600),
		},
		"node_selector": {Type: StringMap, Optional: true, Description: "Node labels the pod's node must have."},
	}
}

// podSpecBlocks are the pod-level blocks.
func podSpecBlocks() map[string]Nested {
	return map[string]Nested{
		"container":          containerBlock(),
		"volume":             volumeBlock(),
		"affinity":           affinityBlock(),
		"security_context":   podSecurityContextBlock(),
		"image_pull_secrets": imagePullSecretsBlock(),
		"toleration": List(Block{
			Description: "A taint the pod tolerates.",
			Attributes: map[string]Attribute{
				"key": {Type: String, Optional: true, Description: "Taint key (empty with `Exists`: every taint)."},
				"operator": {
					Type:        String,
					Description: "`Equal` (default) or `Exists`.",
					Default:     api.TolerationOpEqual,
					OneOf:       []string{api.TolerationOpEqual, api.TolerationOpExists},
				},
				"value": {Type: String, Optional: true, Description: "Taint value, for `Equal`."},
				"effect": {
					Type:        String,
					Description: "`NoSchedule`, `PreferNoSchedule` or `NoExecute` (empty: every effect).",
					Optional:    true,
					OneOf:       []string{string(api.TaintNoSchedule), string(api.TaintPreferNoSchedule), string(api.TaintNoExecute)},
				},
				"toleration_seconds": {
					Type:        Int64,
					Description: "How long a `NoExecute` taint is tolerated before eviction (default: forever).",
					Optional:    true,
					Range:       Between(0, 1<<31),
				},
			},
		}),
		"topology_spread_constraint": List(Block{
			Description: "Spread the matching pods evenly over the values of a node label (zones, hosts).",
			Attributes: map[string]Attribute{
				"max_skew": {
					Type:        Int64,
					Description: "Largest allowed difference in matching pods between two domains.",
					Required:    true,
					Range:       Between(1, 1<<20),
				},
				"topology_key": {Type: String, Required: true, Description: "Node label whose values are the domains, e.g. `" + api.LabelZone + "`."},
				"when_unsatisfiable": {
					Type:        String,
					Description: "`DoNotSchedule` (default: a hard rule) or `ScheduleAnyway` (a preference).",
					Default:     api.DoNotSchedule,
					OneOf:       []string{api.DoNotSchedule, api.ScheduleAnyway},
				},
			},
			Blocks: map[string]Nested{"label_selector": labelSelectorBlock("Which pods are counted.")},
		}),
	}
}

func containerBlock() Nested {
	quantity := func(what string) Attribute {
		return Attribute{
			Type:        String,
			Description: what + " Compared by value: `1000m` and `1`, or `1Gi` and `1024Mi`, are the same.",
			Optional:    true,
			Format:      Quantity,
		}
	}
	resourceList := func(what string) Nested {
		return Single(Block{
			Description: what,
			Attributes: map[string]Attribute{
				"cpu":    quantity("CPU, in cores (`0.5`) or millicores (`500m`)."),
				"memory": quantity("Memory, in bytes with a suffix (`512Mi`, `1G`)."),
			},
		})
	}
	keyRef := func(what string) Nested {
		return Single(Block{
			Description: "A key of a " + what + " in the pod's namespace.",
			Attributes: map[string]Attribute{
				"name": {Type: String, Description: "Name of the " + what + ".", Optional: true, Format: DNSLabel},
				"key":  {Type: String, Description: "Key within it.", Optional: true},
			},
		})
	}
	return List(Block{
		Description: "A container of the pod (at least one).",
		Attributes: map[string]Attribute{
			"name":    {Type: String, Description: "Container name (a DNS-1123 label).", Required: true, Format: DNSLabel},
			"image":   {Type: String, Description: "Image reference.", Required: true},
			"args":    {Type: StringList, Description: "Arguments to the entrypoint.", Optional: true},
			"command": {Type: StringList, Description: "Entrypoint, replacing the image's.", Optional: true},
		},
		Blocks: map[string]Nested{
			"env": List(Block{
				Description: "An environment variable: a literal `value`, or `value_from` a config map, a secret or a field of the pod.",
				Attributes: map[string]Attribute{
					"name":  {Type: String, Required: true, Description: "Variable name."},
					"value": {Type: String, Optional: true, Description: "Value (default empty)."},
				},
				Blocks: map[string]Nested{
					"value_from": Single(Block{
						Description: "Where the value comes from (exactly one source).",
						Blocks: map[string]Nested{
							"config_map_key_ref": keyRef("config map"),
							"secret_key_ref":     keyRef("secret"),
							"field_ref": Single(Block{
								Description: "A field of the pod.",
								Attributes: map[string]Attribute{
									"field_path": {
										Type:        String,
										Description: "`metadata.name`, `metadata.namespace`, `metadata.uid`, `spec.nodeName`, `status.podIP` or `status.hostIP`.",
										Optional:    true,
										OneOf:       []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "status.podIP", "status.hostIP"},
									},
								},
							}),
						},
					}),
				},
			}),
			"port": List(Block{
				Description: "A port the container listens on.",
				Attributes: map[string]Attribute{
					"name":           {Type: String, Optional: true, Description: "Port name, referenced by services and probes."},
					"container_port": {Type: Int64, Required: true, Description: "Port number (1-65535).", Range: Between(1, 65535)},
					"protocol": {
						Type:        String,
						Optional:    true,
						Description: "`TCP` (default) or `UDP`.",
						OneOf:       []string{string(api.ProtocolTCP), string(api.ProtocolUDP)},
					},
				},
			}),
			"resources": Single(Block{
				Description: "Compute resources of the container.",
				Blocks: map[string]Nested{
					"requests": resourceList("What the scheduler reserves for the container."),
					"limits":   resourceList("The most the container may use."),
				},
			}),
			"volume_mount": List(Block{
				Description: "A volume of the pod mounted into the container.",
				Attributes: map[string]Attribute{
					"name":       {Type: String, Required: true, Description: "Name of a `volume` of the pod."},
					"mount_path": {Type: String, Required: true, Description: "Absolute path in the container.", Format: AbsPath},
					"sub_path":   {Type: String, Optional: true, Description: "Path within the volume to mount instead of its root."},
					"read_only":  {Type: Bool, Default: false, Description: "Mount read-only (default false)."},
				},
			}),
			"env_from":         envFromBlock(),
			"security_context": containerSecurityContextBlock(),
			"liveness_probe":   probeBlock("Restarts the container when it fails."),
			"readiness_probe":  probeBlock("Takes the pod out of its services' endpoints while it fails."),
			"startup_probe":    probeBlock("Holds the other probes back until it first succeeds."),
		},
	})
}

func probeBlock(what string) Nested {
	seconds := func(desc string, def, minimum int64) Attribute {
		return Attribute{Type: Int64, Description: desc, Default: def, Range: Between(minimum, 1<<20)}
	}
	port := Attribute{Type: String, Description: "Port number or the name of a container port.", Optional: true, Format: PortOrName}
	return Single(Block{
		Description: what + " Exactly one of `http_get`, `tcp_socket` or `exec`.",
		Attributes: map[string]Attribute{
			"initial_delay_seconds": seconds("Seconds after the container starts before the first check (default 0).", 0, 0),
			"period_seconds":        seconds("Seconds between checks (default 10).", 10, 1),
			"timeout_seconds":       seconds("Seconds a check may take (default 1).", 1, 1),
			"success_threshold":     seconds("Consecutive successes that count as passing (default 1; must be 1 for liveness and startup probes).", 1, 1),
			"failure_threshold":     seconds("Consecutive failures that count as failing (default 3).", 3, 1),
		},
		Blocks: map[string]Nested{
			"http_get": Single(Block{
				Description: "An HTTP GET; a status of 200-399 passes.",
				Attributes: map[string]Attribute{
					"path": {Type: String, Description: "Request path (default `/`).", Default: "/", Format: AbsPath},
					"port": port,
					"scheme": {
						Type:        String,
						Description: "`HTTP` (default) or `HTTPS`.",
						Default:     "HTTP",
						OneOf:       []string{"HTTP", "HTTPS"},
					},
				},
			}),
			"tcp_socket": Single(Block{
				Description: "A TCP connection; connecting passes.",
				Attributes:  map[string]Attribute{"port": port},
			}),
			"exec": Single(Block{
				Description: "A command run in the container; exit status 0 passes.",
				Attributes: map[string]Attribute{
					"command": {Type: StringList, Description: "The command and its arguments.", Optional: true},
				},
			}),
		},
	})
}

func volumeBlock() Nested {
	name := func(what string) map[string]Attribute {
		return map[string]Attribute{"name": {Type: String, Description: what, Optional: true}}
	}
	return List(Block{
		Description: "A volume the pod's containers can mount (exactly one source).",
		Attributes: map[string]Attribute{
			"name": {Type: String, Description: "Volume name, used by `volume_mount`.", Required: true, Format: DNSLabel},
		},
		Blocks: map[string]Nested{
			"empty_dir": Single(Block{
				Description: "Scratch space that lives as long as the pod.",
				Attributes: map[string]Attribute{
					"medium": {
						Type:        String,
						Description: "Empty (disk, default) or `Memory` (tmpfs).",
						Optional:    true,
						OneOf:       []string{"Memory"},
					},
					"size_limit": {Type: String, Description: "Largest size, as a quantity (`64Mi`).", Optional: true, Format: Quantity},
				},
			}),
			"host_path": Single(Block{
				Description: "A path of the node.",
				Attributes: map[string]Attribute{
					"path": {Type: String, Description: "Absolute path on the node.", Optional: true, Format: AbsPath},
					"type": {
						Type:        String,
						Description: "Check before mounting: `Directory`, `DirectoryOrCreate`, `File` or `FileOrCreate` (default none).",
						Optional:    true,
						OneOf:       []string{"Directory", "DirectoryOrCreate", "File", "FileOrCreate"},
					},
				},
			}),
			"config_map": Single(Block{Description: "A config map's keys as files.", Attributes: name("Name of the config map.")}),
			"secret": Single(Block{
				Description: "A secret's keys as files.",
				Attributes:  map[string]Attribute{"secret_name": {Type: String, Description: "Name of the secret.", Optional: true}},
			}),
			"persistent": Single(Block{
				Description: "A named volume kept by the node across pod replacements: a new pod on the same node mounting the same name sees the same data.",
				Attributes:  name("Name of the node-local volume (a DNS-1123 label)."),
			}),
		},
	})
}

func labelSelectorBlock(what string) Nested {
	return Single(Block{
		Description: what,
		Attributes: map[string]Attribute{
			"match_labels": {Type: StringMap, Description: "Labels the pods must have.", Optional: true},
		},
		Blocks: map[string]Nested{"match_expression": matchExpressionBlock(api.SelectorOpIn, api.SelectorOpNotIn, api.SelectorOpExists, api.SelectorOpDoesNotExist)},
	})
}

func matchExpressionBlock(operators ...string) Nested {
	return List(Block{
		Description: "A requirement on one label; all must hold.",
		Attributes: map[string]Attribute{
			"key":      {Type: String, Description: "Label key.", Required: true},
			"operator": {Type: String, Description: "One of " + QuoteList(operators) + ".", Required: true, OneOf: operators},
			"values":   {Type: StringList, Description: "Values, for the operators that take them.", Optional: true},
		},
	})
}

func affinityBlock() Nested {
	nodeExpr := func() Nested {
		return matchExpressionBlock(api.SelectorOpIn, api.SelectorOpNotIn, api.SelectorOpExists, api.SelectorOpDoesNotExist, api.NodeSelectorOpGt, api.NodeSelectorOpLt)
	}
	weight := Attribute{Type: Int64, Description: "Weight of the preference (1-100).", Required: true, Range: Between(1, 100)}
	podTerm := func(desc string, weighted bool) Nested {
		attrs := map[string]Attribute{
			"topology_key": {Type: String, Required: true, Description: "Node label whose domains the rule is about (`" + api.LabelHostname + "`, `" + api.LabelZone + "`)."},
			"namespaces":   {Type: StringList, Optional: true, Description: "Namespaces of the pods considered (default the pod's own)."},
		}
		if weighted {
			attrs["weight"] = weight
		}
		return List(Block{
			Description: desc,
			Attributes:  attrs,
			Blocks:      map[string]Nested{"label_selector": labelSelectorBlock("Which pods the rule is about.")},
		})
	}
	podAffinity := func(desc string) Nested {
		return Single(Block{
			Description: desc,
			Blocks: map[string]Nested{
				"required":  podTerm("A rule that must hold for the pod to be placed.", false),
				"preferred": podTerm("A weighted preference.", true),
			},
		})
	}
	return Single(Block{
		Description: "Where the pod may or prefers to run, relative to node labels and other pods.",
		Blocks: map[string]Nested{
			"node_affinity": Single(Block{
				Description: "Rules on the labels of the node.",
				Blocks: map[string]Nested{
					"required_term": List(Block{
						Description: "A node selector term; the node must match at least one term.",
						Blocks:      map[string]Nested{"match_expression": nodeExpr()},
					}),
					"preferred": List(Block{
						Description: "A weighted preference for nodes matching its expressions.",
						Attributes:  map[string]Attribute{"weight": weight},
						Blocks:      map[string]Nested{"match_expression": nodeExpr()},
					}),
				},
			}),
			"pod_affinity":      podAffinity("Run in the same domain as the selected pods."),
			"pod_anti_affinity": podAffinity("Run away from the domains of the selected pods."),
		},
	})
}

const idRange = 1<<31 - 1

func userIDAttribute(what string) Attribute {
	return Attribute{Type: Int64, Description: what, Optional: true, Range: Between(0, idRange)}
}

// podSecurityContextBlock is the pod-level security_context block.
func podSecurityContextBlock() Nested {
	return Single(Block{
		Description: "The identity every container of the pod runs as, unless its own `security_context` says otherwise.",
		Attributes: map[string]Attribute{
			"run_as_user":     userIDAttribute("User id the containers' processes run as (default: the image's user)."),
			"run_as_group":    userIDAttribute("Primary group id of the containers' processes (default: the image's)."),
			"run_as_non_root": {Type: Bool, Optional: true, Description: "Refuse to start a container that would run as root (uid 0)."},
		},
	})
}

// containerSecurityContextBlock is a container's security_context block.
func containerSecurityContextBlock() Nested {
	caps := func(what string) Attribute {
		return Attribute{Type: StringList, Optional: true,
			Description: what + " Names as in Linux without the `CAP_` prefix (`NET_ADMIN`), or `ALL`."}
	}
	return Single(Block{
		Description: "The container's identity and privileges; `run_as_*` override the pod's `security_context`.",
		Attributes: map[string]Attribute{
			"run_as_user":                userIDAttribute("User id the container's processes run as."),
			"run_as_group":               userIDAttribute("Primary group id of the container's processes."),
			"run_as_non_root":            {Type: Bool, Optional: true, Description: "Refuse to start the container if it would run as root (uid 0)."},
			"read_only_root_filesystem":  {Type: Bool, Optional: true, Description: "Mount the image's file system read-only (volumes stay writable unless mounted read-only)."},
			"privileged":                 {Type: Bool, Optional: true, Description: "Run with every capability and the node's devices."},
			"allow_privilege_escalation": {Type: Bool, Optional: true, Description: "`false` sets no_new_privs: setuid programs and file capabilities grant nothing."},
		},
		Blocks: map[string]Nested{
			"capabilities": Single(Block{
				Description: "Linux capabilities added to or dropped from the runtime's default set.",
				Attributes: map[string]Attribute{
					"add":  caps("Capabilities to add."),
					"drop": caps("Capabilities to drop."),
				},
			}),
		},
	})
}

// envFromBlock is a container's env_from block.
func envFromBlock() Nested {
	ref := func(what string) Nested {
		return Single(Block{
			Description: "A " + what + " in the pod's namespace.",
			Attributes: map[string]Attribute{
				"name":     {Type: String, Description: "Name of the " + what + ".", Optional: true},
				"optional": {Type: Bool, Description: "Start the container even if the " + what + " does not exist.", Optional: true},
			},
		})
	}
	return List(Block{
		Description: "Every key of a config map or secret as an environment variable (exactly one of `config_map_ref` or `secret_ref`). " +
			"Keys that are not valid variable names are skipped; `env` wins over a key of the same name.",
		Attributes: map[string]Attribute{
			"prefix": {Type: String, Description: "Prepended to every key.", Optional: true},
		},
		Blocks: map[string]Nested{
			"config_map_ref": ref("config map"),
			"secret_ref":     ref("secret"),
		},
	})
}

// imagePullSecretsBlock is the pod's image_pull_secrets block, named and
// shaped as in the Kubernetes provider.
func imagePullSecretsBlock() Nested {
	return List(Block{
		Description: "A secret of type `" + api.SecretTypeDockerConfigJSON + "` in the pod's namespace whose registry credentials pull the pod's images " +
			"(a `.dockerconfigjson` key holding a Docker config's `auths`). Repeat the block for several.",
		Attributes: map[string]Attribute{
			"name": {Type: String, Description: "Name of the secret.", Required: true},
		},
	})
}
