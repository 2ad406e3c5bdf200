package cli

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/apitest"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// sample is apitest's object of a kind, changed by edit.
func sample[T api.Object](t *testing.T, kind string, edit func(T)) api.Object {
	t.Helper()
	o, err := apitest.Sample(api.MustKind(kind))
	if err != nil {
		t.Fatal(err)
	}
	api.Default(o)
	if edit != nil {
		edit(o.(T))
	}
	return o
}

// describeString describes an object with the given events.
func describeString(t *testing.T, o api.Object, events []*api.Event, evErr error) string {
	t.Helper()
	var b bytes.Buffer
	if err := describeObject(&b, o, []describeTable{eventsTable(events, evErr)}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDescribeRendersEachKind(t *testing.T) {
	since := time.Now().Add(-7 * time.Minute).UTC().Truncate(time.Second)
	stamp := regexp.QuoteMeta(since.Format(time.RFC3339)) + ` \(7m ago\)`
	tests := []struct {
		name   string
		obj    api.Object
		events []*api.Event
		want   []string // regexps, each matching a line
		not    []string // substrings that must not appear
	}{
		{"node pool with a failing condition and events", sample(t, "NodePool", func(p *api.NodePool) {
			p.Spec.SSH.HostKeys = []string{"ssh-ed25519 AAAAC3", "ssh-ed25519 AAAAC4"}
			p.Spec.SSH.PrivateKeySecretRef = "edge-key"
			p.Status = api.NodePoolStatus{Machines: 3, ReadyMachines: 1, UpdatedMachines: 2, Conditions: []api.Condition{{
				Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonMachineFailed, LastTransitionTime: since,
				Message: "machine pool-a-x7k2p: node never joined within 10m0s\nagent: dial tcp 10.0.0.1:6443: connection refused\nagent: retrying"}}}
		}), []*api.Event{
			{Type: api.EventNormal, Reason: "MachineCreated", Message: "created machine pool-a-x7k2p", Count: 3,
				FirstTimestamp: since, LastTimestamp: since.Add(5 * time.Minute), Source: api.EventSource{Component: "nodepool-controller"}},
			{Type: api.EventWarning, Reason: api.ReasonMachineFailed, Message: "machine pool-a-x7k2p failed", Count: 1,
				FirstTimestamp: since.Add(5 * time.Minute), LastTimestamp: since.Add(5 * time.Minute)},
		}, []string{
			`^Name:\s+pool-a$`, `^Provider:\s+ssh$`, `^Size:\s+2$`, `^Min Size:\s+1$`, `^Max Size:\s+3$`,
			`^Zones:\s+zone-a,zone-b$`, `^Node Labels:\s+pool=a$`, `^Node Taints:\s+pool=a:PreferNoSchedule$`,
			`^Drain Timeout:\s+300s$`, `^Rollout:$`, `^  Max Surge:\s+1$`, `^  Max Unavailable:\s+0$`,
			`^  Startup Timeout:\s+600s$`, `^  Max In Flight:\s+1$`,
			`^SSH:$`, `^  Hosts:\s+192.168.1.20,host-b.example.com$`, `^  User:\s+root$`, `^  Private Key Secret:\s+edge-key$`,
			`^  Pinned Host Keys:\s+2$`, `^  Insecure Ignore Host Key:\s+false$`,
			`^  Total:\s+3$`, `^  Ready:\s+1$`, `^  Up-to-date:\s+2$`,
			`^Conditions:$`, `^  TYPE\s+STATUS\s+REASON\s+LAST TRANSITION\s+MESSAGE$`,
			`^  Ready\s+False\s+MachineFailed\s+` + stamp + `\s+machine pool-a-x7k2p: node never joined within 10m0s \.\.\.$`,
			`^  Ready message:$`, `^    agent: dial tcp 10.0.0.1:6443: connection refused$`, `^    agent: retrying$`,
			`^Events:$`, `^  TYPE\s+REASON\s+AGE\s+FROM\s+MESSAGE$`,
			`^  Normal\s+MachineCreated\s+2m \(x3 over 7m\)\s+nodepool-controller\s+created machine pool-a-x7k2p$`,
			`^  Warning\s+MachineFailed\s+2m\s+-\s+machine pool-a-x7k2p failed$`,
		}, []string{"Namespace:", "AWS:", "GCP:"}},
		{"machine", sample(t, "Machine", func(m *api.Machine) {
			m.Labels[api.LabelTemplateHash] = "5d8f9c"
			m.Status = api.MachineStatus{Phase: api.MachineRunning, NodeName: "pool-a-x7k2p", ProviderID: "ssh://192.168.1.20",
				Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: "192.168.1.20"}}, JoinTokenID: "tk7",
				ProvisionedAt: &since, Conditions: []api.Condition{{Type: api.MachineProvisioned, Status: api.ConditionTrue, LastTransitionTime: since}}}
		}), nil, []string{
			`^Pool:\s+pool-a$`, `^Host:\s+192.168.1.20$`, `^Template:\s+5d8f9c$`, `^Status:$`, `^  Phase:\s+Running$`,
			`^  Node:\s+pool-a-x7k2p$`, `^  Addresses:\s+InternalIP: 192.168.1.20$`, `^  Join Token:\s+tk7$`,
			`^  Provisioned:\s+` + stamp + `$`, `^  Node Ready:\s+<none>$`, `^  Provisioned\s+True\s+-\s+` + stamp + `\s+-$`,
			`^Events:  <none>$`,
		}, nil},
		{"pod with container status", sample(t, "Pod", func(p *api.Pod) {
			p.Spec.NodeName = "node-1"
			p.Status = api.PodStatus{Phase: api.PodRunning, PodIP: "10.244.1.4", StartTime: &since,
				Conditions:            []api.Condition{{Type: api.PodInitialized, Status: api.ConditionTrue}, {Type: api.PodReady, Status: api.ConditionFalse, Reason: "ContainersNotReady"}},
				InitContainerStatuses: []api.ContainerStatus{{Name: "migrate", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{Reason: "Completed", FinishedAt: since}}}},
				ContainerStatuses: []api.ContainerStatus{{Name: "app", RestartCount: 4,
					State:     api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}},
					LastState: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 2, Reason: "Error", FinishedAt: since}}}}}
		}), []*api.Event{{Type: api.EventWarning, Reason: "BackOff", Message: "restarting failed container", Count: 4,
			FirstTimestamp: since, LastTimestamp: since.Add(5 * time.Minute), Source: api.EventSource{Component: "agent"}}}, []string{
			`^Namespace:\s+default$`, `^Labels:\s+app=web$`, `^\s+maestro.dev/tier=frontend$`, `^Annotations:\s+note=sample, with "quotes" and ünïcode$`,
			`^Node:\s+node-1$`, `^Status:\s+CrashLoopBackOff$`, `^IP:\s+10.244.1.4$`, `^Start Time:\s+` + stamp + `$`,
			`^Tolerations:\s+dedicated=gpu:NoSchedule$`, `^\s+node.maestro.dev/unreachable exists:NoExecute for 60s$`,
			`^Init Containers:$`, `^  migrate:$`, `^    Command:\s+sh$`, `^\s+-c$`, `^\s+echo ok$`, `^    State:\s+Terminated: Completed \(exit code 0\) at ` + stamp + `$`,
			`^Containers:$`, `^  app:$`, `^    Image:\s+nginx:1.27$`, `^    Ports:\s+http 8080/TCP$`,
			`^    Requests:\s+cpu=250m$`, `^\s+memory=64Mi$`, `^    Limits:\s+cpu=1$`,
			`^    Environment:\s+MODE=prod$`, `^\s+LEVEL from config map web-config key level$`,
			`^\s+PASSWORD from secret web-secret key password$`, `^\s+POD_NAME from field metadata.name$`,
			`^    Mounts:\s+/cache from cache$`, `^\s+/etc/web from config \(ro\)$`, `^\s+/data from data \(subPath web\)$`,
			`^    State:\s+Waiting: CrashLoopBackOff \(back-off 40s\)$`,
			`^    Last State:\s+Terminated: Error \(exit code 2\) at ` + stamp + `$`, `^    Ready:\s+false$`, `^    Restart Count:\s+4$`,
			`^Volumes:\s+cache: emptyDir \(sizeLimit=1Gi\)$`, `^\s+data: persistent \(name=data\)$`,
			`^  Ready\s+False\s+ContainersNotReady\s+<unknown>\s+-$`,
			`^  Warning\s+BackOff\s+2m \(x4 over 7m\)\s+agent\s+restarting failed container$`,
		}, nil},
		{"secret shows keys and sizes only", sample(t, "Secret", func(s *api.Secret) {
			s.Data["token"] = []byte("abcd")
			s.StringData = nil
		}), nil, []string{`^Type:\s+Opaque$`, `^Data:\s+password: 7 bytes$`, `^\s+token: 4 bytes$`},
			[]string{"hunter2", "aHVudGVyMg", "abcd", "YWJjZA", "Conditions:"}},
		{"config map shows its data", sample[*api.ConfigMap](t, "ConfigMap", nil), nil,
			[]string{`^Data:\s+app.conf: listen 8080$`, `^\s+level: info$`, `^Binary Data:\s+logo.png: 6 bytes$`}, nil},
		{"deployment", sample(t, "Deployment", func(d *api.Deployment) {
			d.Annotations[api.AnnotationRevision] = "4"
			d.Status = api.DeploymentStatus{Replicas: 4, UpdatedReplicas: 2, AvailableReplicas: 3, UnavailableReplicas: 1}
		}), nil, []string{
			`^Selector:\s+app=web,!track$`, `^Replicas:\s+3 desired \| 2 updated \| 4 total \| 3 available \| 1 unavailable$`,
			`^Revision:\s+4$`, `^Strategy:\s+RollingUpdate$`, `^Rolling Update:\s+maxSurge=25%, maxUnavailable=1$`,
			`^Progress Deadline:\s+600s$`, `^Pod Template:$`, `^  Containers:$`, `^    app:$`, `^      Image:\s+nginx:1.27$`,
			`^Conditions:  <none>$`,
		}, []string{"Restart Count"}},
		{"service", sample[*api.Service](t, "Service", nil), nil, []string{
			`^Type:\s+NodePort$`, `^Ports:\s+http 80/TCP -> http$`, `^\s+dns 53/UDP -> 5353$`, `^Session Affinity:\s+ClientIP$`,
		}, []string{"Conditions:"}},
		{"endpoints", sample[*api.Endpoints](t, "Endpoints", nil), nil, []string{
			`^Addresses:\s+10.244.1.4:8080 \(node-1, pod web-5d4f8-abcde\)$`, `^Not Ready:\s+10.244.2.7:8080 \(node-2\)$`,
		}, nil},
		{"node", sample(t, "Node", func(n *api.Node) { n.Labels[api.LabelNodePool] = "pool-a" }), nil, []string{
			`^Status:\s+Ready$`, `^Pool:\s+pool-a$`, `^Zone:\s+zone-a$`, `^Taints:\s+dedicated=gpu:NoSchedule$`,
			`^Pod CIDR:\s+10.244.1.0/24$`, `^Addresses:\s+InternalIP: 192.168.1.10$`, `^\s+Hostname: node-1$`,
			`^Allocatable:\s+cpu=3800m$`, `^  Ready\s+True\s+AgentReady\s+2026-01-02T03:04:05Z`,
		}, nil},
		{"event", sample[*api.Event](t, "Event", nil), nil, []string{
			`^Object:\s+pod/default/web$`, `^Reason:\s+Scheduled$`, `^Count:\s+2$`, `^Last Seen:\s+2026-01-02T03:05:05Z`,
		}, []string{"Conditions:"}},
		{"events that cannot be read", sample[*api.PersistentVolume](t, "Volume", nil), nil, []string{
			`^Reclaim Policy:\s+Retain$`, `^Pinned To Node:\s+node-1$`, `^Events:  <unknown: forbidden>$`,
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evErr error
			if strings.Contains(tc.name, "cannot be read") {
				evErr = errors.New("forbidden")
			}
			out := describeString(t, tc.obj, tc.events, evErr)
			for _, w := range tc.want {
				if !regexp.MustCompile(`(?m)` + w).MatchString(out) {
					t.Errorf("no line matches %s in:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
		})
	}
}

// Every kind the API serves has a section table, and its description
// names it, shows conditions when its status has them, and events unless
// it is an event: here from a server that cannot be reached, so each
// table read beside the object says why it is missing.
func TestDescribeEveryKind(t *testing.T) {
	c, err := client.New(client.Config{Server: "https://127.0.0.1:1", Token: "a.b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range api.Kinds {
		t.Run(kind.Kind, func(t *testing.T) {
			if _, ok := describeKinds[kind.Kind]; !ok {
				t.Errorf("describeKinds has no %s: add its sections", kind.Kind)
			}
			o, err := apitest.Sample(&kind)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := describeObject(&b, o, describeTables(context.Background(), c, o)); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !regexp.MustCompile(`(?m)^Name:\s+` + regexp.QuoteMeta(o.GetObjectMeta().Name) + `$`).MatchString(out) {
				t.Errorf("no Name line:\n%s", out)
			}
			if got, want := strings.Contains(out, "\nConditions:"), hasConditions(&kind); got != want {
				t.Errorf("shows conditions: %v, want %v:\n%s", got, want, out)
			}
			unreadable := regexp.MustCompile(`(?m)^Events:  <unknown: listing events of ` + strings.ToLower(kind.Kind) + ` .*127\.0\.0\.1:1`)
			if got, want := unreadable.MatchString(out), kind.Kind != "Event"; got != want {
				t.Errorf("shows why events are missing: %v, want %v:\n%s", got, want, out)
			}
			if strings.Contains(out, "%!") {
				t.Errorf("formatting error in:\n%s", out)
			}
		})
	}
}

// describeFixture stores, in a real API server, a pod with events (and
// events about other objects and about an earlier pod of the same name),
// a pool with a condition and an event (in the default namespace, as for
// every cluster-scoped object), its machine and node, and a machine of
// another pool; it returns the client config.
func describeFixture(t *testing.T) string {
	env := testenv.Start(t)
	ctx, c := context.Background(), env.Client
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}))
	pod, err := c.Pods("shop").Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{NodeName: "edge-m1", Containers: []api.Container{{Name: "app", Image: "demo:1"}}}})
	must(pod, err)
	must(c.Pods("shop").Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "db", Labels: map[string]string{"app": "db"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "db", Image: "pg:16"}}}}))
	pool, err := c.NodePools().Create(ctx, &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "edge"},
		Spec: api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: 0, MaxSize: 3, Size: api.Ptr[int32](2)}})
	must(pool, err)
	since := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	pool.Status = api.NodePoolStatus{Machines: 2, ReadyMachines: 1, UpdatedMachines: 2, Conditions: []api.Condition{{
		Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonScalingUp, Message: "1 of 2 machines ready", LastTransitionTime: since}}}
	must(c.NodePools().UpdateStatus(ctx, pool))
	for _, m := range []*api.Machine{{ObjectMeta: api.ObjectMeta{Name: "edge-m1"}, Spec: api.MachineSpec{Pool: "edge", Provider: api.ProviderLocal}},
		{ObjectMeta: api.ObjectMeta{Name: "core-m1"}, Spec: api.MachineSpec{Pool: "core", Provider: api.ProviderLocal}}} {
		created, err := c.Machines().Create(ctx, m)
		must(created, err)
		created.Status = api.MachineStatus{Phase: api.MachineRunning, NodeName: m.Name}
		must(c.Machines().UpdateStatus(ctx, created))
	}
	node, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "edge-m1", Labels: map[string]string{api.LabelNodePool: "edge"}}})
	must(node, err)
	node.Status.Allocatable = api.ResourceList{api.ResourcePods: resource.MustParse("10")}
	must(c.Nodes().UpdateStatus(ctx, node))
	event := func(ns, name string, ref api.ObjectReference, reason string, last time.Duration) {
		t.Helper()
		must(c.Events(ns).Create(ctx, &api.Event{ObjectMeta: api.ObjectMeta{Name: name}, InvolvedObject: ref,
			Reason: reason, Message: reason + " happened", Type: api.EventNormal, Count: 1,
			FirstTimestamp: since.Add(last), LastTimestamp: since.Add(last)}))
	}
	podRef := api.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web", UID: pod.UID}
	event("shop", "web.a", podRef, "Started", 3*time.Minute) // listed first, happened last
	event("shop", "web.b", podRef, "Scheduled", time.Minute)
	event("shop", "web.old", api.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "web", UID: "an-earlier-pod"}, "OldPodKilled", 0)
	event("shop", "webber.a", api.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "webber"}, "OtherPod", 0)
	event("shop", "web.svc", api.ObjectReference{Kind: "Service", Namespace: "shop", Name: "web"}, "OtherKind", 0)
	event("default", "edge.a", api.ObjectReference{Kind: "NodePool", Name: "edge", UID: pool.UID}, "MachineCreated", 2*time.Minute)
	return writeConfig(t, env)
}

