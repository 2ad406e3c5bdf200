package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDefaultPodSpec(t *testing.T) {
	p := &Pod{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: PodSpec{
			InitContainers: []Container{{Name: "init", Image: "busybox"}},
			Containers: []Container{{
				Name: "app", Image: "nginx:1.27",
				Ports: []ContainerPort{{ContainerPort: 80}, {ContainerPort: 53, Protocol: ProtocolUDP}},
				Resources: ResourceRequirements{
					Requests: ResourceList{ResourceCPU: qty("100m")},
					Limits:   ResourceList{ResourceCPU: qty("1"), ResourceMemory: qty("256Mi")},
				},
				LivenessProbe:  &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Port: FromInt(80)}}},
				ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromInt(80)}}, PeriodSeconds: 5, FailureThreshold: 6},
			}},
			Tolerations: []Toleration{{Key: "dedicated", Value: "web"}, {Operator: TolerationOpExists}},
			Volumes: []Volume{
				{Name: "conf", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{Name: "cfg"}}},
				{Name: "creds", VolumeSource: VolumeSource{Secret: &SecretVolumeSource{SecretName: "sec", DefaultMode: Ptr[int32](0o400)}}},
			},
		},
	}
	Default(p)

	if p.Kind != "Pod" || p.APIVersion != APIVersion {
		t.Errorf("type meta = %+v, want Pod %s", p.TypeMeta, APIVersion)
	}
	s := &p.Spec
	if s.RestartPolicy != RestartAlways {
		t.Errorf("restartPolicy = %q, want Always", s.RestartPolicy)
	}
	if s.DNSPolicy != DNSClusterFirst {
		t.Errorf("dnsPolicy = %q, want ClusterFirst", s.DNSPolicy)
	}
	if got := Deref(s.TerminationGracePeriodSeconds, -1); got != 30 {
		t.Errorf("terminationGracePeriodSeconds = %d, want 30", got)
	}
	if got := s.InitContainers[0].ImagePullPolicy; got != PullAlways {
		t.Errorf("init container pull policy = %q, want Always (untagged image)", got)
	}
	c := s.Containers[0]
	if c.ImagePullPolicy != PullIfNotPresent {
		t.Errorf("pull policy = %q, want IfNotPresent (tagged image)", c.ImagePullPolicy)
	}
	if c.Ports[0].Protocol != ProtocolTCP || c.Ports[1].Protocol != ProtocolUDP {
		t.Errorf("port protocols = %q, %q; want TCP and the UDP that was set", c.Ports[0].Protocol, c.Ports[1].Protocol)
	}
	// A limit without a request requests the limit; a request that was set stays.
	if got := c.Resources.Requests[ResourceCPU]; got.Cmp(qty("100m")) != 0 {
		t.Errorf("cpu request = %s, want the 100m that was set", got.String())
	}
	if got := c.Resources.Requests[ResourceMemory]; got.Cmp(qty("256Mi")) != 0 {
		t.Errorf("memory request = %s, want the 256Mi limit", got.String())
	}
	wantLiveness := &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/", Port: FromInt(80), Scheme: "HTTP"}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
	if !reflect.DeepEqual(c.LivenessProbe, wantLiveness) {
		t.Errorf("liveness probe = %+v, want %+v", c.LivenessProbe, wantLiveness)
	}
	wantReadiness := &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: FromInt(80)}},
		TimeoutSeconds: 1, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 6}
	if !reflect.DeepEqual(c.ReadinessProbe, wantReadiness) {
		t.Errorf("readiness probe = %+v, want %+v", c.ReadinessProbe, wantReadiness)
	}
	if c.StartupProbe != nil {
		t.Errorf("startup probe = %+v, want none invented", c.StartupProbe)
	}
	if s.Tolerations[0].Operator != TolerationOpEqual || s.Tolerations[1].Operator != TolerationOpExists {
		t.Errorf("toleration operators = %q, %q; want Equal and the Exists that was set", s.Tolerations[0].Operator, s.Tolerations[1].Operator)
	}
	if got := Deref(s.Volumes[0].ConfigMap.DefaultMode, -1); got != 0o644 {
		t.Errorf("config map volume mode = %o, want 644", got)
	}
	if got := Deref(s.Volumes[1].Secret.DefaultMode, -1); got != 0o400 {
		t.Errorf("secret volume mode = %o, want the 400 that was set", got)
	}
}

