package schema

import (
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
)

// describe lists every manifest kind's description, in the order objects
// are applied: namespaces first, then what workloads read, the workloads,
// and what points at them.
func describe() []Kind {
	return []Kind{namespaceKind(), configMapKind(), secretKind(), volumeKind(), deploymentKind(), podKind(), serviceKind(), autoscalerKind()}
}

func namespaceKind() Kind {
	return Kind{
		Name: "namespace", APIKind: "Namespace",
		// Version 1 moved name, labels, annotations and uid into the
		// metadata block (the provider's UpgradeState carries version 0
		// states over).
		Version: 1,
		Block: Block{
			Description: "A namespace: a scope for names. Deleting it deletes everything in it.",
			Attributes:  map[string]Attribute{"id": ComputedString("The namespace name.")},
			Blocks:      map[string]Nested{"metadata": clusterMetadataBlock("namespace")},
		},
	}
}

func configMapKind() Kind {
	return Kind{
		Name: "config_map", APIKind: "ConfigMap",
		Version: 1, // as namespace's
		Block: Block{
			Description: "A config map: non-secret configuration that pods read as environment variables or files.",
			Attributes: map[string]Attribute{
				"id": idAttribute(),
				"data": {Type: StringMap, Optional: true,
					Description: "The configuration data. Every key is managed: a key added or changed outside Terraform shows as a diff."},
			},
			Blocks: map[string]Nested{"metadata": metadataBlock("config map")},
		},
	}
}

func secretKind() Kind {
	return Kind{
		Name: "secret", APIKind: "Secret",
		Version: 1, // as namespace's
		Block: Block{
			Description: "A secret: confidential data that pods read as environment variables or files. " +
				"Use `data_wo` (Terraform 1.11 or later) to keep the values out of plan and state.",
			Attributes: map[string]Attribute{
				"id": idAttribute(),
				"type": {Type: String, Default: api.SecretTypeOpaque, ForceNew: true,
					Description: "Type of the secret (default `Opaque`). It cannot change: changing it replaces the secret."},
				"data": {Type: StringMap, Optional: true, Sensitive: true,
					Description: "The secret data, stored (sensitive) in state. Without `data_wo_version` every key is managed; with it, only the keys set here are, so the keys written through `data_wo` are not a diff."},
				"data_wo": {Type: StringMap, Optional: true, Sensitive: true, WriteOnly: true,
					Description: "Write-only secret data, never stored in plan or state. It is sent on create and whenever `data_wo_version` changes; requires `data_wo_version`."},
				"data_wo_version": {Type: Int64, Optional: true, Description: "Change this number to send the current `data_wo` values again."},
			},
			Blocks: map[string]Nested{"metadata": metadataBlock("secret")},
		},
	}
}

func volumeKind() Kind {
	return Kind{
		Name: "volume", APIKind: "Volume",
		Block: Block{
			Description: "A volume: named data on one node that outlives the pods using it (they mount it with " +
				"`volume { persistent { name = ... } }`). The first pod that uses it decides its node unless `spec.node_name` pins one; " +
				"from then on its pods run only there, and wait (pending, with the reason) while that node cannot take them. " +
				"Destroying a deployment leaves its volumes; destroying the volume waits until no pod uses it, then deletes it " +
				"and, with `reclaim_policy = \"Delete\"`, its data.",
			Attributes: map[string]Attribute{
				"id": idAttribute(),
				"node": {Type: String, Computed: true,
					Description: "The node the volume's data lives on; empty until a pod first uses it (or `spec.node_name` pins it)."},
				"phase": {Type: String, Computed: true,
					Description: "`Pending` (on no node yet), `Available` (on a node, unused), `Bound` (used by pods) or `Lost` (its node is gone)."},
			},
			Blocks: map[string]Nested{
				"metadata": metadataBlock("volume"),
				"spec": Single(Block{
					Description: "What happens to the volume's data, and where it lives. Leaving the block out means the defaults.",
					Attributes: map[string]Attribute{
						"reclaim_policy": {
							Type: String, Default: api.ReclaimRetain, OneOf: []string{api.ReclaimRetain, api.ReclaimDelete},
							Description: "What deleting the volume does to its data: `Retain` (default) keeps it on the node, where a volume " +
								"of the same name pinned to that node finds it again; `Delete` has the node's agent remove it. Pods coming and going never touch it.",
						},
						"node_name": {
							Type: String, Optional: true, Computed: true, Format: NodeName,
							// Left out, the pin the volume has stays (the API
							// refuses to remove it: the data is on that node).
							KeepState: true, ForceNew: true, Plan: VolumePinReplace,
							Description: "Pins the volume to a node before any pod uses it. Left out, the first pod's node is used and kept. " +
								"A volume's data cannot move: pinning it elsewhere than where it lives replaces the volume.",
						},
					},
				}),
			},
		},
		Timeouts: []string{"delete"},
	}
}

