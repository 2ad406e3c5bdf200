package apitest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// samples builds a fresh sample of each kind, by kind name.
var samples = map[string]func() api.Object{
	"Namespace":  namespace,
	"Node":       node,
	"NodePool":   nodePool,
	"Machine":    machine,
	"Pod":        pod,
	"ReplicaSet": replicaSet,
	"Deployment": deployment,
	"Service":    service,
	"Endpoints":  endpoints,
	"ConfigMap":  configMap,
	"Secret":     secret,
	"Volume":     volume,
	"Autoscaler": autoscaler,
	"Event":      event,
}

// Sample returns a new valid object of the kind, or an error naming a
// kind that has no sample.
func Sample(kind *api.KindInfo) (api.Object, error) {
	mk, ok := samples[kind.Kind]
	if !ok {
		return nil, fmt.Errorf("apitest: no sample %s: add one to samples.go", kind.Kind)
	}
	obj := mk()
	api.SetTypeMeta(obj)
	return obj, nil
}

// SampleJSON is the JSON a client would send to create the kind's sample.
func SampleJSON(kind *api.KindInfo) ([]byte, error) {
	obj, err := Sample(kind)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("apitest: encoding the %s sample: %w", kind.Kind, err)
	}
	return b, nil
}

var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func qty(s string) resource.Quantity { return resource.MustParse(s) }

func meta(name, namespace string) api.ObjectMeta {
	return api.ObjectMeta{
		Name: name, Namespace: namespace,
		Labels:      map[string]string{"app": "web", "maestro.dev/tier": "frontend"},
		Annotations: map[string]string{"note": "sample, with \"quotes\" and ünïcode"},
	}
}

func namespace() api.Object {
	return &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "team-a", Labels: map[string]string{"team": "a"}}}
}

func node() api.Object {
	return &api.Node{
		ObjectMeta: api.ObjectMeta{Name: "node-1.example.com", Labels: map[string]string{api.LabelZone: "zone-a"}},
		Spec: api.NodeSpec{
			Taints:  []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintNoSchedule}},
			PodCIDR: "10.244.1.0/24",
		},
		Status: api.NodeStatus{
			Capacity:    api.ResourceList{api.ResourceCPU: qty("4"), api.ResourceMemory: qty("8Gi"), api.ResourcePods: qty("110")},
			Allocatable: api.ResourceList{api.ResourceCPU: qty("3800m"), api.ResourceMemory: qty("7Gi"), api.ResourcePods: qty("110")},
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue, Reason: "AgentReady",
				LastTransitionTime: created, LastHeartbeatTime: created}},
			Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: "192.168.1.10"}, {Type: api.NodeHostName, Address: "node-1"}},
			NodeInfo:  api.NodeSystemInfo{AgentVersion: "v0.1.0", Runtime: "docker://27.0", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
}

func nodePool() api.Object {
	return &api.NodePool{
		ObjectMeta: api.ObjectMeta{Name: "pool-a"},
		Spec: api.NodePoolSpec{
			Provider: api.ProviderSSH, MinSize: 1, MaxSize: 3, Size: api.Ptr[int32](2), MachineType: "small",
			Zones:  []string{"zone-a", "zone-b"},
			Labels: map[string]string{"pool": "a"},
			Taints: []api.Taint{{Key: "pool", Value: "a", Effect: api.TaintPreferNoSchedule}},
			SSH: &api.SSHPoolConfig{Hosts: []string{"192.168.1.20", "host-b.example.com"}, User: "root", Port: 22,
				PrivateKeySecretRef: "metal-ssh", HostKeys: []string{"192.168.1.20 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx"}},
		},
	}
}

func machine() api.Object {
	return &api.Machine{
		ObjectMeta: api.ObjectMeta{Name: "pool-a-x7k2p", Labels: map[string]string{"pool": "a"}},
		Spec:       api.MachineSpec{Pool: "pool-a", Provider: api.ProviderSSH, MachineType: "small", Zone: "zone-a", Host: "192.168.1.20"},
	}
}

