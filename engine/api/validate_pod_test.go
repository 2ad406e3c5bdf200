package api

import (
	"strings"
	"testing"
)

func pod(mut func(*Pod)) *Pod { return defaulted(basePod(), mut) }

// sidecar is a defaulted container that a case can add after defaulting.
func sidecar(name string) Container {
	return Container{Name: name, Image: "busybox:1.36", ImagePullPolicy: PullIfNotPresent}
}

func withVolume(v Volume) func(*Pod) {
	return func(p *Pod) { p.Spec.Volumes = append(p.Spec.Volumes, v) }
}

func withEnv(e ...EnvVar) func(*Pod) {
	return func(p *Pod) { p.Spec.Containers[0].Env = e }
}

func withEnvFrom(e ...EnvFromSource) func(*Pod) {
	return func(p *Pod) { p.Spec.Containers[0].EnvFrom = e }
}

func withResources(r ResourceRequirements) func(*Pod) {
	return func(p *Pod) { p.Spec.Containers[0].Resources = r }
}

func TestValidatePodInvalid(t *testing.T) {
	const c0 = "spec.containers[0]"
	runInvalidCases(t, []invalidCase{
		// metadata
		{"name with uppercase and underscore", pod(func(p *Pod) { p.Name = "Web_1" }), []string{"invalid metadata.name"}},
		{"name with a dot is not a DNS label", pod(func(p *Pod) { p.Name = "web.v1" }), []string{"invalid metadata.name"}},
		{"name starting with a dash", pod(func(p *Pod) { p.Name = "-web" }), []string{"invalid metadata.name"}},
		{"name of 64 characters", pod(func(p *Pod) { p.Name = strings.Repeat("a", 64) }), []string{"invalid metadata.name"}},
		{"name missing", pod(func(p *Pod) { p.Name = "" }), []string{"required metadata.name"}},
		{"namespace missing", pod(func(p *Pod) { p.Namespace = "" }), []string{"required metadata.namespace"}},
		{"namespace not a DNS label", pod(func(p *Pod) { p.Namespace = "Team_A" }), []string{"invalid metadata.namespace"}},
		{"label key invalid", pod(func(p *Pod) { p.Labels["bad key"] = "x" }), []string{`invalid metadata.labels["bad key"]`}},
		{"label value invalid", pod(func(p *Pod) { p.Labels["app"] = "-web" }), []string{`invalid metadata.labels["app"]`}},
		{"annotation key invalid", pod(func(p *Pod) { p.Annotations = map[string]string{"/note": "x"} }), []string{`invalid metadata.annotations["/note"]`}},
		{"annotations over 256KiB", pod(func(p *Pod) {
			p.Annotations = map[string]string{"note": strings.Repeat("x", 256*1024)}
		}), []string{"toolong metadata.annotations"}},
		{"owner reference without kind, name and uid", pod(func(p *Pod) { p.OwnerReferences = []OwnerReference{{}} }), []string{
			"required metadata.ownerReferences[0].kind", "required metadata.ownerReferences[0].name", "required metadata.ownerReferences[0].uid"}},

		// containers
		{"no containers", pod(func(p *Pod) { p.Spec.Containers = nil }), []string{"required spec.containers"}},
		{"container without image or command", pod(func(p *Pod) { p.Spec.Containers[0].Image = "" }), []string{"required " + c0 + ".image"}},
		{"container name missing", pod(func(p *Pod) { p.Spec.Containers[0].Name = "" }), []string{"required " + c0 + ".name"}},
		{"container name not a DNS label", pod(func(p *Pod) { p.Spec.Containers[0].Name = "App" }), []string{"invalid " + c0 + ".name"}},
		{"duplicate container names", pod(func(p *Pod) {
			p.Spec.Containers = append(p.Spec.Containers, sidecar("app"))
		}), []string{"duplicate spec.containers[1].name"}},
		{"init container named like an app container", pod(func(p *Pod) {
			p.Spec.InitContainers = []Container{sidecar("app")}
		}), []string{"duplicate " + c0 + ".name"}},
		{"duplicate port names across containers", pod(func(p *Pod) {
			s := sidecar("metrics")
			s.Ports = []ContainerPort{{Name: "http", ContainerPort: 9090, Protocol: ProtocolTCP}}
			p.Spec.Containers = append(p.Spec.Containers, s)
		}), []string{"duplicate spec.containers[1].ports[0].name"}},
		{"container port 0", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }), []string{"invalid " + c0 + ".ports[0].containerPort"}},
		{"container port 65536", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 65536 }), []string{"invalid " + c0 + ".ports[0].containerPort"}},
		{"negative container port", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = -80 }), []string{"invalid " + c0 + ".ports[0].containerPort"}},
		{"host port 70000", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].HostPort = 70000 }), []string{"invalid " + c0 + ".ports[0].hostPort"}},
		{"host IP not an IP", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].HostIP = "localhost" }), []string{"invalid " + c0 + ".ports[0].hostIP"}},
		{"port name over 15 characters", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "http-alternative" }), []string{"invalid " + c0 + ".ports[0].name"}},
		{"port name without a letter", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "8080" }), []string{"invalid " + c0 + ".ports[0].name"}},
		{"port name with double dash", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "web--http" }), []string{"invalid " + c0 + ".ports[0].name"}},
		{"port protocol SCTP", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].Protocol = "SCTP" }), []string{"unsupported " + c0 + ".ports[0].protocol"}},
		{"port protocol lowercase", pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].Protocol = "tcp" }), []string{"unsupported " + c0 + ".ports[0].protocol"}},
		{"pull policy unknown", pod(func(p *Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }), []string{"unsupported " + c0 + ".imagePullPolicy"}},

		// pod-level fields
		{"restart policy unknown", pod(func(p *Pod) { p.Spec.RestartPolicy = "Sometimes" }), []string{"unsupported spec.restartPolicy"}},
		{"restart policy empty when not defaulted", pod(func(p *Pod) { p.Spec.RestartPolicy = "" }), []string{"unsupported spec.restartPolicy"}},
		{"dns policy unknown", pod(func(p *Pod) { p.Spec.DNSPolicy = "ClusterFirstWithHostNet" }), []string{"unsupported spec.dnsPolicy"}},
		{"negative grace period", pod(func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = Ptr[int64](-1) }), []string{"invalid spec.terminationGracePeriodSeconds"}},
		{"zero active deadline", pod(func(p *Pod) { p.Spec.ActiveDeadlineSeconds = Ptr[int64](0) }), []string{"invalid spec.activeDeadlineSeconds"}},
		// 9.3e9 s overflowed a time.Duration into a deadline in the past.
		{"grace period overflowing a duration", pod(func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = Ptr[int64](9_300_000_000) }), []string{"invalid spec.terminationGracePeriodSeconds"}},
		{"active deadline overflowing a duration", pod(func(p *Pod) { p.Spec.ActiveDeadlineSeconds = Ptr[int64](9_300_000_000) }), []string{"invalid spec.activeDeadlineSeconds"}},
		{"toleration seconds overflowing a duration", pod(func(p *Pod) {
			p.Spec.Tolerations = []Toleration{{Key: "k", Operator: TolerationOpExists, Effect: TaintNoExecute, TolerationSeconds: Ptr[int64](9_300_000_000)}}
		}), []string{"invalid spec.tolerations[0].tolerationSeconds"}},
		{"node selector key invalid", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"-zone": "a"} }), []string{`invalid spec.nodeSelector["-zone"]`}},
		{"node selector value invalid", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a b"} }), []string{`invalid spec.nodeSelector["zone"]`}},
		{"node name invalid", pod(func(p *Pod) { p.Spec.NodeName = "Node_1" }), []string{"invalid spec.nodeName"}},
		{"hostname with a dot", pod(func(p *Pod) { p.Spec.Hostname = "web.local" }), []string{"invalid spec.hostname"}},

		// resources: quantities are parsed before validation, so only their
		// relations and ranges can be wrong here.
		{"cpu request above limit", pod(withResources(ResourceRequirements{
			Requests: ResourceList{ResourceCPU: qty("2")}, Limits: ResourceList{ResourceCPU: qty("1500m")},
		})), []string{"invalid " + c0 + ".resources.requests[\"cpu\"]"}},
		{"memory request above limit", pod(withResources(ResourceRequirements{
			Requests: ResourceList{ResourceMemory: qty("1Gi"), ResourceCPU: qty("100m")},
			Limits:   ResourceList{ResourceMemory: qty("512Mi"), ResourceCPU: qty("1")},
		})), []string{"invalid " + c0 + ".resources.requests[\"memory\"]"}},
		{"unsupported resource name", pod(withResources(ResourceRequirements{
			Limits: ResourceList{"nvidia.com/gpu": qty("1")},
		})), []string{"unsupported " + c0 + ".resources.limits[\"nvidia.com/gpu\"]"}},
		{"pods is node capacity only", pod(withResources(ResourceRequirements{
			Requests: ResourceList{ResourcePods: qty("1")},
		})), []string{"unsupported " + c0 + ".resources.requests[\"pods\"]"}},
		{"negative cpu request", pod(withResources(ResourceRequirements{
			Requests: ResourceList{ResourceCPU: qty("-100m")},
		})), []string{"invalid " + c0 + ".resources.requests[\"cpu\"]"}},
		{"fractional bytes of memory", pod(withResources(ResourceRequirements{
			Limits: ResourceList{ResourceMemory: qty("1500m")},
		})), []string{"invalid " + c0 + ".resources.limits[\"memory\"]"}},

		// env
		{"env name missing", pod(withEnv(EnvVar{Value: "x"})), []string{"required " + c0 + ".env[0].name"}},
		{"env name starting with a digit", pod(withEnv(EnvVar{Name: "1VAR", Value: "x"})), []string{"invalid " + c0 + ".env[0].name"}},
		{"env value and valueFrom", pod(withEnv(EnvVar{Name: "POD", Value: "x",
			ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}})),
			[]string{"forbidden " + c0 + ".env[0].valueFrom"}},
		{"env valueFrom with no source", pod(withEnv(EnvVar{Name: "A", ValueFrom: &EnvVarSource{}})), []string{"invalid " + c0 + ".env[0].valueFrom"}},
		{"env valueFrom with two sources", pod(withEnv(EnvVar{Name: "A", ValueFrom: &EnvVarSource{
			ConfigMapKeyRef: &KeySelector{Name: "cfg", Key: "a"}, SecretKeyRef: &KeySelector{Name: "sec", Key: "a"},
		}})), []string{"invalid " + c0 + ".env[0].valueFrom"}},
		{"env fieldRef unsupported", pod(withEnv(EnvVar{Name: "PHASE",
			ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "status.phase"}}})),
			[]string{"unsupported " + c0 + ".env[0].valueFrom.fieldRef.fieldPath"}},
		{"env configMapKeyRef without key", pod(withEnv(EnvVar{Name: "A",
			ValueFrom: &EnvVarSource{ConfigMapKeyRef: &KeySelector{Name: "cfg"}}})),
			[]string{"required " + c0 + ".env[0].valueFrom.configMapKeyRef.key"}},
		{"env secretKeyRef with invalid name and key", pod(withEnv(EnvVar{Name: "A",
			ValueFrom: &EnvVarSource{SecretKeyRef: &KeySelector{Name: "Bad_Name", Key: "a/b"}}})),
			[]string{"invalid " + c0 + ".env[0].valueFrom.secretKeyRef.name", "invalid " + c0 + ".env[0].valueFrom.secretKeyRef.key"}},
		{"second env var broken", pod(withEnv(EnvVar{Name: "OK", Value: "1"}, EnvVar{Name: "A B", Value: "2"})),
			[]string{"invalid " + c0 + ".env[1].name"}},
		{"envFrom with both refs", pod(withEnvFrom(EnvFromSource{ConfigMapRef: &NameRef{Name: "cfg"}, SecretRef: &NameRef{Name: "sec"}})),
			[]string{"invalid " + c0 + ".envFrom[0]"}},
		{"envFrom with no ref", pod(withEnvFrom(EnvFromSource{Prefix: "APP_"})), []string{"invalid " + c0 + ".envFrom[0]"}},
		{"envFrom prefix starting with a digit", pod(withEnvFrom(EnvFromSource{Prefix: "1_", ConfigMapRef: &NameRef{Name: "cfg"}})),
			[]string{"invalid " + c0 + ".envFrom[0].prefix"}},
		{"envFrom secret without name", pod(withEnvFrom(EnvFromSource{SecretRef: &NameRef{}})),
			[]string{"required " + c0 + ".envFrom[0].secretRef.name"}},
		{"envFrom config map with invalid name", pod(withEnvFrom(EnvFromSource{ConfigMapRef: &NameRef{Name: "Cfg"}})),
			[]string{"invalid " + c0 + ".envFrom[0].configMapRef.name"}},
	})
}