func deploymentKind() Kind {
	template := podSpecAttributes()
	template["labels"] = Attribute{Type: StringMap, Optional: true, Description: "Labels of the pods; they must include the selector's match_labels."}
	return Kind{
		Name: "deployment", APIKind: "Deployment",
		Block: Block{
			Description: "A deployment: a set of identical pods rolled from one template to the next.",
			Attributes: failFastAttributes(map[string]Attribute{
				"id": idAttribute(),
				"wait_for_rollout": waitAttribute("Wait after create and update until every replica runs the new template and is available (default `true`). " +
					"A rollout that cannot finish fails with the reason the pods report."),
			}, "a new pod", "the rollout wait"),
			Blocks: map[string]Nested{
				"metadata": metadataBlock("deployment"),
				"spec": Single(Block{
					Description: "Desired state of the deployment.",
					Attributes: map[string]Attribute{
						"replicas": {
							Type: Int64, Optional: true, Computed: true, Range: Between(0, 1<<20), KeepState: true,
							Description: "Number of pods (default 1). When left out, scaling done outside Terraform is kept. " +
								"While an autoscaler (`maestro_autoscaler`) targets the deployment, it owns the replicas: this value is only the count the deployment is created with, " +
								"Terraform never changes the live count, and the autoscaler's changes do not show as a diff.",
						},
						"min_ready_seconds": {
							Type: Int64, Optional: true, Range: Between(0, 1<<31-1),
							Description: "How long a new pod must be ready, with no container crashing, before it counts as available (default 0: as soon as it is ready). " +
								"A rolling update goes on only as pods become available, so this slows it down to catch pods that fail soon after starting.",
						},
						"progress_deadline_seconds": {
							Type: Int64, Optional: true, Range: Between(1, 1<<31-1),
							Description: fmt.Sprintf("Seconds a rollout may go without progress (no pod updated or becoming available) before the deployment reports `ProgressDeadlineExceeded` (default %d on the server). "+
								"The rollout wait fails when it does. It must be greater than `min_ready_seconds`.", api.DefaultProgressDeadlineSeconds),
						},
					},
					Blocks: map[string]Nested{
						"selector": Single(Block{
							Description: "Which pods belong to the deployment. It cannot change: changing it replaces the deployment.",
							Attributes: map[string]Attribute{
								"match_labels": {Type: StringMap, Required: true, ForceNew: true,
									Description: "Labels the pods must have; the template's labels must include them."},
							},
						}),
						"strategy": Single(Block{
							Description: "How old pods are replaced. When left out, the server's default (rolling update, 25% surge and unavailable) applies.",
							Attributes: map[string]Attribute{
								"type": {Type: String, Optional: true, OneOf: []string{api.RollingUpdateStrategy, api.RecreateStrategy},
									Description: "`RollingUpdate` (default) or `Recreate`."},
							},
							Blocks: map[string]Nested{
								"rolling_update": Single(Block{
									Description: "Bounds of a rolling update.",
									Attributes: map[string]Attribute{
										"max_surge": {Type: String, Optional: true, Format: IntOrPercent,
											Description: "Extra pods allowed during the update: a count (`1`) or a percentage (`25%`)."},
										"max_unavailable": {Type: String, Optional: true, Format: IntOrPercent,
											Description: "Pods that may be missing during the update: a count (`0`) or a percentage (`25%`)."},
									},
								}),
							},
						}),
						"template": Single(Block{Description: "The pod the deployment stamps out.", Attributes: template, Blocks: podSpecBlocks()}),
					},
				}),
			},
		},
		Timeouts: []string{"create", "update", "delete"},
	}
}