func optional() *bool { return api.Ptr(true) }

func podSpec() api.PodSpec {
	probe := &api.Probe{
		ProbeHandler:   api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/healthz", Port: api.FromString("http"), Scheme: "HTTP"}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3, InitialDelaySeconds: 2,
	}
	return api.PodSpec{
		InitContainers: []api.Container{{Name: "migrate", Image: "busybox:1.36", Command: []string{"sh", "-c", "echo ok"}}},
		Containers: []api.Container{{
			Name: "app", Image: "nginx:1.27", Args: []string{"-g", "daemon off;"}, WorkingDir: "/srv",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: api.ProtocolTCP}},
			Env: []api.EnvVar{
				{Name: "MODE", Value: "prod"},
				{Name: "LEVEL", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.KeySelector{Name: "web-config", Key: "level", Optional: optional()}}},
				{Name: "PASSWORD", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.KeySelector{Name: "web-secret", Key: "password"}}},
				{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
			EnvFrom: []api.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &api.NameRef{Name: "web-config"}}},
			Resources: api.ResourceRequirements{
				Requests: api.ResourceList{api.ResourceCPU: qty("250m"), api.ResourceMemory: qty("64Mi")},
				Limits:   api.ResourceList{api.ResourceCPU: qty("1"), api.ResourceMemory: qty("128Mi")},
			},
			VolumeMounts: []api.VolumeMount{
				{Name: "cache", MountPath: "/cache"},
				{Name: "config", MountPath: "/etc/web", ReadOnly: true},
				{Name: "data", MountPath: "/data", SubPath: "web"},
			},
			LivenessProbe:   probe,
			ReadinessProbe:  &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(8080)}}, TimeoutSeconds: 1, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3},
			ImagePullPolicy: api.PullIfNotPresent,
		}},
		Volumes: []api.Volume{
			{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{SizeLimit: api.Ptr(qty("1Gi"))}}},
			{Name: "config", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "web-config",
				Items: []api.KeyToPath{{Key: "app.conf", Path: "app.conf", Mode: api.Ptr[int32](0o644)}}}}},
			{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: "data"}}},
		},
		RestartPolicy:                 api.RestartAlways,
		TerminationGracePeriodSeconds: api.Ptr[int64](30),
		NodeSelector:                  map[string]string{api.LabelZone: "zone-a"},
		Affinity: &api.Affinity{
			NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
				NodeSelectorTerms: []api.NodeSelectorTerm{{MatchExpressions: []api.NodeSelectorRequirement{
					{Key: "disk", Operator: "In", Values: []string{"ssd"}}}}}}},
			PodAntiAffinity: &api.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []api.WeightedPodAffinityTerm{{
				Weight: 50, PodAffinityTerm: api.PodAffinityTerm{TopologyKey: api.LabelHostname,
					LabelSelector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}},
		},
		Tolerations: []api.Toleration{{Key: "dedicated", Operator: api.TolerationOpEqual, Value: "gpu", Effect: api.TaintNoSchedule},
			{Key: api.TaintNodeUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: api.Ptr[int64](60)}},
		TopologySpreadConstraints: []api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: api.LabelZone, WhenUnsatisfiable: api.ScheduleAnyway,
			LabelSelector: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: api.SelectorOpIn, Values: []string{"web"}}}}}},
		Priority: api.Ptr[int32](100),
	}
}

func template() api.PodTemplateSpec {
	return api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: podSpec()}
}

func pod() api.Object {
	return &api.Pod{ObjectMeta: meta("web", "default"), Spec: podSpec()}
}

func replicaSet() api.Object {
	return &api.ReplicaSet{
		ObjectMeta: meta("web-5d4f8", "default"),
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](2), MinReadySeconds: 5,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: template()},
	}
}