// TestDefaultKeepsSetValues: defaulting fills only what is unset; a zero
// that was set on purpose (an immediate kill, zero replicas) stays.
func TestDefaultKeepsSetValues(t *testing.T) {
	p := basePod()
	p.Spec.RestartPolicy = RestartNever
	p.Spec.DNSPolicy = DNSNone
	p.Spec.TerminationGracePeriodSeconds = Ptr[int64](0)
	p.Spec.Containers[0].ImagePullPolicy = PullNever
	Default(p)
	if p.Spec.RestartPolicy != RestartNever || p.Spec.DNSPolicy != DNSNone ||
		Deref(p.Spec.TerminationGracePeriodSeconds, -1) != 0 || p.Spec.Containers[0].ImagePullPolicy != PullNever {
		t.Errorf("set values overwritten: %+v", p.Spec)
	}

	d := baseDeployment()
	d.Spec.Replicas = Ptr[int32](0)
	d.Spec.RevisionHistoryLimit = Ptr[int32](0)
	d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: Ptr(FromInt(0))}
	Default(d)
	if *d.Spec.Replicas != 0 || *d.Spec.RevisionHistoryLimit != 0 {
		t.Errorf("replicas = %d, revisionHistoryLimit = %d; want the zeros that were set", *d.Spec.Replicas, *d.Spec.RevisionHistoryLimit)
	}
	if ru := d.Spec.Strategy.RollingUpdate; *ru.MaxSurge != FromInt(0) || *ru.MaxUnavailable != FromString("25%") {
		t.Errorf("rolling update = %v/%v, want maxSurge 0 kept and maxUnavailable 25%%", ru.MaxSurge, ru.MaxUnavailable)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	cases := []struct {
		image string
		want  PullPolicy
	}{
		{"nginx", PullAlways},
		{"nginx:latest", PullAlways},
		{"library/nginx:latest", PullAlways},
		{"nginx:1.27", PullIfNotPresent},
		{"nginx:1.27-alpine", PullIfNotPresent},
		{"registry.local:5000/nginx", PullAlways},
		{"registry.local:5000/team/nginx:latest", PullAlways},
		{"registry.local:5000/team/nginx:v2", PullIfNotPresent},
		{"nginx@sha256:0123456789abcdef", PullIfNotPresent},
		{"nginx:latest@sha256:0123456789abcdef", PullIfNotPresent},
		{"registry.local:5000/nginx@sha256:0123456789abcdef", PullIfNotPresent},
		{"", PullNever}, // a process-runtime container pulls nothing
	}
	for _, tc := range cases {
		t.Run(tc.image, func(t *testing.T) {
			p := basePod()
			p.Spec.Containers[0].Image = tc.image
			p.Spec.Containers[0].Command = []string{"/bin/true"}
			Default(p)
			if got := p.Spec.Containers[0].ImagePullPolicy; got != tc.want {
				t.Errorf("pull policy of %q = %q, want %q", tc.image, got, tc.want)
			}
		})
	}
}

func TestDefaultService(t *testing.T) {
	s := &Service{
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ServiceSpec{Ports: []ServicePort{
			{Name: "http", Port: 80},
			{Name: "admin", Port: 9000, TargetPort: FromString("admin")},
			{Name: "dns", Port: 53, Protocol: ProtocolUDP, TargetPort: FromInt(5353)},
		}},
	}
	Default(s)
	if s.Spec.Type != ServiceTypeClusterIP || s.Spec.SessionAffinity != SessionAffinityNone {
		t.Errorf("type = %q, sessionAffinity = %q; want ClusterIP, None", s.Spec.Type, s.Spec.SessionAffinity)
	}
	want := []ServicePort{
		{Name: "http", Port: 80, Protocol: ProtocolTCP, TargetPort: FromInt(80)},
		{Name: "admin", Port: 9000, Protocol: ProtocolTCP, TargetPort: FromString("admin")},
		{Name: "dns", Port: 53, Protocol: ProtocolUDP, TargetPort: FromInt(5353)},
	}
	if !reflect.DeepEqual(s.Spec.Ports, want) {
		t.Errorf("ports = %+v\nwant %+v", s.Spec.Ports, want)
	}
	if s.Spec.ClusterIP != "" {
		t.Errorf("clusterIP = %q; defaulting must leave allocation to the server", s.Spec.ClusterIP)
	}
}