func podKind() Kind {
	return Kind{
		Name: "pod", APIKind: "Pod",
		Block: Block{
			Description: "A single pod. Nothing replaces it when it fails or its node goes away; for that, use `maestro_deployment`. " +
				"A running pod can change only its labels, annotations and container images in place: any other change to `spec` replaces it.",
			Attributes: failFastAttributes(map[string]Attribute{
				"id":        idAttribute(),
				"node_name": ComputedString("The node the scheduler placed the pod on."),
				"pod_ip":    ComputedString("The pod's IP address, once it runs."),
				"wait_for_rollout": waitAttribute("Wait after create and update until the pod is ready, or has run to completion (default `true`). " +
					"A pod that cannot get there fails with the reason: the scheduler's, or a crashing container's exit code and log."),
			}, "the pod", "the wait"),
			Blocks: map[string]Nested{
				"metadata": metadataBlock("pod"),
				"spec": Single(Block{
					Description: "The pod's containers, volumes and scheduling rules.",
					Attributes:  podSpecAttributes(),
					Blocks:      podSpecBlocks(),
				}),
			},
		},
		Timeouts: []string{"create", "update", "delete"},
		// A running pod takes only new images in place (the provider's
		// ModifyPlan for maestro_pod).
		ReplaceSpec: []string{"container.image"},
	}
}

func serviceKind() Kind {
	return Kind{
		Name: "service", APIKind: "Service",
		Block: Block{
			Description: "A service: a stable address in front of a set of pods.",
			Attributes: map[string]Attribute{
				"id": idAttribute(),
				"load_balancer_ingress": {Type: StringList, Computed: true, KeepState: true,
					Description: "IP addresses (or host names) traffic enters a `LoadBalancer` service through, as the status reports them."},
			},
			Blocks: map[string]Nested{
				"metadata": metadataBlock("service"),
				"spec": Single(Block{
					Description: "Desired state of the service.",
					Attributes: map[string]Attribute{
						"type": {Type: String, Default: api.ServiceTypeClusterIP,
							OneOf:       []string{api.ServiceTypeClusterIP, api.ServiceTypeNodePort, api.ServiceTypeLoadBalancer},
							Description: "`ClusterIP` (default), `NodePort` or `LoadBalancer`."},
						"selector": {Type: StringMap, Optional: true,
							Description: "Labels of the pods traffic is sent to. Without it the service has no endpoints managed for it."},
						"session_affinity": {Type: String, Default: api.SessionAffinityNone,
							OneOf:       []string{api.SessionAffinityNone, api.SessionAffinityClientIP},
							Description: "`None` (default) or `ClientIP`: send a client's connections to the same pod."},
						"cluster_ip": {Type: String, Optional: true, Computed: true, KeepState: true, ForceNew: true, Plan: ClusterIPReplace,
							Description: "Virtual IP of the service, allocated by the API server when left out; `None` makes a headless service. " +
								"It cannot change once allocated: setting a different value replaces the service."},
					},
					Blocks: map[string]Nested{
						"port": List(Block{
							Description: "A port the service exposes.",
							Attributes: map[string]Attribute{
								"name": {Type: String, Optional: true, Description: "Name of the port; required when there is more than one."},
								"protocol": {Type: String, Default: string(api.ProtocolTCP),
									OneOf:       []string{string(api.ProtocolTCP), string(api.ProtocolUDP)},
									Description: "`TCP` (default) or `UDP`."},
								"port": {Type: Int64, Required: true, Range: Between(1, 65535), Description: "Port of the service."},
								"target_port": {Type: String, Optional: true, Computed: true, Plan: TargetPortDefault,
									Description: "Port on the pods: a number, or the name of a container port. Defaults to `port`."},
								"node_port": {Type: Int64, Optional: true, Computed: true, Range: Between(1, 65535), Plan: NodePortKeep,
									Description: "Port opened on every node for `NodePort` and `LoadBalancer` services; allocated by the API server when left out, and kept across updates."},
							},
						}),
					},
				}),
			},
		},
	}
}

