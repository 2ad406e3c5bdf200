package api

import (
	"encoding/json"
	"testing"
)

// clone deep-copies a (defaulted) object through JSON, as an update that
// went over the wire would arrive.
func clone[T Object](t *testing.T, obj T) T {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := KindOf(obj).New().(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidateUpdate(t *testing.T) {
	type update struct {
		name string
		old  Object
		// change mutates a copy of old into the new object.
		change func(Object)
		want   []string
	}
	boundPod := pod(func(p *Pod) { p.Spec.NodeName = "node-1" })
	allocated := service(func(s *Service) { s.Spec.ClusterIP = "10.96.0.10" })
	immutableCM := configMap(func(c *ConfigMap) { c.Immutable = Ptr(true) })
	immutableSecret := secret(func(s *Secret) { s.Immutable = Ptr(true) })

	cases := []update{
		// deployments and replica sets: the selector decides which pods
		// they own, so it may not move.
		{"deployment scaled and re-imaged", deployment(nil), func(o Object) {
			d := o.(*Deployment)
			d.Spec.Replicas = Ptr[int32](10)
			d.Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
			d.Labels = map[string]string{"release": "2"}
		}, nil},
		{"deployment selector changed", deployment(nil), func(o Object) {
			o.(*Deployment).Spec.Selector.MatchLabels["tier"] = "web"
		}, []string{"forbidden spec.selector"}},
		{"deployment selector removed", deployment(nil), func(o Object) { o.(*Deployment).Spec.Selector = nil },
			[]string{"forbidden spec.selector"}},
		{"replica set scaled", replicaSet(nil), func(o Object) { o.(*ReplicaSet).Spec.Replicas = Ptr[int32](0) }, nil},
		{"replica set selector changed", replicaSet(nil), func(o Object) {
			o.(*ReplicaSet).Spec.Selector = &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpExists}}}
		}, []string{"forbidden spec.selector"}},

		// pods: only images change, and a pod binds to a node once.
		{"pod image changed", pod(nil), func(o Object) { o.(*Pod).Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"pod bound to a node", pod(nil), func(o Object) { o.(*Pod).Spec.NodeName = "node-1" }, nil},
		{"bound pod re-imaged", boundPod, func(o Object) { o.(*Pod).Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"pod bound and re-imaged at once", pod(nil), func(o Object) {
			p := o.(*Pod)
			p.Spec.NodeName = "node-2"
			p.Spec.Containers[0].Image = "nginx:1.28"
		}, nil},
		{"pod labels and status changed", boundPod, func(o Object) {
			p := o.(*Pod)
			p.Labels["version"] = "2"
			p.Status.Phase = PodRunning
		}, nil},
		{"pod re-bound to another node", boundPod, func(o Object) { o.(*Pod).Spec.NodeName = "node-2" },
			[]string{"forbidden spec.nodeName"}},
		{"pod unbound", boundPod, func(o Object) { o.(*Pod).Spec.NodeName = "" }, []string{"forbidden spec.nodeName"}},
		{"pod env changed", pod(nil), func(o Object) {
			o.(*Pod).Spec.Containers[0].Env = []EnvVar{{Name: "A", Value: "1"}}
		}, []string{"forbidden spec"}},
		{"pod port changed", boundPod, func(o Object) { o.(*Pod).Spec.Containers[0].Ports[0].ContainerPort = 9090 },
			[]string{"forbidden spec"}},
		{"pod restart policy changed", pod(nil), func(o Object) { o.(*Pod).Spec.RestartPolicy = RestartNever },
			[]string{"forbidden spec"}},
		{"pod init container image changed", pod(func(p *Pod) { p.Spec.InitContainers = []Container{sidecar("init")} }), func(o Object) {
			o.(*Pod).Spec.InitContainers[0].Image = "busybox:1.37"
		}, []string{"forbidden spec"}},
		{"pod container added", pod(nil), func(o Object) {
			p := o.(*Pod)
			p.Spec.Containers = append(p.Spec.Containers, sidecar("log"))
		}, []string{"forbidden spec.containers"}},
		{"pod re-bound and changed", boundPod, func(o Object) {
			p := o.(*Pod)
			p.Spec.NodeName = "node-2"
			p.Spec.Hostname = "other"
		}, []string{"forbidden spec.nodeName", "forbidden spec"}},

		// services: a cluster IP is handed out once.
		{"service cluster IP allocated", service(nil), func(o Object) { o.(*Service).Spec.ClusterIP = "10.96.0.10" }, nil},
		{"service ports changed keeping the IP", allocated, func(o Object) {
			o.(*Service).Spec.Ports[0].Port = 8080
		}, nil},
		{"service cluster IP changed", allocated, func(o Object) { o.(*Service).Spec.ClusterIP = "10.96.0.11" },
			[]string{"forbidden spec.clusterIP"}},
		{"service cluster IP cleared", allocated, func(o Object) { o.(*Service).Spec.ClusterIP = "" },
			[]string{"forbidden spec.clusterIP"}},

		// config maps and secrets marked immutable stay as they are.
		{"mutable config map changed", configMap(nil), func(o Object) { o.(*ConfigMap).Data["app.conf"] = "listen 9090" }, nil},
		{"config map made immutable", configMap(nil), func(o Object) { o.(*ConfigMap).Immutable = Ptr(true) }, nil},
		{"immutable config map relabelled", immutableCM, func(o Object) { o.(*ConfigMap).Labels = map[string]string{"a": "b"} }, nil},
		{"immutable config map data changed", immutableCM, func(o Object) { o.(*ConfigMap).Data["app.conf"] = "listen 9090" },
			[]string{"forbidden data"}},
		{"immutable config map binary data added", immutableCM, func(o Object) {
			o.(*ConfigMap).BinaryData = map[string][]byte{"blob": {1}}
		}, []string{"forbidden data"}},
		{"immutable config map made mutable", immutableCM, func(o Object) { o.(*ConfigMap).Immutable = Ptr(false) },
			[]string{"forbidden data"}},
		{"immutable config map flag dropped", immutableCM, func(o Object) { o.(*ConfigMap).Immutable = nil },
			[]string{"forbidden data"}},
		{"mutable secret changed", secret(nil), func(o Object) { o.(*Secret).Data["password"] = []byte("new") }, nil},
		{"immutable secret data changed", immutableSecret, func(o Object) { o.(*Secret).Data["password"] = []byte("new") },
			[]string{"forbidden data"}},
		{"immutable secret made mutable", immutableSecret, func(o Object) { o.(*Secret).Immutable = Ptr(false) },
			[]string{"forbidden data"}},
		{"secret type changed", secret(nil), func(o Object) { o.(*Secret).Type = "maestro.dev/tls" }, []string{"forbidden type"}},

		// machines are replaced, never edited; a pool keeps its provider.
		{"machine relabelled", machine(nil), func(o Object) { o.(*Machine).Labels = map[string]string{"a": "b"} }, nil},
		{"machine zone changed", machine(nil), func(o Object) { o.(*Machine).Spec.Zone = "eu-west-1b" }, []string{"forbidden spec"}},
		{"node pool resized", nodePool(nil), func(o Object) {
			np := o.(*NodePool)
			np.Spec.MaxSize = 10
			np.Spec.Size = Ptr[int32](5)
		}, nil},
		{"node pool provider changed", nodePool(nil), func(o Object) {
			np := o.(*NodePool)
			np.Spec.Provider = ProviderSSH
			np.Spec.SSH = &SSHPoolConfig{Hosts: []string{"10.0.0.1"}}
		}, []string{"forbidden spec.provider"}},
		{"node tainted", node(nil), func(o Object) { o.(*Node).Spec.Unschedulable = true }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := clone(t, tc.old)
			tc.change(next)
			assertErrors(t, ValidateUpdate(tc.old, next), tc.want)
		})
	}
}

// TestValidateUpdateUnchanged: writing back what was read is always allowed.
func TestValidateUpdateUnchanged(t *testing.T) {
	for _, obj := range []Object{
		pod(func(p *Pod) { p.Spec.NodeName = "node-1" }), defaulted(realisticDeployment(), nil), replicaSet(nil),
		service(func(s *Service) { s.Spec.ClusterIP = "10.96.0.1" }),
		configMap(func(c *ConfigMap) { c.Immutable = Ptr(true) }), secret(func(s *Secret) { s.Immutable = Ptr(true) }),
		machine(nil), nodePool(nil), node(nil), event(nil), namespace(nil), endpoints(nil), autoscaler(nil),
		volume(func(v *PersistentVolume) { v.Spec.NodeName, v.Status.NodeName = "node-1", "node-1" }),
	} {
		t.Run(KindOf(obj).Kind, func(t *testing.T) {
			assertErrors(t, ValidateUpdate(obj, clone(t, obj)), nil)
		})
	}
}