func deployment() api.Object {
	surge := api.FromString("25%")
	return &api.Deployment{
		ObjectMeta: meta("web", "default"),
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr[int32](3),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []api.LabelSelectorRequirement{{Key: "track", Operator: api.SelectorOpDoesNotExist}}},
			Template:             template(),
			Strategy:             api.DeploymentStrategy{Type: api.RollingUpdateStrategy, RollingUpdate: &api.RollingUpdateDeployment{MaxUnavailable: api.Ptr(api.FromInt(1)), MaxSurge: &surge}},
			RevisionHistoryLimit: api.Ptr[int32](5), ProgressDeadlineSeconds: api.Ptr[int32](600),
		},
	}
}

func service() api.Object {
	return &api.Service{
		ObjectMeta: meta("web", "default"),
		Spec: api.ServiceSpec{
			Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": "web"}, SessionAffinity: api.SessionAffinityClientIP,
			Ports: []api.ServicePort{
				{Name: "http", Protocol: api.ProtocolTCP, Port: 80, TargetPort: api.FromString("http")},
				{Name: "dns", Protocol: api.ProtocolUDP, Port: 53, TargetPort: api.FromInt(5353)},
			},
		},
	}
}

func endpoints() api.Object {
	return &api.Endpoints{
		ObjectMeta: meta("web", "default"),
		Subsets: []api.EndpointSubset{{
			Addresses: []api.EndpointAddress{{IP: "10.244.1.4", NodeName: "node-1",
				TargetRef: &api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-5d4f8-abcde", UID: "0b6c6a9e-1f3c-4c55-9d0e-6a1f0e0b7c11"}}},
			NotReadyAddresses: []api.EndpointAddress{{IP: "10.244.2.7", NodeName: "node-2"}},
			Ports:             []api.EndpointPort{{Name: "http", Port: 8080, Protocol: api.ProtocolTCP}},
		}},
	}
}

func configMap() api.Object {
	return &api.ConfigMap{
		ObjectMeta: meta("web-config", "default"),
		Data:       map[string]string{"app.conf": "listen 8080\n", "level": "info"},
		BinaryData: map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G', 0, 0xff}},
	}
}

func secret() api.Object {
	return &api.Secret{
		ObjectMeta: meta("web-secret", "default"),
		Type:       api.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("hunter2")},
		StringData: map[string]string{"user": "admin"},
	}
}

func volume() api.Object {
	return &api.PersistentVolume{
		ObjectMeta: meta("data", "default"),
		Spec:       api.PersistentVolumeSpec{ReclaimPolicy: api.ReclaimRetain, NodeName: "node-1"},
	}
}

func autoscaler() api.Object {
	return &api.Autoscaler{
		ObjectMeta: meta("web", "default"),
		Spec: api.AutoscalerSpec{
			ScaleTargetRef: api.ScaleTargetRef{Kind: "Deployment", Name: "web"},
			MinReplicas:    api.Ptr[int32](2), MaxReplicas: 10,
			Metrics: []api.MetricSpec{
				{Resource: api.ResourceMetricSource{Name: api.ResourceCPU, Target: api.MetricTarget{Type: api.UtilizationMetric, AverageUtilization: api.Ptr[int32](70)}}},
				{Resource: api.ResourceMetricSource{Name: api.ResourceMemory, Target: api.MetricTarget{Type: api.AverageValueMetric, AverageValue: api.Ptr(qty("100Mi"))}}},
			},
			Behavior: &api.AutoscalerBehavior{ScaleDown: &api.ScalingRules{StabilizationWindowSeconds: api.Ptr[int32](300)}},
		},
	}
}

func event() api.Object {
	return &api.Event{
		ObjectMeta:     api.ObjectMeta{Name: "web.17a2b3c4d5e6f", Namespace: "default"},
		InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "0b6c6a9e-1f3c-4c55-9d0e-6a1f0e0b7c11"},
		Reason:         "Scheduled", Message: "assigned default/web to node-1", Type: "Normal", Count: 2,
		FirstTimestamp: created, LastTimestamp: created.Add(time.Minute),
	}
}