func autoscalerKind() Kind {
	return Kind{
		Name: "autoscaler", APIKind: "Autoscaler",
		// Version 1 moved namespace, name, labels and annotations into the
		// metadata block and the rest into spec (the provider's
		// UpgradeState carries version 0 states over).
		Version: 1,
		Block: Block{
			Description: "A horizontal autoscaler: it sets a deployment's replicas between `spec.min_replicas` and `spec.max_replicas` from the CPU and memory its pods use, " +
				"as Kubernetes' HorizontalPodAutoscaler does (same calculation, tolerance and defaults). While it targets a `maestro_deployment`, " +
				"the autoscaler owns that deployment's replicas: Terraform no longer changes them, and the autoscaler's changes never show as a diff.",
			Attributes: map[string]Attribute{"id": idAttribute()},
			Blocks: map[string]Nested{
				"metadata": metadataBlock("autoscaler"),
				"spec":     Single(autoscalerSpec()),
			},
		},
	}
}

// autoscalerSpec is the autoscaler's spec block (its attributes and
// blocks were the top level of schema version 0).
func autoscalerSpec() Block {
	return Block{
		Description: "What the autoscaler scales, between which counts, on which usage, and how fast.",
		Attributes: map[string]Attribute{
			"min_replicas": {Type: Int64, Default: int64(1), Range: Between(1, 1<<20), Description: "Fewest replicas (default 1)."},
			"max_replicas": {Type: Int64, Required: true, Range: Between(1, 1<<20), Description: "Most replicas; at least `min_replicas`."},
		},
		Blocks: map[string]Nested{
			"target": Single(Block{
				Description: "The scaled object, in the autoscaler's namespace.",
				Attributes: map[string]Attribute{
					"kind": {Type: String, Default: "Deployment", OneOf: []string{"Deployment", "ReplicaSet"},
						Description: "`Deployment` (default) or `ReplicaSet`."},
					// Required; the provider checks it (a block cannot require).
					"name": {Type: String, Optional: true, Format: DNSLabel, Description: "Name of the deployment (or replica set)."},
				},
			}),
			"metric": List(Block{
				Description: "A usage target; with several, the largest replica count any of them asks for wins. " +
					"Without any, the server's default applies: CPU at 80 % of requests.",
				Attributes: map[string]Attribute{
					"resource": {Type: String, Required: true, OneOf: []string{string(api.ResourceCPU), string(api.ResourceMemory)},
						Description: "`cpu` or `memory`."},
					"average_utilization": {Type: Int64, Optional: true, Range: Between(1, 1<<20),
						Description: "Target average use in percent of the pods' requests (every container needs a request of the resource). Set this or `average_value`."},
					"average_value": {Type: String, Optional: true, Format: Quantity,
						Description: "Target average use per pod, a quantity (`500m` of CPU, `256Mi` of memory). Set this or `average_utilization`."},
				},
			}),
			"behavior": Single(Block{
				Description: "How fast the autoscaler moves. What is left out takes Kubernetes' defaults: scale-up at once (no window), " +
					"by up to 4 pods or 100 % per 15 s, whichever is more; scale-down after a 300 s stabilisation window, by up to 100 % per 15 s.",
				Blocks: map[string]Nested{
					"scale_up":   scalingRulesBlock("scaling up"),
					"scale_down": scalingRulesBlock("scaling down"),
				},
			}),
		},
	}
}

func scalingRulesBlock(what string) Nested {
	return Single(Block{
		Description: "Rules for " + what + ".",
		Attributes: map[string]Attribute{
			"stabilization_window_seconds": {Type: Int64, Optional: true, Range: Between(0, 3600),
				Description: "The autoscaler acts on the most conservative recommendation of this many past seconds (0-3600), so that a short dip or spike does not move it."},
			"select_policy": {Type: String, Optional: true,
				OneOf:       []string{string(api.MaxChangePolicySelect), string(api.MinChangePolicySelect), string(api.DisabledPolicySelect)},
				Description: "`Max` (default: the policy allowing the largest change), `Min` (the smallest) or `Disabled` (never scale this way)."},
		},
		Blocks: map[string]Nested{
			"policy": List(Block{
				Description: "A limit on the change within a period; none: the defaults above.",
				Attributes: map[string]Attribute{
					"type": {Type: String, Required: true, OneOf: []string{string(api.PodsScalingPolicy), string(api.PercentScalingPolicy)},
						Description: "`Pods` (a number of pods) or `Percent` (of the current replicas)."},
					"value":          {Type: Int64, Required: true, Range: Between(1, 1<<20), Description: "How many pods, or what percentage, may change within the period."},
					"period_seconds": {Type: Int64, Required: true, Range: Between(1, 1800), Description: "The period, 1-1800 seconds."},
				},
			}),
		},
	})
}
