package api

import (
	"reflect"
	"testing"
	"time"
)

// TestDesiredStateEqual: the API server bumps generation when the desired
// state changes, and only then; metadata and status never count.
func TestDesiredStateEqual(t *testing.T) {
	cases := []struct {
		name   string
		a      Object
		change func(Object)
		equal  bool
	}{
		{"deployment metadata and status", deployment(nil), func(o Object) {
			d := o.(*Deployment)
			d.Labels = map[string]string{"release": "2"}
			d.Annotations = map[string]string{"note": "x"}
			d.ResourceVersion = 99
			d.Generation = 7
			d.Status = DeploymentStatus{Replicas: 3, ObservedGeneration: 6}
		}, true},
		{"deployment type meta", deployment(nil), func(o Object) { o.(*Deployment).APIVersion = "" }, true},
		{"deployment replicas", deployment(nil), func(o Object) { o.(*Deployment).Spec.Replicas = Ptr[int32](4) }, false},
		{"deployment template image", deployment(nil), func(o Object) {
			o.(*Deployment).Spec.Template.Spec.Containers[0].Image = "nginx:1.28"
		}, false},
		{"deployment template labels", deployment(nil), func(o Object) {
			o.(*Deployment).Spec.Template.Labels["track"] = "canary"
		}, false},
		{"deployment paused", deployment(nil), func(o Object) { o.(*Deployment).Spec.Paused = true }, false},
		{"pod status", pod(nil), func(o Object) { o.(*Pod).Status.Phase = PodRunning }, true},
		{"pod binding", pod(nil), func(o Object) { o.(*Pod).Spec.NodeName = "node-1" }, false},
		{"config map labels", configMap(nil), func(o Object) { o.(*ConfigMap).Labels = map[string]string{"a": "b"} }, true},
		{"config map data", configMap(nil), func(o Object) { o.(*ConfigMap).Data["app.conf"] = "listen 9090" }, false},
		{"config map immutability", configMap(nil), func(o Object) { o.(*ConfigMap).Immutable = Ptr(true) }, false},
		{"secret data", secret(nil), func(o Object) { o.(*Secret).Data["password"] = []byte("new") }, false},
		{"endpoints subsets", endpoints(nil), func(o Object) { o.(*Endpoints).Subsets[0].Addresses[0].IP = "10.1.0.9" }, false},
		{"event count", event(nil), func(o Object) { o.(*Event).Count = 2 }, false},
		{"namespace phase", namespace(nil), func(o Object) { o.(*Namespace).Status.Phase = NamespaceTerminating }, true},
		{"node cordoned", node(nil), func(o Object) { o.(*Node).Spec.Unschedulable = true }, false},
		{"node conditions", node(nil), func(o Object) {
			o.(*Node).Status.Conditions = []Condition{{Type: NodeReady, Status: ConditionTrue}}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := clone(t, tc.a)
			if !DesiredStateEqual(tc.a, b) {
				t.Fatal("an object differs from its own copy")
			}
			tc.change(b)
			if got := DesiredStateEqual(tc.a, b); got != tc.equal {
				t.Errorf("DesiredStateEqual = %v, want %v", got, tc.equal)
			}
		})
	}
}

func TestCopyStatus(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	stored := pod(func(p *Pod) {
		p.Spec.NodeName = "node-1"
		p.Status = PodStatus{Phase: PodRunning, PodIP: "10.1.0.4", StartTime: &start,
			Conditions: []Condition{{Type: PodReady, Status: ConditionTrue}}}
	})
	incoming := pod(func(p *Pod) { p.Spec.Containers[0].Image = "nginx:1.28" })
	CopyStatus(incoming, stored)
	if !reflect.DeepEqual(incoming.Status, stored.Status) {
		t.Errorf("status = %+v, want the stored one", incoming.Status)
	}
	if incoming.Spec.Containers[0].Image != "nginx:1.28" || incoming.Spec.NodeName != "" {
		t.Errorf("CopyStatus touched the spec: %+v", incoming.Spec)
	}

	d := deployment(nil)
	CopyStatus(d, deployment(func(d *Deployment) { d.Status.ReadyReplicas = 3 }))
	if d.Status.ReadyReplicas != 3 {
		t.Errorf("deployment status not copied: %+v", d.Status)
	}

	// Kinds without a status are left alone.
	cm := configMap(nil)
	other := configMap(func(c *ConfigMap) { c.Data = map[string]string{"x": "y"} })
	CopyStatus(cm, other)
	if cm.Data["app.conf"] != "listen 8080" || len(cm.Data) != 1 {
		t.Errorf("CopyStatus changed a config map: %v", cm.Data)
	}
}