// maestro describe against a real API server: each object with its own
// events only (oldest first), a pool with its condition and machines, a
// machine with its node, a node with its pods, -l, and the errors for an
// unknown kind and a missing object.
func TestDescribeCommand(t *testing.T) {
	t.Parallel()
	cfg := describeFixture(t)
	tests := []struct {
		args      []string
		want, not []string // regexps each matching; substrings none of which appear
		err       string   // the whole error, when the command fails
	}{
		{args: []string{"pod", "web", "-n", "shop"}, want: []string{`(?m)^Name:\s+web$`, `(?m)^Namespace:\s+shop$`, `(?m)^Status:\s+Pending$`,
			`(?m)^  app:$`, `(?m)^    Image:\s+demo:1$`, `Events:\n  TYPE.*\n  Normal\s+Scheduled\s.*\n  Normal\s+Started\s[^\n]*\n$`}},
		{args: []string{"np", "edge"}, want: []string{`(?m)^Name:\s+edge$`, `(?m)^Provider:\s+local$`, `(?m)^Size:\s+2$`, `(?m)^  Ready:\s+1$`,
			`(?m)^  Ready\s+False\s+ScalingUp\s+\S+ \(10m ago\)\s+1 of 2 machines ready$`,
			`(?m)^Pool Machines:\n  NAME\s+POOL\s+PROVIDER\s+PHASE.*\n  edge-m1\s+edge\s+local\s+Running\s+edge-m1\s.*\nEvents:`,
			`Events:\n  TYPE.*\n  Normal\s+MachineCreated\s+8m\s[^\n]*\n$`}, not: []string{"SSH:", "Namespace:", "core-m1"}},
		{args: []string{"machine", "edge-m1"}, want: []string{`(?m)^Pool:\s+edge$`, `(?m)^Machine Node:\n  NAME.*\n  edge-m1\s+NotReady\s+edge\s`}},
		{args: []string{"machine", "core-m1"}, want: []string{`(?m)^Machine Node:  <unknown: Node "core-m1" not found>$`}},
		{args: []string{"node", "edge-m1"}, want: []string{`(?m)^Pool:\s+edge$`, `(?m)^Non-terminated Pods:\n  NAMESPACE\s+NAME\s+READY.*\n  shop\s+web\s+0/1\s`,
			`(?m)^Allocated Resources:\n  RESOURCE\s+REQUESTS\s+ALLOCATABLE\s+PERCENT\n  pods\s+1\s+10\s+10%$`}},
		{args: []string{"pods", "-n", "shop"}, want: []string{`(?m)^Name:\s+db$(.|\n)*^Name:\s+web$`}},
		{args: []string{"pods", "-n", "shop", "-l", "app=db"}, want: []string{`(?m)^Name:\s+db$`}, not: []string{"demo:1"}},
		{args: []string{"widget", "x"}, err: `unknown kind "widget" (known: autoscalers, configmaps, deployments, endpoints, events, machines, ` +
			`namespaces, nodepools, nodes, pods, replicasets, secrets, services, volumes)`},
		{args: []string{"pod", "nope", "-n", "shop"}, err: `pod "nope" not found in namespace "shop"`},
		{args: []string{"machine", "nope"}, err: `machine "nope" not found`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _, err := run(t, cfg, append([]string{"describe"}, tc.args...)...)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || strings.Contains(tc.err, "not found") != api.IsNotFound(err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("no match for %s in:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
		})
	}
}

// A deployment's description lists the replica sets it controls, and a
// replica set's the pods it controls; objects that only match the labels
// are left out.
func TestDescribeOwnedObjects(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	c := env.Client
	labels := map[string]string{"app": "web"}
	tmpl := api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "demo:1"}}}}
	sel := &api.LabelSelector{MatchLabels: labels}
	d, err := c.Deployments("default").Create(ctx, &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.DeploymentSpec{Replicas: api.Ptr[int32](1), Selector: sel, Template: tmpl}})
	if err != nil {
		t.Fatal(err)
	}
	owner := func(kind, name, uid string) []api.OwnerReference {
		return []api.OwnerReference{{Kind: kind, Name: name, UID: uid, Controller: api.Ptr(true)}}
	}
	rs, err := c.ReplicaSets("default").Create(ctx, &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-5d8f", Labels: labels,
		OwnerReferences: owner("Deployment", "web", d.UID)}, Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](1), Selector: sel, Template: tmpl}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplicaSets("default").Create(ctx, &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "stray", Labels: labels},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](0), Selector: sel, Template: tmpl}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*api.Pod{{ObjectMeta: api.ObjectMeta{Name: "web-5d8f-x2k", Labels: labels, OwnerReferences: owner("ReplicaSet", rs.Name, rs.UID)}, Spec: tmpl.Spec},
		{ObjectMeta: api.ObjectMeta{Name: "lookalike", Labels: labels}, Spec: tmpl.Spec}} {
		if _, err := c.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"deploy", "web"}, `(?m)^Replica Sets:\n  NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n  web-5d8f\s+1\s+0\s+0\s+\S+\n(Events|Conditions)`, "stray"},
		{[]string{"rs", "web-5d8f"}, `(?m)^Controlled By:\s+Deployment/web$(.|\n)*^Pods:\n  NAME\s+READY\s+STATUS.*\n  web-5d8f-x2k\s+0/1\s+Pending\s.*\n(Events|Conditions)`, "lookalike"},
	} {
		out, _, err := run(t, cfg, append([]string{"describe"}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(tc.want).MatchString(out) || strings.Contains(out, tc.not) {
			t.Errorf("describe %s: want %s and no %q:\n%s", strings.Join(tc.args, " "), tc.want, tc.not, out)
		}
	}
}