func TestDefaultDeployment(t *testing.T) {
	d := baseDeployment()
	d.Spec.Replicas = nil
	Default(d)
	s := d.Spec
	if Deref(s.Replicas, -1) != 1 {
		t.Errorf("replicas = %v, want 1", s.Replicas)
	}
	if s.Strategy.Type != RollingUpdateStrategy || s.Strategy.RollingUpdate == nil {
		t.Fatalf("strategy = %+v, want RollingUpdate", s.Strategy)
	}
	if got := *s.Strategy.RollingUpdate.MaxSurge; got != FromString("25%") {
		t.Errorf("maxSurge = %v, want 25%%", got)
	}
	if got := *s.Strategy.RollingUpdate.MaxUnavailable; got != FromString("25%") {
		t.Errorf("maxUnavailable = %v, want 25%%", got)
	}
	if Deref(s.RevisionHistoryLimit, -1) != 10 {
		t.Errorf("revisionHistoryLimit = %v, want 10", s.RevisionHistoryLimit)
	}
	if Deref(s.ProgressDeadlineSeconds, -1) != 600 {
		t.Errorf("progressDeadlineSeconds = %v, want 600", s.ProgressDeadlineSeconds)
	}
	if s.Template.Spec.RestartPolicy != RestartAlways || s.Template.Spec.Containers[0].ImagePullPolicy != PullIfNotPresent {
		t.Errorf("template not defaulted: %+v", s.Template.Spec)
	}

	r := baseDeployment()
	r.Spec.Strategy.Type = RecreateStrategy
	Default(r)
	if r.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate got rollingUpdate %+v; it would then fail validation", r.Spec.Strategy.RollingUpdate)
	}
}

