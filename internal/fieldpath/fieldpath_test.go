package fieldpath

import "testing"

// Every API field path the engine's validation reports lands on the
// attribute the user wrote in the resource's HCL.
func TestAttrPath(t *testing.T) {
	for _, tc := range []struct {
		kind, field, want string
	}{
		// Deployment: the pod template's spec and metadata are flattened
		// into the template block; lists are singular blocks.
		{"Deployment", `spec.template.spec.containers[0].resources.requests["cpu"]`, "spec.template.container[0].resources.requests.cpu"},
		{"Deployment", `spec.template.spec.containers[1].resources.limits[memory]`, "spec.template.container[1].resources.limits.memory"},
		{"Deployment", "spec.template.metadata.labels", "spec.template.labels"},
		{"Deployment", `spec.template.metadata.labels["app/x"]`, `spec.template.labels["app/x"]`},
		{"Deployment", "spec.selector", "spec.selector"},
		{"Deployment", `spec.selector.matchLabels["Bad Key"]`, `spec.selector.match_labels["Bad Key"]`},
		{"Deployment", "spec.replicas", "spec.replicas"},
		{"Deployment", "spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.rolling_update.max_unavailable"},
		{"Deployment", "spec.progressDeadlineSeconds", "spec.progress_deadline_seconds"},
		{"Deployment", "spec.template.spec.containers[0].ports[2].containerPort", "spec.template.container[0].port[2].container_port"},
		{"Deployment", "spec.template.spec.containers[0].volumeMounts[0].name", "spec.template.container[0].volume_mount[0].name"},
		{"Deployment", "spec.template.spec.containers[0].livenessProbe.httpGet.port", "spec.template.container[0].liveness_probe.http_get.port"},
		{"Deployment", "spec.template.spec.containers[0].readinessProbe.tcpSocket.port", "spec.template.container[0].readiness_probe.tcp_socket.port"},
		{"Deployment", "spec.template.spec.containers[0].env[3].valueFrom.configMapKeyRef.key", "spec.template.container[0].env[3].value_from.config_map_key_ref.key"},
		{"Deployment", "spec.template.spec.containers[0].envFrom[0].prefix", "spec.template.container[0].env_from[0].prefix"},
		{"Deployment", "spec.template.spec.volumes[1].hostPath.path", "spec.template.volume[1].host_path.path"},
		{"Deployment", "spec.template.spec.volumes[0].secret.secretName", "spec.template.volume[0].secret.secret_name"},
		{"Deployment", "spec.template.spec.restartPolicy", "spec.template.restart_policy"},
		{"Deployment", `spec.template.spec.nodeSelector["disk type"]`, `spec.template.node_selector["disk type"]`},
		{"Deployment", "spec.template.spec.tolerations[0].tolerationSeconds", "spec.template.toleration[0].toleration_seconds"},
		{"Deployment", "spec.template.spec.topologySpreadConstraints[0].labelSelector.matchExpressions[1].operator",
			"spec.template.topology_spread_constraint[0].label_selector.match_expression[1].operator"},
		// Kubernetes' affinity names are short in HCL, and the levels the
		// resources flatten away disappear.
		{"Deployment", "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values",
			"spec.template.affinity.node_affinity.required_term[0].match_expression[1].values"},
		{"Deployment", "spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[2].preference.matchExpressions[0].key",
			"spec.template.affinity.node_affinity.preferred[2].match_expression[0].key"},
		{"Deployment", "spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[2].weight",
			"spec.template.affinity.node_affinity.preferred[2].weight"},
		{"Deployment", "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
			"spec.template.affinity.pod_anti_affinity.required[0].topology_key"},
		{"Deployment", "spec.template.spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[1].podAffinityTerm.labelSelector",
			"spec.template.affinity.pod_affinity.preferred[1].label_selector"},
		{"Deployment", "metadata.labels", "metadata.labels"},
		{"Deployment", "spec.template.spec.imagePullSecrets[1].name", "spec.template.image_pull_secrets[1].name"},
		{"Deployment", "spec.template.spec.securityContext.runAsNonRoot", "spec.template.security_context.run_as_non_root"},
		{"Deployment", "spec.template.spec.containers[0].securityContext.capabilities.add[0]", "spec.template.container[0].security_context.capabilities.add[0]"},
		{"Deployment", "spec.template.spec.containers[0].envFrom[1].secretRef.name", "spec.template.container[0].env_from[1].secret_ref.name"},
		// Pod, service and volume have metadata and spec blocks.
		{"Pod", "spec.containers[0].name", "spec.container[0].name"},
		{"Pod", "spec.initContainers[0].image", "spec.init_container[0].image"},
		{"Pod", "metadata.annotations", "metadata.annotations"},
		{"Service", "spec.ports[1].targetPort", "spec.port[1].target_port"},
		{"Service", "spec.ports[0].nodePort", "spec.port[0].node_port"},
		{"Service", "spec.clusterIP", "spec.cluster_ip"},
		{"Service", `spec.selector["app"]`, `spec.selector["app"]`},
		{"Service", "spec.sessionAffinity", "spec.session_affinity"},
		{"PersistentVolume", "spec.nodeName", "spec.node_name"},
		// Namespace, config map and secret have the metadata block and
		// their payload at the top, as the API has it.
		{"Namespace", `metadata.labels["a"]`, `metadata.labels["a"]`},
		{"ConfigMap", `data["bad/key"]`, `data["bad/key"]`},
		{"ConfigMap", "metadata.name", "metadata.name"},
		{"Secret", "metadata.annotations", "metadata.annotations"},
		{"Secret", "type", "type"},
		// The autoscaler's metrics are simplified.
		{"Autoscaler", "spec.maxReplicas", "spec.max_replicas"},
		{"Autoscaler", "spec.scaleTargetRef.name", "spec.target.name"},
		{"Autoscaler", "spec.metrics[1].resource.name", "spec.metric[1].resource"},
		{"Autoscaler", "spec.metrics[0].resource.target.averageUtilization", "spec.metric[0].average_utilization"},
		{"Autoscaler", "spec.metrics[0].resource.target.averageValue", "spec.metric[0].average_value"},
		{"Autoscaler", "spec.metrics[0].resource.target", "spec.metric[0].resource.target"},
		{"Autoscaler", "spec.behavior.scaleDown.policies[0].periodSeconds", "spec.behavior.scale_down.policy[0].period_seconds"},
		{"Autoscaler", "spec.behavior.scaleUp.stabilizationWindowSeconds", "spec.behavior.scale_up.stabilization_window_seconds"},
		{"Autoscaler", "metadata.labels", "metadata.labels"},
		// A kind without a table maps names only.
		{"NodePool", "spec.aws.subnetIDs[0]", "spec.aws.subnet_ids[0]"},
		{"NodePool", "spec.ssh.hostKeys", "spec.ssh.host_keys"},
	} {
		if got := String(AttrPath(tc.kind, tc.field)); got != tc.want {
			t.Errorf("AttrPath(%s, %s) = %s, want %s", tc.kind, tc.field, got, tc.want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"name": "name", "containerPort": "container_port", "hostIP": "host_ip", "clusterIP": "cluster_ip",
		"HTTPGet": "http_get", "subnetIDs": "subnet_ids", "terminationGracePeriodSeconds": "termination_grace_period_seconds",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestString(t *testing.T) {
	for field, want := range map[string]string{
		`spec.template.spec.containers[0].resources.requests["cpu"]`: "spec.template.container[0].resources.requests.cpu",
		`spec.template.metadata.labels["a b"]`:                       `spec.template.labels["a b"]`,
		"metadata.name":                                              "metadata.name",
	} {
		if got := String(AttrPath("Deployment", field)); got != want {
			t.Errorf("String(AttrPath(Deployment, %s)) = %s, want %s", field, got, want)
		}
	}
}

// TestStringOfAttrPath: the paths `maestro plan` prints for the API's
// field errors, in the provider's notation (moved from internal/convert,
// whose own mapper this package replaced).
func TestStringOfAttrPath(t *testing.T) {
	for field, want := range map[[2]string]string{
		{"Deployment", "spec.template.spec.containers[0].resources.requests[\"cpu\"]"}:                         "spec.template.container[0].resources.requests.cpu",
		{"Deployment", "spec.selector.matchLabels"}:                                                            "spec.selector.match_labels",
		{"Deployment", "spec.template.metadata.labels"}:                                                        "spec.template.labels",
		{"Service", "spec.ports[1].targetPort"}:                                                                "spec.port[1].target_port",
		{"Service", "spec.clusterIP"}:                                                                          "spec.cluster_ip",
		{"ConfigMap", "metadata.name"}:                                                                         "metadata.name",
		{"Autoscaler", "spec.metrics[0].resource.target.averageUtilization"}:                                   "spec.metric[0].average_utilization",
		{"Pod", "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"}: "spec.affinity.pod_anti_affinity.required[0].topology_key",
		{"Deployment", "metadata.labels[\"a b\"]"}:                                                             "metadata.labels[\"a b\"]",
	} {
		if got := String(AttrPath(field[0], field[1])); got != want {
			t.Errorf("String(AttrPath(%s, %s)) = %q, want %q", field[0], field[1], got, want)
		}
	}
}
