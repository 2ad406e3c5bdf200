package api

import (
	"strings"
	"testing"
)

// realisticDeployment is the kind of manifest a platform team ships: probes,
// configuration from config maps and secrets, every volume source,
// affinity, tolerations and topology spread.
func realisticDeployment() *Deployment {
	optional := Ptr(true)
	return &Deployment{
		ObjectMeta: ObjectMeta{
			Name: "checkout", Namespace: "shop",
			Labels:      map[string]string{"app": "checkout", "team": "payments"},
			Annotations: map[string]string{"maestro.dev/change-cause": "bump to v2.3.1"},
		},
		Spec: DeploymentSpec{
			Replicas: Ptr[int32](6),
			Selector: &LabelSelector{
				MatchLabels:      map[string]string{"app": "checkout"},
				MatchExpressions: []LabelSelectorRequirement{{Key: "track", Operator: SelectorOpIn, Values: []string{"stable", "canary"}}},
			},
			Strategy:        DeploymentStrategy{RollingUpdate: &RollingUpdateDeployment{MaxSurge: Ptr(FromInt(2)), MaxUnavailable: Ptr(FromString("10%"))}},
			MinReadySeconds: 10,
			Template: PodTemplateSpec{
				ObjectMeta: ObjectMeta{
					Labels:      map[string]string{"app": "checkout", "track": "stable"},
					Annotations: map[string]string{"prometheus.io/scrape": "true"},
				},
				Spec: PodSpec{
					InitContainers: []Container{{
						Name: "migrate", Image: "registry.example.com/shop/checkout-migrate:v2.3.1",
						Args:         []string{"--wait"},
						EnvFrom:      []EnvFromSource{{SecretRef: &NameRef{Name: "checkout-db"}}},
						VolumeMounts: []VolumeMount{{Name: "config", MountPath: "/etc/checkout", ReadOnly: true}},
					}},
					Containers: []Container{
						{
							Name:       "app",
							Image:      "registry.example.com/shop/checkout@sha256:4f1e9a7b2c3d",
							Command:    []string{"/bin/checkout"},
							Args:       []string{"serve"},
							WorkingDir: "/srv",
							Ports: []ContainerPort{
								{Name: "http", ContainerPort: 8080},
								{Name: "metrics", ContainerPort: 9090},
								{Name: "dns", ContainerPort: 5353, Protocol: ProtocolUDP, HostPort: 5353, HostIP: "127.0.0.1"},
							},
							Env: []EnvVar{
								{Name: "LOG_LEVEL", Value: "info"},
								{Name: "POD_NAME", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}},
								{Name: "NODE_NAME", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
								{Name: "FEATURE_FLAGS", ValueFrom: &EnvVarSource{ConfigMapKeyRef: &KeySelector{Name: "checkout-config", Key: "flags.json"}}},
								{Name: "STRIPE_KEY", ValueFrom: &EnvVarSource{SecretKeyRef: &KeySelector{Name: "stripe", Key: "api-key", Optional: optional}}},
							},
							EnvFrom: []EnvFromSource{
								{ConfigMapRef: &NameRef{Name: "checkout-config"}},
								{Prefix: "DB_", SecretRef: &NameRef{Name: "checkout-db"}},
							},
							Resources: ResourceRequirements{
								Requests: ResourceList{ResourceCPU: qty("250m"), ResourceMemory: qty("256Mi")},
								Limits:   ResourceList{ResourceCPU: qty("1"), ResourceMemory: qty("512Mi")},
							},
							VolumeMounts: []VolumeMount{
								{Name: "config", MountPath: "/etc/checkout", ReadOnly: true},
								{Name: "tls", MountPath: "/etc/tls", ReadOnly: true},
								{Name: "scratch", MountPath: "/tmp"},
								{Name: "cache", MountPath: "/var/cache/checkout", SubPath: "checkout"},
								{Name: "host-logs", MountPath: "/var/log/host", ReadOnly: true},
							},
							LivenessProbe:  &Probe{ProbeHandler: httpGet(FromString("http")), InitialDelaySeconds: 5},
							ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromInt(8080)}}, SuccessThreshold: 2},
							StartupProbe:   &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"/bin/checkout", "ping"}}}, FailureThreshold: 30},
						},
						{
							Name: "proxy", Image: "envoyproxy/envoy:v1.30",
							Ports:     []ContainerPort{{Name: "admin", ContainerPort: 9901}},
							Resources: ResourceRequirements{Limits: ResourceList{ResourceCPU: qty("500m"), ResourceMemory: qty("128Mi")}},
						},
					},
					Volumes: []Volume{
						{Name: "config", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{Name: "checkout-config",
							Items: []KeyToPath{{Key: "app.yaml", Path: "app.yaml"}, {Key: "flags.json", Path: "flags/flags.json", Mode: Ptr[int32](0o600)}}}}},
						{Name: "tls", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "checkout-tls", DefaultMode: Ptr[int32](0o400)}}},
						{Name: "scratch", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{Medium: "Memory", SizeLimit: Ptr(qty("64Mi"))}}},
						{Name: "cache", VolumeSource: VolumeSource{Persistent: &PersistentVolumeSource{Name: "checkout-cache"}}},
						{Name: "host-logs", VolumeSource: VolumeSource{HostPath: &HostPathVolumeSource{Path: "/var/log", Type: "Directory"}}},
					},
					TerminationGracePeriodSeconds: Ptr[int64](45),
					NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
					Affinity: &Affinity{
						NodeAffinity: &NodeAffinity{
							RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{NodeSelectorTerms: []NodeSelectorTerm{
								{MatchExpressions: []NodeSelectorRequirement{
									{Key: LabelZone, Operator: SelectorOpIn, Values: []string{"eu-west-1a", "eu-west-1b"}},
									{Key: "cpu-count", Operator: NodeSelectorOpGt, Values: []string{"3"}},
									{Key: "spot", Operator: SelectorOpDoesNotExist},
								}},
								{MatchFields: []NodeSelectorRequirement{{Key: "metadata.name", Operator: SelectorOpIn, Values: []string{"node-7"}}}},
							}},
							PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{
								{Weight: 100, Preference: NodeSelectorTerm{MatchExpressions: []NodeSelectorRequirement{{Key: LabelInstanceType, Operator: SelectorOpNotIn, Values: []string{"t3.small"}}}}},
								{Weight: 1, Preference: NodeSelectorTerm{MatchExpressions: []NodeSelectorRequirement{{Key: "mem-gb", Operator: NodeSelectorOpLt, Values: []string{"-1"}}}}},
							},
						},
						PodAffinity: &PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{
							Weight: 50, PodAffinityTerm: PodAffinityTerm{LabelSelector: &LabelSelector{MatchLabels: map[string]string{"app": "redis"}},
								Namespaces: []string{"shop", "cache"}, TopologyKey: LabelZone},
						}}},
						PodAntiAffinity: &PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{
							LabelSelector: &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpExists}}},
							TopologyKey:   LabelHostname,
						}}},
					},
					Tolerations: []Toleration{
						{Key: "dedicated", Value: "payments", Effect: TaintNoSchedule},
						{Key: TaintNodeUnreachable, Operator: TolerationOpExists, Effect: TaintNoExecute, TolerationSeconds: Ptr[int64](60)},
						{Operator: TolerationOpExists, Effect: TaintPreferNoSchedule},
					},
					TopologySpreadConstraints: []TopologySpreadConstraint{
						{MaxSkew: 1, TopologyKey: LabelZone, WhenUnsatisfiable: DoNotSchedule, LabelSelector: &LabelSelector{MatchLabels: map[string]string{"app": "checkout"}}},
						{MaxSkew: 2, TopologyKey: LabelHostname, WhenUnsatisfiable: ScheduleAnyway},
					},
					Hostname:      "checkout",
					SchedulerName: "default-scheduler",
					Priority:      Ptr[int32](1000),
				},
			},
		},
	}
}

