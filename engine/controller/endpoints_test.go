package controller

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/simnode"
)

// epTestPod is a pod in namespace "ns" labelled app=web on node n1, with
// the given IP and readiness.
func epTestPod(name, ip string, ready bool, mut ...func(*api.Pod)) *api.Pod {
	p := ctlPod("ns", name, "n1", map[string]string{"app": "web"})
	p.UID = "uid-" + name
	p.Status = api.PodStatus{Phase: api.PodRunning, PodIP: ip}
	status := api.ConditionFalse
	if ready {
		status = api.ConditionTrue
	}
	p.Status.Conditions = []api.Condition{{Type: api.PodReady, Status: status}}
	for _, m := range mut {
		m(p)
	}
	return p
}

func epAddr(name, ip string) api.EndpointAddress {
	return api.EndpointAddress{IP: ip, NodeName: "n1",
		TargetRef: &api.ObjectReference{Kind: "Pod", Namespace: "ns", Name: name, UID: "uid-" + name}}
}

func epService(ports ...api.ServicePort) *api.Service {
	return &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec:       api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports},
	}
}

func TestEndpointSubsetsFor(t *testing.T) {
	httpPort := api.ServicePort{Name: "http", Port: 80, Protocol: api.ProtocolTCP, TargetPort: api.FromString("http")}
	numeric := api.ServicePort{Name: "metrics", Port: 9090, Protocol: api.ProtocolTCP, TargetPort: api.FromInt(9091)}
	epHTTP := func(port int32) api.EndpointPort {
		return api.EndpointPort{Name: "http", Port: port, Protocol: api.ProtocolTCP}
	}
	epMetrics := api.EndpointPort{Name: "metrics", Port: 9091, Protocol: api.ProtocolTCP}
	withHTTPPort := func(port int32) func(*api.Pod) {
		return func(p *api.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = port }
	}
	terminating := func(p *api.Pod) { p.DeletionTimestamp = &time.Time{} }

	tests := []struct {
		name string
		svc  *api.Service
		pods []*api.Pod
		want []api.EndpointSubset
	}{
		{
			name: "ready, unready and terminating pods",
			svc:  epService(httpPort),
			pods: []*api.Pod{
				epTestPod("a", "10.0.0.1", true),
				epTestPod("b", "10.0.0.2", false),
				epTestPod("c", "10.0.0.3", true, terminating),
			},
			want: []api.EndpointSubset{{
				Addresses:         []api.EndpointAddress{epAddr("a", "10.0.0.1")},
				NotReadyAddresses: []api.EndpointAddress{epAddr("b", "10.0.0.2"), epAddr("c", "10.0.0.3")},
				Ports:             []api.EndpointPort{epHTTP(8080)},
			}},
		},
		{
			name: "pods without an IP, finished, unselected or elsewhere are left out",
			svc:  epService(httpPort),
			pods: []*api.Pod{
				epTestPod("no-ip", "", true),
				epTestPod("done", "10.0.0.2", false, func(p *api.Pod) { p.Status.Phase = api.PodSucceeded }),
				epTestPod("other-app", "10.0.0.3", true, func(p *api.Pod) { p.Labels = map[string]string{"app": "db"} }),
				epTestPod("other-ns", "10.0.0.4", true, func(p *api.Pod) { p.Namespace = "elsewhere" }),
				epTestPod("ok", "10.0.0.5", true),
			},
			want: []api.EndpointSubset{{Addresses: []api.EndpointAddress{epAddr("ok", "10.0.0.5")}, Ports: []api.EndpointPort{epHTTP(8080)}}},
		},
		{
			name: "no pods: no subsets",
			svc:  epService(httpPort),
			want: nil,
		},
		{
			name: "named target port resolved per pod, grouped by port set",
			svc:  epService(httpPort, numeric),
			pods: []*api.Pod{
				epTestPod("a", "10.0.0.1", true),
				epTestPod("b", "10.0.0.2", true, withHTTPPort(8081)),
				epTestPod("c", "10.0.0.3", false),
				// No container port named http: only the numeric port.
				epTestPod("d", "10.0.0.4", true, func(p *api.Pod) { p.Spec.Containers[0].Ports = nil }),
				// A UDP port of that name does not serve a TCP service port.
				epTestPod("e", "10.0.0.5", true, func(p *api.Pod) { p.Spec.Containers[0].Ports[0].Protocol = api.ProtocolUDP }),
			},
			want: []api.EndpointSubset{
				{
					Addresses:         []api.EndpointAddress{epAddr("a", "10.0.0.1")},
					NotReadyAddresses: []api.EndpointAddress{epAddr("c", "10.0.0.3")},
					Ports:             []api.EndpointPort{epHTTP(8080), epMetrics},
				},
				{Addresses: []api.EndpointAddress{epAddr("b", "10.0.0.2")}, Ports: []api.EndpointPort{epHTTP(8081), epMetrics}},
				{Addresses: []api.EndpointAddress{epAddr("d", "10.0.0.4"), epAddr("e", "10.0.0.5")}, Ports: []api.EndpointPort{epMetrics}},
			},
		},
		{
			name: "pods serving none of the ports are left out",
			svc:  epService(httpPort),
			pods: []*api.Pod{epTestPod("a", "10.0.0.1", true, func(p *api.Pod) { p.Spec.Containers[0].Ports = nil })},
			want: nil,
		},
		{
			name: "unset target port is the service port",
			svc:  epService(api.ServicePort{Port: 80}),
			pods: []*api.Pod{epTestPod("a", "10.0.0.1", true)},
			want: []api.EndpointSubset{{Addresses: []api.EndpointAddress{epAddr("a", "10.0.0.1")},
				Ports: []api.EndpointPort{{Port: 80, Protocol: api.ProtocolTCP}}}},
		},
		{
			name: "service without ports lists addresses without ports",
			svc:  epService(),
			pods: []*api.Pod{epTestPod("a", "10.0.0.1", true)},
			want: []api.EndpointSubset{{Addresses: []api.EndpointAddress{epAddr("a", "10.0.0.1")}}},
		},
		{
			name: "addresses sorted numerically by IP",
			svc:  epService(httpPort),
			pods: []*api.Pod{
				epTestPod("p10", "10.0.0.10", true),
				epTestPod("p9", "10.0.0.9", true),
				epTestPod("p100", "10.0.0.100", true),
				epTestPod("v6", "fd00::1", true),
				epTestPod("p2", "10.0.0.2", true),
			},
			want: []api.EndpointSubset{{Addresses: []api.EndpointAddress{
				epAddr("p2", "10.0.0.2"), epAddr("p9", "10.0.0.9"), epAddr("p10", "10.0.0.10"),
				epAddr("p100", "10.0.0.100"), epAddr("v6", "fd00::1"),
			}, Ports: []api.EndpointPort{epHTTP(8080)}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EndpointSubsetsFor(tt.svc, tt.pods)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("subsets:\n got %s\nwant %s", epJSON(got), epJSON(tt.want))
			}
			// Canonical: any pod order gives the same value.
			reversed := slices.Clone(tt.pods)
			slices.Reverse(reversed)
			if again := EndpointSubsetsFor(tt.svc, reversed); !reflect.DeepEqual(again, got) {
				t.Fatalf("pod order changed the result:\n%s\n%s", epJSON(got), epJSON(again))
			}
			// What the API stores and returns compares equal, so an
			// unchanged state is never written again.
			stored := &api.Endpoints{Subsets: got}
			var decoded api.Endpoints
			b, _ := json.Marshal(stored)
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatal(err)
			}
			api.Default(&decoded)
			if !epUpToDate(&decoded, &api.Endpoints{Subsets: got}) {
				t.Fatalf("round trip through JSON is not up to date: %s", epJSON(decoded.Subsets))
			}
		})
	}
}

func epJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// epAddresses lists the IPs (ready, not ready) of the endpoints of a service.
func epAddresses(cl *ctlCluster, ns, name string) (ready, notReady []string, exists bool) {
	e, err := cl.c.Endpoints(ns).Get(cl.ctx, name)
	if err != nil {
		return nil, nil, false
	}
	for _, s := range e.Subsets {
		for _, a := range s.Addresses {
			ready = append(ready, a.TargetRef.Name)
		}
		for _, a := range s.NotReadyAddresses {
			notReady = append(notReady, a.TargetRef.Name)
		}
	}
	slices.Sort(ready)
	slices.Sort(notReady)
	return ready, notReady, true
}

func TestEndpointsControllerIntegration(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t, simnode.NodeSpec{Name: "ep-a", Zone: "a"})
	d := cl.deps(Config{})
	cl.run(t, d, NewEndpointsController(d))
	ns := api.NamespaceDefault
	svcs, pods := cl.c.Services(ns), cl.c.Pods(ns)

	web := map[string]string{"app": "web"}
	ctlMust(svcs.Create(cl.ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"}, Spec: api.ServiceSpec{
		Selector: web,
		Ports: []api.ServicePort{
			{Name: "http", Port: 80, TargetPort: api.FromString("http")},
			{Name: "admin", Port: 81, TargetPort: api.FromInt(9000)},
		},
	}}))(t)
	for _, name := range []string{"web-1", "web-2", "web-3"} {
		ctlMust(pods.Create(cl.ctx, ctlPod(ns, name, "ep-a", web)))(t)
	}
	// A pod of another app never shows up.
	ctlMust(pods.Create(cl.ctx, ctlPod(ns, "db-1", "ep-a", map[string]string{"app": "db"})))(t)

	want := func(wantReady, wantNotReady []string) func() (bool, string) {
		return func() (bool, string) {
			ready, notReady, _ := epAddresses(cl, ns, "web")
			return slices.Equal(ready, wantReady) && slices.Equal(notReady, wantNotReady), fmt.Sprintf("ready %v, not ready %v", ready, notReady)
		}
	}
	ctlWait(t, 10*time.Second, "3 ready addresses", want([]string{"web-1", "web-2", "web-3"}, nil))

	e := ctlMust(cl.c.Endpoints(ns).Get(cl.ctx, "web"))(t)
	if len(e.Subsets) != 1 || !reflect.DeepEqual(e.Subsets[0].Ports, []api.EndpointPort{
		{Name: "admin", Port: 9000, Protocol: api.ProtocolTCP}, {Name: "http", Port: 8080, Protocol: api.ProtocolTCP},
	}) {
		t.Fatalf("named target port not resolved: %s", epJSON(e.Subsets))
	}
	for _, a := range e.Subsets[0].Addresses {
		if a.NodeName != "ep-a" || a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.TargetRef.UID == "" {
			t.Fatalf("address without node or target: %+v", a)
		}
	}

	// An unready pod leaves addresses within a second.
	p := ctlMust(pods.Get(cl.ctx, "web-2"))(t)
	p.Annotations = map[string]string{simnode.AnnotationReady: "false"}
	ctlMust(pods.Update(cl.ctx, p))(t)
	ctlWait(t, time.Second, "web-2 not ready", want([]string{"web-1", "web-3"}, []string{"web-2"}))

	// A deleted pod is gone.
	if err := pods.Delete(cl.ctx, "web-3"); err != nil {
		t.Fatal(err)
	}
	ctlWait(t, 2*time.Second, "web-3 gone", want([]string{"web-1"}, []string{"web-2"}))

	// A selectorless service's endpoints are the user's.
	ctlMust(svcs.Create(cl.ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "manual"},
		Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 5432}}}}))(t)
	manual := &api.Endpoints{ObjectMeta: api.ObjectMeta{Name: "manual"}, Subsets: []api.EndpointSubset{{
		Addresses: []api.EndpointAddress{{IP: "192.168.1.10"}}, Ports: []api.EndpointPort{{Port: 5432}}}}}
	manual = ctlMust(cl.c.Endpoints(ns).Create(cl.ctx, manual))(t)

	// A deleted service takes its endpoints along.
	if err := svcs.Delete(cl.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	ctlWait(t, 2*time.Second, "endpoints of the deleted service gone", func() (bool, string) {
		_, err := cl.c.Endpoints(ns).Get(cl.ctx, "web")
		return ctlGone(t, err), fmt.Sprint(err)
	})
	got := ctlMust(cl.c.Endpoints(ns).Get(cl.ctx, "manual"))(t)
	if got.ResourceVersion != manual.ResourceVersion {
		t.Fatalf("endpoints of a selectorless service were rewritten: %s", epJSON(got.Subsets))
	}
}