func TestValidatePodVolumesInvalid(t *testing.T) {
	const c0 = "spec.containers[0]"
	emptyDir := VolumeSource{EmptyDir: &EmptyDirVolumeSource{}}
	mounted := func(vol Volume, m ...VolumeMount) func(*Pod) {
		return func(p *Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, vol)
			p.Spec.Containers[0].VolumeMounts = m
		}
	}
	runInvalidCases(t, []invalidCase{
		{"volume with no source", pod(withVolume(Volume{Name: "data"})), []string{"invalid spec.volumes[0]"}},
		{"volume with two sources", pod(withVolume(Volume{Name: "data", VolumeSource: VolumeSource{
			EmptyDir: &EmptyDirVolumeSource{}, HostPath: &HostPathVolumeSource{Path: "/var/data"},
		}})), []string{"invalid spec.volumes[0]"}},
		{"volume with config map and secret", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg"}, Secret: &SecretVolumeSource{SecretName: "sec"},
		}})), []string{"invalid spec.volumes[0]"}},
		{"volume name missing", pod(withVolume(Volume{VolumeSource: emptyDir})), []string{"required spec.volumes[0].name"}},
		{"volume name not a DNS label", pod(withVolume(Volume{Name: "Data", VolumeSource: emptyDir})), []string{"invalid spec.volumes[0].name"}},
		{"duplicate volume names", pod(func(p *Pod) {
			p.Spec.Volumes = []Volume{{Name: "data", VolumeSource: emptyDir}, {Name: "data", VolumeSource: emptyDir}}
		}), []string{"duplicate spec.volumes[1].name"}},
		{"emptyDir medium unknown", pod(withVolume(Volume{Name: "data", VolumeSource: VolumeSource{
			EmptyDir: &EmptyDirVolumeSource{Medium: "HugePages"}}})), []string{"unsupported spec.volumes[0].emptyDir.medium"}},
		{"emptyDir negative size", pod(withVolume(Volume{Name: "data", VolumeSource: VolumeSource{
			EmptyDir: &EmptyDirVolumeSource{SizeLimit: Ptr(qty("-1Gi"))}}})), []string{"invalid spec.volumes[0].emptyDir.sizeLimit"}},
		{"hostPath relative", pod(withVolume(Volume{Name: "logs", VolumeSource: VolumeSource{
			HostPath: &HostPathVolumeSource{Path: "var/log"}}})), []string{"invalid spec.volumes[0].hostPath.path"}},
		{"hostPath type unknown", pod(withVolume(Volume{Name: "sock", VolumeSource: VolumeSource{
			HostPath: &HostPathVolumeSource{Path: "/run/x.sock", Type: "Socket"}}})), []string{"unsupported spec.volumes[0].hostPath.type"}},
		{"configMap volume without name", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{}}})), []string{"required spec.volumes[0].configMap.name"}},
		{"configMap item escaping the volume", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg", Items: []KeyToPath{{Key: "app.conf", Path: "../etc/passwd"}}}}})),
			[]string{"invalid spec.volumes[0].configMap.items[0].path"}},
		{"configMap item with absolute path", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg", Items: []KeyToPath{{Key: "app.conf", Path: "/etc/app.conf"}}}}})),
			[]string{"invalid spec.volumes[0].configMap.items[0].path"}},
		{"configMap item with unclean path", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg", Items: []KeyToPath{{Key: "app.conf", Path: "conf/../../x"}}}}})),
			[]string{"invalid spec.volumes[0].configMap.items[0].path"}},
		{"configMap item with invalid key", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg", Items: []KeyToPath{{Key: "a/b", Path: "b"}}}}})),
			[]string{"invalid spec.volumes[0].configMap.items[0].key"}},
		{"configMap default mode over 0777", pod(withVolume(Volume{Name: "conf", VolumeSource: VolumeSource{
			ConfigMap: &ConfigMapVolumeSource{Name: "cfg", DefaultMode: Ptr[int32](0o1000)}}})),
			[]string{"invalid spec.volumes[0].configMap.defaultMode"}},
		{"secret volume without name", pod(withVolume(Volume{Name: "creds", VolumeSource: VolumeSource{
			Secret: &SecretVolumeSource{}}})), []string{"required spec.volumes[0].secret.secretName"}},
		{"secret item with negative mode", pod(withVolume(Volume{Name: "creds", VolumeSource: VolumeSource{
			Secret: &SecretVolumeSource{SecretName: "sec", Items: []KeyToPath{{Key: "tls.key", Path: "tls.key", Mode: Ptr[int32](-1)}}}}})),
			[]string{"invalid spec.volumes[0].secret.items[0].mode"}},
		{"persistent volume name not a DNS label", pod(withVolume(Volume{Name: "cache", VolumeSource: VolumeSource{
			Persistent: &PersistentVolumeSource{Name: "Cache"}}})), []string{"invalid spec.volumes[0].persistent.name"}},
		{"persistent volume without name", pod(withVolume(Volume{Name: "cache", VolumeSource: VolumeSource{
			Persistent: &PersistentVolumeSource{}}})), []string{"required spec.volumes[0].persistent.name"}},

		// mounts
		{"mount of an unknown volume", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir},
			VolumeMount{Name: "cache", MountPath: "/cache"})), []string{"invalid " + c0 + ".volumeMounts[0].name"}},
		{"mount without a volume declared", pod(func(p *Pod) {
			p.Spec.Containers[0].VolumeMounts = []VolumeMount{{Name: "data", MountPath: "/data"}}
		}), []string{"invalid " + c0 + ".volumeMounts[0].name"}},
		{"mount without name or path", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir}, VolumeMount{})),
			[]string{"required " + c0 + ".volumeMounts[0].name", "required " + c0 + ".volumeMounts[0].mountPath"}},
		{"relative mount path", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir},
			VolumeMount{Name: "data", MountPath: "data"})), []string{"invalid " + c0 + ".volumeMounts[0].mountPath"}},
		{"same mount path twice", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir},
			VolumeMount{Name: "data", MountPath: "/data"}, VolumeMount{Name: "data", MountPath: "/data/"})),
			[]string{"duplicate " + c0 + ".volumeMounts[1].mountPath"}},
		{"subPath escaping the volume", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir},
			VolumeMount{Name: "data", MountPath: "/data", SubPath: "../secrets"})), []string{"invalid " + c0 + ".volumeMounts[0].subPath"}},
		{"absolute subPath", pod(mounted(Volume{Name: "data", VolumeSource: emptyDir},
			VolumeMount{Name: "data", MountPath: "/data", SubPath: "/etc"})), []string{"invalid " + c0 + ".volumeMounts[0].subPath"}},
		{"init container mounting an unknown volume", pod(func(p *Pod) {
			c := sidecar("init")
			c.VolumeMounts = []VolumeMount{{Name: "seed", MountPath: "/seed"}}
			p.Spec.InitContainers = []Container{c}
		}), []string{"invalid spec.initContainers[0].volumeMounts[0].name"}},
	})
}