func TestValidateValid(t *testing.T) {
	cases := []struct {
		name string
		obj  Object
	}{
		{"minimal pod", basePod()},
		{"pod name of 63 characters", func() Object { p := basePod(); p.Name = strings.Repeat("a", 63); return p }()},
		{"process-runtime pod with a command and no image", &Pod{
			ObjectMeta: ObjectMeta{Name: "batch", Namespace: "default"},
			Spec:       PodSpec{RestartPolicy: RestartOnFailure, Containers: []Container{{Name: "job", Command: []string{"/usr/bin/backup", "--all"}}}},
		}},
		{"pod bound to a node by a dotted name", func() Object { p := basePod(); p.Spec.NodeName = "node-1.example.com"; return p }()},
		{"pod with a zero grace period", func() Object { p := basePod(); p.Spec.TerminationGracePeriodSeconds = Ptr[int64](0); return p }()},
		{"pod with limits only", func() Object {
			p := basePod()
			p.Spec.Containers[0].Resources.Limits = ResourceList{ResourceCPU: qty("1"), ResourceMemory: qty("1Gi")}
			return p
		}()},
		{"pod with requests equal to limits written differently", func() Object {
			p := basePod()
			p.Spec.Containers[0].Resources = ResourceRequirements{
				Requests: ResourceList{ResourceCPU: qty("1000m"), ResourceMemory: qty("1024Mi")},
				Limits:   ResourceList{ResourceCPU: qty("1"), ResourceMemory: qty("1Gi")},
			}
			return p
		}()},
		{"realistic deployment", realisticDeployment()},
		{"deployment with Recreate strategy", func() Object { d := baseDeployment(); d.Spec.Strategy.Type = RecreateStrategy; return d }()},
		{"deployment with zero surge and one unavailable", func() Object {
			d := baseDeployment()
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: Ptr(FromInt(0)), MaxUnavailable: Ptr(FromInt(1))}
			return d
		}()},
		{"deployment with 100% unavailable", func() Object {
			d := baseDeployment()
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxUnavailable: Ptr(FromString("100%"))}
			return d
		}()},
		{"deployment scaled to zero", func() Object { d := baseDeployment(); d.Spec.Replicas = Ptr[int32](0); return d }()},
		{"replica set", baseReplicaSet()},
		{"ClusterIP service", baseService()},
		{"NodePort service", func() Object {
			s := baseService()
			s.Spec.Type = ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
			return s
		}()},
		{"LoadBalancer service with client IP affinity", func() Object {
			s := baseService()
			s.Spec.Type = ServiceTypeLoadBalancer
			s.Spec.SessionAffinity = SessionAffinityClientIP
			return s
		}()},
		{"headless service without ports", func() Object { s := baseService(); s.Spec.ClusterIP = "None"; s.Spec.Ports = nil; return s }()},
		{"service with a fixed IPv6 cluster IP", func() Object { s := baseService(); s.Spec.ClusterIP = "fd00::10"; return s }()},
		{"service with the same port over TCP and UDP", &Service{
			ObjectMeta: ObjectMeta{Name: "dns", Namespace: "maestro-system"},
			Spec: ServiceSpec{Selector: map[string]string{"app": "dns"}, Ports: []ServicePort{
				{Name: "dns", Port: 53, Protocol: ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: ProtocolTCP},
			}},
		}},
		{"single unnamed service port", &Service{
			ObjectMeta: ObjectMeta{Name: "api", Namespace: "default"},
			Spec:       ServiceSpec{Ports: []ServicePort{{Port: 443, TargetPort: FromInt(8443)}}},
		}},
		{"endpoints", baseEndpoints()},
		{"config map with dotted name and binary data", func() Object {
			c := baseConfigMap()
			c.Name = "nginx.conf"
			c.BinaryData = map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G'}}
			c.Data[".hidden"] = "x"
			c.Data["UPPER_case-1"] = "y"
			return c
		}()},
		{"secret from stringData", &Secret{ObjectMeta: ObjectMeta{Name: "db", Namespace: "default"},
			StringData: map[string]string{"username": "app", "password": "s3cr3t"}}},
		{"autoscaler with defaults", baseAutoscaler()},
		{"autoscaler on memory average value", func() Object {
			a := baseAutoscaler()
			a.Spec.ScaleTargetRef.Kind = "ReplicaSet"
			a.Spec.MinReplicas = Ptr[int32](2)
			a.Spec.Metrics = []MetricSpec{{Resource: ResourceMetricSource{Name: ResourceMemory,
				Target: MetricTarget{Type: AverageValueMetric, AverageValue: Ptr(qty("300Mi"))}}}}
			a.Spec.Behavior = &AutoscalerBehavior{ScaleUp: &ScalingRules{StabilizationWindowSeconds: Ptr[int32](3600)}}
			return a
		}()},
		{"local node pool", baseNodePool()},
		{"ssh node pool", &NodePool{ObjectMeta: ObjectMeta{Name: "metal"}, Spec: NodePoolSpec{
			Provider: ProviderSSH, MinSize: 0, MaxSize: 2, SSH: &SSHPoolConfig{Hosts: []string{"10.0.0.5", "10.0.0.6"}, User: "ops",
				PrivateKeySecretRef: "metal-ssh", HostKeys: []string{"10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx"}},
		}}},
		{"aws node pool with taints and zones", &NodePool{ObjectMeta: ObjectMeta{Name: "gpu"}, Spec: NodePoolSpec{
			Provider: ProviderAWS, MinSize: 0, MaxSize: 10, Size: Ptr[int32](0), MachineType: "g5.xlarge", Autoscaling: true,
			Zones:  []string{"eu-west-1a", "eu-west-1b"},
			Labels: map[string]string{"accelerator": "nvidia"},
			Taints: []Taint{{Key: "nvidia.com/gpu", Effect: TaintNoSchedule}, {Key: "nvidia.com/gpu", Effect: TaintNoExecute}},
			AWS:    &AWSPoolConfig{Region: "eu-west-1", AMI: "ami-0123456789"},
		}}},
		{"gcp node pool", &NodePool{ObjectMeta: ObjectMeta{Name: "gce"}, Spec: NodePoolSpec{
			Provider: ProviderGCP, MinSize: 1, MaxSize: 1, GCP: &GCPPoolConfig{Project: "acme", Image: "debian-12"},
		}}},
		{"machine", baseMachine()},
		{"node with dotted name and taints", baseNode()},
		{"warning event with a dotted name", func() Object { e := baseEvent(); e.Type = EventWarning; return e }()},
		{"namespace", baseNamespace()},
		{"object with owner references and finalizers", func() Object {
			p := basePod()
			p.OwnerReferences = []OwnerReference{{APIVersion: APIVersion, Kind: "ReplicaSet", Name: "web-5d4f8", UID: "3f1c", Controller: Ptr(true)}}
			p.Finalizers = []string{"maestro.dev/protect"}
			p.Annotations = map[string]string{"maestro.dev/note": strings.Repeat("x", 1000)}
			return p
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			Default(tc.obj)
			if errs := Validate(tc.obj); len(errs) > 0 {
				t.Fatalf("valid %s rejected: %v", KindOf(tc.obj).Kind, errs)
			}
		})
	}
}