func TestDefaultOtherKinds(t *testing.T) {
	rs := baseReplicaSet()
	rs.Spec.Replicas = nil
	Default(rs)
	if Deref(rs.Spec.Replicas, -1) != 1 || rs.Spec.Template.Spec.DNSPolicy != DNSClusterFirst {
		t.Errorf("replica set: replicas %v, template dnsPolicy %q", rs.Spec.Replicas, rs.Spec.Template.Spec.DNSPolicy)
	}

	sec := &Secret{
		ObjectMeta: ObjectMeta{Name: "db", Namespace: "default"},
		Data:       map[string][]byte{"user": []byte("old"), "host": []byte("db")},
		StringData: map[string]string{"user": "app", "password": "pw"},
	}
	Default(sec)
	wantData := map[string][]byte{"user": []byte("app"), "host": []byte("db"), "password": []byte("pw")}
	if !reflect.DeepEqual(sec.Data, wantData) || sec.StringData != nil || sec.Type != SecretTypeOpaque {
		t.Errorf("secret = data %q, stringData %v, type %q; want stringData folded over data and cleared, Opaque",
			sec.Data, sec.StringData, sec.Type)
	}
	onlyString := &Secret{ObjectMeta: ObjectMeta{Name: "s", Namespace: "default"}, StringData: map[string]string{"k": "v"}}
	Default(onlyString)
	if string(onlyString.Data["k"]) != "v" || onlyString.StringData != nil {
		t.Errorf("secret with only stringData: data %q, stringData %v", onlyString.Data, onlyString.StringData)
	}

	a := baseAutoscaler()
	Default(a)
	if Deref(a.Spec.MinReplicas, -1) != 1 {
		t.Errorf("autoscaler minReplicas = %v, want 1", a.Spec.MinReplicas)
	}
	wantMetrics := []MetricSpec{{Resource: ResourceMetricSource{Name: ResourceCPU,
		Target: MetricTarget{Type: UtilizationMetric, AverageUtilization: Ptr[int32](80)}}}}
	if !reflect.DeepEqual(a.Spec.Metrics, wantMetrics) {
		t.Errorf("autoscaler metrics = %+v, want cpu at 80%%", a.Spec.Metrics)
	}
	if b := a.Spec.Behavior; Deref(b.ScaleDown.StabilizationWindowSeconds, -1) != 300 || Deref(b.ScaleUp.StabilizationWindowSeconds, -1) != 0 {
		t.Errorf("autoscaler windows = down %v, up %v; want 300, 0", b.ScaleDown.StabilizationWindowSeconds, b.ScaleUp.StabilizationWindowSeconds)
	}
	wantUp := []ScalingPolicy{{Type: PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}
	wantDown := []ScalingPolicy{{Type: PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}
	if b := a.Spec.Behavior; !reflect.DeepEqual(b.ScaleUp.Policies, wantUp) || !reflect.DeepEqual(b.ScaleDown.Policies, wantDown) ||
		Deref(b.ScaleUp.SelectPolicy, "") != MaxChangePolicySelect || Deref(b.ScaleDown.SelectPolicy, "") != MaxChangePolicySelect {
		t.Errorf("autoscaler policies = up %+v (%v), down %+v (%v); want Kubernetes' (4 pods or 100 %% per 15 s up, 100 %% down, Max)",
			b.ScaleUp.Policies, b.ScaleUp.SelectPolicy, b.ScaleDown.Policies, b.ScaleDown.SelectPolicy)
	}

	np := baseNodePool()
	np.Spec.MinSize = 2
	Default(np)
	if Deref(np.Spec.Size, -1) != 2 {
		t.Errorf("node pool size = %v, want minSize 2", np.Spec.Size)
	}

	ev := baseEvent()
	Default(ev)
	if ev.Type != EventNormal || ev.Count != 1 {
		t.Errorf("event type %q count %d, want Normal 1", ev.Type, ev.Count)
	}

	ep := baseEndpoints()
	Default(ep)
	if ep.Subsets[0].Ports[0].Protocol != ProtocolTCP {
		t.Errorf("endpoint port protocol = %q, want TCP", ep.Subsets[0].Ports[0].Protocol)
	}

	ns := baseNamespace()
	Default(ns)
	if ns.Status.Phase != NamespaceActive {
		t.Errorf("namespace phase = %q, want Active", ns.Status.Phase)
	}
}

// TestDefaultIdempotent: the API server defaults on every write, so a
// defaulted object read back and written again must not change.
func TestDefaultIdempotent(t *testing.T) {
	objs := []Object{
		basePod(), realisticDeployment(), baseDeployment(), baseReplicaSet(), baseService(),
		baseConfigMap(), baseAutoscaler(), baseNodePool(), baseMachine(), baseNode(), baseEvent(),
		baseNamespace(), baseEndpoints(), baseVolume(),
		&Secret{ObjectMeta: ObjectMeta{Name: "s", Namespace: "default"}, StringData: map[string]string{"k": "v"}},
		&Deployment{ObjectMeta: ObjectMeta{Name: "recreate", Namespace: "default"}, Spec: DeploymentSpec{
			Strategy: DeploymentStrategy{Type: RecreateStrategy}, Template: baseTemplate()}},
	}
	for _, obj := range objs {
		t.Run(KindOf(obj).Kind+"/"+obj.GetObjectMeta().Name, func(t *testing.T) {
			Default(obj)
			once, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			Default(obj)
			twice, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			if string(once) != string(twice) {
				t.Errorf("second Default changed the object:\n once  %s\n twice %s", once, twice)
			}
			// A defaulted object that went over the wire defaults to itself too.
			back := KindOf(obj).New()
			if err := json.Unmarshal(once, back); err != nil {
				t.Fatal(err)
			}
			Default(back)
			again, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if string(once) != string(again) {
				t.Errorf("defaulting a decoded object changed it:\n sent  %s\n after %s", once, again)
			}
		})
	}
}

func TestSetTypeMeta(t *testing.T) {
	for _, k := range Kinds {
		obj := k.New()
		SetTypeMeta(obj)
		if tm := obj.GetTypeMeta(); tm.Kind != k.Kind || tm.APIVersion != APIVersion {
			t.Errorf("%s: type meta = %+v", k.Kind, *tm)
		}
	}
}