func TestValidatePodProbesInvalid(t *testing.T) {
	const c0 = "spec.containers[0]"
	tcp := ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromString("http")}}
	exec := ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}
	probe := func(set func(*Container, *Probe), pr *Probe) *Pod {
		return pod(func(p *Pod) { set(&p.Spec.Containers[0], pr) })
	}
	liveness := func(c *Container, pr *Probe) { c.LivenessProbe = pr }
	readiness := func(c *Container, pr *Probe) { c.ReadinessProbe = pr }
	startup := func(c *Container, pr *Probe) { c.StartupProbe = pr }
	with := func(pr *Probe, mut func(*Probe)) *Probe { mut(pr); return pr }

	runInvalidCases(t, []invalidCase{
		{"probe without handler", probe(liveness, fullProbe(ProbeHandler{})), []string{"invalid " + c0 + ".livenessProbe"}},
		{"probe with two handlers", probe(liveness, fullProbe(ProbeHandler{Exec: exec.Exec, TCPSocket: tcp.TCPSocket})),
			[]string{"invalid " + c0 + ".livenessProbe"}},
		{"probe with three handlers", probe(readiness, fullProbe(ProbeHandler{Exec: exec.Exec, TCPSocket: tcp.TCPSocket,
			HTTPGet: httpGet(FromInt(8080)).HTTPGet})), []string{"invalid " + c0 + ".readinessProbe"}},
		{"probe thresholds out of range", probe(readiness, &Probe{ProbeHandler: tcp, InitialDelaySeconds: -1}), []string{
			"invalid " + c0 + ".readinessProbe.initialDelaySeconds",
			"invalid " + c0 + ".readinessProbe.timeoutSeconds",
			"invalid " + c0 + ".readinessProbe.periodSeconds",
			"invalid " + c0 + ".readinessProbe.successThreshold",
			"invalid " + c0 + ".readinessProbe.failureThreshold",
		}},
		{"liveness success threshold above 1", probe(liveness, with(fullProbe(tcp), func(p *Probe) { p.SuccessThreshold = 2 })),
			[]string{"invalid " + c0 + ".livenessProbe.successThreshold"}},
		{"startup success threshold above 1", probe(startup, with(fullProbe(exec), func(p *Probe) { p.SuccessThreshold = 3 })),
			[]string{"invalid " + c0 + ".startupProbe.successThreshold"}},
		{"startup failure threshold 0", probe(startup, with(fullProbe(exec), func(p *Probe) { p.FailureThreshold = 0 })),
			[]string{"invalid " + c0 + ".startupProbe.failureThreshold"}},
		{"http probe with bad scheme, path and port", probe(readiness, fullProbe(ProbeHandler{HTTPGet: &HTTPGetAction{
			Scheme: "FTP", Path: "healthz", Port: FromInt(0)}})), []string{
			"unsupported " + c0 + ".readinessProbe.httpGet.scheme",
			"invalid " + c0 + ".readinessProbe.httpGet.path",
			"invalid " + c0 + ".readinessProbe.httpGet.port",
		}},
		{"http probe with invalid port name", probe(readiness, fullProbe(httpGet(FromString("HTTP")))),
			[]string{"invalid " + c0 + ".readinessProbe.httpGet.port"}},
		{"exec probe without command", probe(liveness, fullProbe(ProbeHandler{Exec: &ExecAction{}})),
			[]string{"required " + c0 + ".livenessProbe.exec.command"}},
		{"tcp probe port 70000", probe(liveness, fullProbe(ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromInt(70000)}})),
			[]string{"invalid " + c0 + ".livenessProbe.tcpSocket.port"}},
		{"init container with a liveness probe", pod(func(p *Pod) {
			c := sidecar("init")
			c.LivenessProbe = fullProbe(tcp)
			p.Spec.InitContainers = []Container{c}
		}), []string{"forbidden spec.initContainers[0].livenessProbe"}},
		{"init container with every probe", pod(func(p *Pod) {
			c := sidecar("init")
			c.LivenessProbe, c.ReadinessProbe, c.StartupProbe = fullProbe(tcp), fullProbe(tcp), fullProbe(tcp)
			p.Spec.InitContainers = []Container{c}
		}), []string{
			"forbidden spec.initContainers[0].livenessProbe",
			"forbidden spec.initContainers[0].readinessProbe",
			"forbidden spec.initContainers[0].startupProbe",
		}},
	})
}

// TestValidateReadinessSuccessThreshold: only readiness may need several
// successes in a row; the same value is an error on liveness.
func TestValidateReadinessSuccessThreshold(t *testing.T) {
	pr := fullProbe(httpGet(FromString("http")))
	pr.SuccessThreshold = 3
	p := pod(func(p *Pod) { p.Spec.Containers[0].ReadinessProbe = pr })
	assertErrors(t, Validate(p), nil)
}