func TestErrorListError(t *testing.T) {
	errs := ErrorList{
		Required(NewPath("spec").Child("containers"), "a pod needs at least one container"),
		Invalid(NewPath("metadata").Child("name"), "Web", "must be lowercase"),
		NotSupported(NewPath("spec").Child("restartPolicy"), RestartPolicy("Sometimes"), RestartAlways, RestartNever),
	}
	want := `metadata.name: invalid value "Web": must be lowercase; ` +
		`spec.containers: required: a pod needs at least one container; ` +
		`spec.restartPolicy: unsupported value "Sometimes": supported values: "Always", "Never"`
	if got := errs.Error(); got != want {
		t.Errorf("Error() =\n %s\nwant\n %s", got, want)
	}
	if ErrorList(nil).ErrOrNil() != nil {
		t.Error("empty list: ErrOrNil() != nil")
	}
	if errs.ErrOrNil() == nil {
		t.Error("non-empty list: ErrOrNil() == nil")
	}
}

func TestFieldErrorMessages(t *testing.T) {
	p := NewPath("spec").Child("ports").Index(2).Child("name")
	cases := []struct {
		name string
		err  *FieldError
		want string
	}{
		{"required without detail", Required(p, ""), "spec.ports[2].name: required"},
		{"required with detail", Required(p, "when there are several ports"), "spec.ports[2].name: required: when there are several ports"},
		{"invalid string is quoted", Invalid(p, "a b", "no spaces"), `spec.ports[2].name: invalid value "a b": no spaces`},
		{"invalid number is bare", Invalid(p, int32(70000), "too big"), `spec.ports[2].name: invalid value 70000: too big`},
		{"invalid stringer is quoted", Invalid(p, FromInt(80), "bad"), `spec.ports[2].name: invalid value "80": bad`},
		{"invalid nil", Invalid(p, nil, "missing"), `spec.ports[2].name: invalid value null: missing`},
		{"duplicate", Duplicate(p, "http"), `spec.ports[2].name: duplicate value "http"`},
		{"forbidden", Forbidden(p, "not here"), `spec.ports[2].name: forbidden: not here`},
		{"too long", TooLong(p, 15), `spec.ports[2].name: must have at most 15 bytes`},
		{"map key path", Required(NewPath("data").Key("app.conf"), ""), `data["app.conf"]: required`},
		{"child of empty path", Required(Path("").Child("reason"), ""), `reason: required`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
