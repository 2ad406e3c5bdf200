package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// fakePods is a PodLookup over a fixed set of pods.
type fakePods struct {
	pods []*api.Pod
	err  error
}

func (f *fakePods) Pod(_ context.Context, namespace, name string) (*api.Pod, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, p := range f.pods {
		if p.Namespace == namespace && p.Name == name {
			return p, nil
		}
	}
	return nil, nil
}

func (f *fakePods) PodsOnNode(_ context.Context, namespace, node string) ([]*api.Pod, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []*api.Pod
	for _, p := range f.pods {
		if p.Namespace == namespace && p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out, nil
}

func podOn(namespace, name, node string, mut func(*api.PodSpec)) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Image: "demo:1"}}},
	}
	if mut != nil {
		mut(&p.Spec)
	}
	return p
}

// cluster is the pod state the node authorizer decides against: node-1
// runs pods that use configuration every way a pod can; node-2 runs a pod
// using other configuration; one pod is not scheduled yet.
func cluster() *fakePods {
	return &fakePods{pods: []*api.Pod{
		podOn("default", "env-pod", "node-1", func(s *api.PodSpec) {
			s.Containers[0].Env = []api.EnvVar{
				{Name: "PLAIN", Value: "x"},
				{Name: "FLAGS", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.KeySelector{Name: "cm-env", Key: "flags"}}},
				{Name: "TOKEN", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.KeySelector{Name: "sec-env", Key: "token"}}},
				{Name: "POD", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			}
		}),
		podOn("default", "envfrom-pod", "node-1", func(s *api.PodSpec) {
			s.Containers[0].EnvFrom = []api.EnvFromSource{
				{ConfigMapRef: &api.NameRef{Name: "cm-envfrom"}},
				{SecretRef: &api.NameRef{Name: "sec-envfrom"}},
			}
		}),
		podOn("default", "volume-pod", "node-1", func(s *api.PodSpec) {
			s.Volumes = []api.Volume{
				{Name: "a", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{Name: "cm-vol"}}},
				{Name: "b", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "sec-vol"}}},
				{Name: "c", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
			}
		}),
		podOn("default", "init-pod", "node-1", func(s *api.PodSpec) {
			s.InitContainers = []api.Container{{Name: "init", Image: "demo:1",
				Env: []api.EnvVar{{Name: "SEED", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.KeySelector{Name: "sec-init", Key: "seed"}}}}}}
		}),
		podOn("team-a", "team-pod", "node-1", func(s *api.PodSpec) {
			s.Containers[0].EnvFrom = []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "cm-team"}}}
		}),
		podOn("default", "other-pod", "node-2", func(s *api.PodSpec) {
			s.Containers[0].EnvFrom = []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "cm-other"}}, {SecretRef: &api.NameRef{Name: "sec-other"}}}
		}),
		podOn("default", "pending-pod", "", func(s *api.PodSpec) {
			s.Containers[0].EnvFrom = []api.EnvFromSource{{SecretRef: &api.NameRef{Name: "sec-pending"}}}
		}),
	}}
}

var (
	admin  = User{Name: "token:adm001", TokenID: "adm001", Role: RoleAdmin}
	viewer = User{Name: "token:view01", TokenID: "view01", Role: RoleViewer}
	node1  = User{Name: "token:node01", TokenID: "node01", Role: RoleNode, Node: "node-1"}
	joiner = User{Name: "token:join01", TokenID: "join01", Role: RoleJoin}
)

// req builds a request; rest is namespace, then name.
func req(verb, kind string, rest ...string) Request {
	r := Request{Verb: verb, Kind: api.MustKind(kind)}
	if len(rest) > 0 {
		r.Namespace = rest[0]
	}
	if len(rest) > 1 {
		r.Name = rest[1]
	}
	return r
}

func (r Request) pinned(node string) Request { r.NodeName = node; return r }
func (r Request) sub(s string) Request       { r.Subresource = s; return r }
func (r Request) with(o api.Object) Request  { r.Object = o; return r }
func newNode(name string) *api.Node          { return &api.Node{ObjectMeta: api.ObjectMeta{Name: name}} }
func newEvent(ns, name string) *api.Event {
	return &api.Event{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name}}
}

func TestAuthorize(t *testing.T) {
	cases := []struct {
		name  string
		user  User
		req   Request
		allow bool
		// inMsg must appear in the 403 message (besides the role and resource).
		inMsg string
	}{
		// admin may do anything.
		{"admin deletes a secret", admin, req(VerbDelete, "secrets", "default", "db"), true, ""},
		{"admin lists secrets everywhere", admin, req(VerbList, "secrets"), true, ""},
		{"admin creates a node", admin, req(VerbCreate, "nodes").with(newNode("node-9")), true, ""},
		{"admin updates pod status", admin, req(VerbUpdate, "pods", "default", "env-pod").sub("status"), true, ""},

		// viewer reads everything but secrets and writes nothing.
		{"viewer gets a pod", viewer, req(VerbGet, "pods", "default", "env-pod"), true, ""},
		{"viewer lists deployments", viewer, req(VerbList, "deployments", "default"), true, ""},
		{"viewer watches nodes", viewer, req(VerbWatch, "nodes"), true, ""},
		{"viewer gets a config map", viewer, req(VerbGet, "configmaps", "default", "cm-env"), true, ""},
		{"viewer lists events", viewer, req(VerbList, "events"), true, ""},
		{"viewer lists node pools", viewer, req(VerbList, "nodepools"), true, ""},
		{"viewer gets a secret", viewer, req(VerbGet, "secrets", "default", "db"), false, "cannot read secrets"},
		{"viewer lists secrets", viewer, req(VerbList, "secrets", "default"), false, "cannot read secrets"},
		{"viewer watches secrets", viewer, req(VerbWatch, "secrets"), false, "cannot read secrets"},
		{"viewer creates a deployment", viewer, req(VerbCreate, "deployments", "default"), false, "read-only"},
		{"viewer scales a deployment", viewer, req(VerbUpdate, "deployments", "default", "web"), false, "read-only"},
		{"viewer deletes a pod", viewer, req(VerbDelete, "pods", "default", "env-pod"), false, "read-only"},
		{"viewer updates pod status", viewer, req(VerbUpdate, "pods", "default", "env-pod").sub("status"), false, "read-only"},
		{"viewer creates an event", viewer, req(VerbCreate, "events", "default"), false, "read-only"},

		// join tokens only exchange themselves for a node credential.
		{"join gets a namespace", joiner, req(VerbGet, "namespaces", "", "default"), false, "may not use the object API"},
		{"join creates a node", joiner, req(VerbCreate, "nodes").with(newNode("node-1")), false, "may not use the object API"},
		{"unknown role", User{Name: "token:x", Role: "root"}, req(VerbGet, "pods", "default", "env-pod"), false, "may not use the object API"},

		// node: its own Node object only.
		{"node gets another node", node1, req(VerbGet, "nodes", "", "node-2"), true, ""},
		{"node lists nodes", node1, req(VerbList, "nodes"), true, ""},
		{"node registers itself", node1, req(VerbCreate, "nodes").with(newNode("node-1")), true, ""},
		{"node registers itself without a body", node1, req(VerbCreate, "nodes", "", "node-1"), true, ""},
		{"node registers another node", node1, req(VerbCreate, "nodes").with(newNode("node-2")), false, "its own Node"},
		{"node creates another node under its own URL name", node1, req(VerbCreate, "nodes", "", "node-1").with(newNode("node-2")), false, "its own Node"},
		{"node updates its status", node1, req(VerbUpdate, "nodes", "", "node-1").sub("status"), true, ""},
		{"node updates its spec", node1, req(VerbUpdate, "nodes", "", "node-1"), true, ""},
		{"node updates another node", node1, req(VerbUpdate, "nodes", "", "node-2").sub("status"), false, "its own Node"},
		{"node deletes another node", node1, req(VerbDelete, "nodes", "", "node-2"), false, "its own Node"},

		// node: reads for the proxy and DNS, writes events.
		{"node watches services", node1, req(VerbWatch, "services"), true, ""},
		{"node lists endpoints", node1, req(VerbList, "endpoints", "default"), true, ""},
		{"node gets a namespace", node1, req(VerbGet, "namespaces", "", "default"), true, ""},
		{"node gets a service", node1, req(VerbGet, "services", "team-a", "api"), true, ""},
		{"node lists services everywhere", node1, req(VerbList, "services"), true, ""},
		{"node lists services in a namespace", node1, req(VerbList, "services", "team-a"), true, ""},
		{"node watches endpoints everywhere", node1, req(VerbWatch, "endpoints"), true, ""},
		{"node gets endpoints", node1, req(VerbGet, "endpoints", "kube-system", "dns"), true, ""},
		{"node updates a service", node1, req(VerbUpdate, "services", "default", "web"), false, "but not write them"},
		{"node updates a service's status", node1, req(VerbUpdate, "services", "default", "web").sub("status"), false, "but not write them"},
		{"node creates a service", node1, req(VerbCreate, "services", "default"), false, "but not write them"},
		{"node deletes a service", node1, req(VerbDelete, "services", "default", "web"), false, "but not write them"},
		{"node writes endpoints", node1, req(VerbCreate, "endpoints", "default"), false, "but not write them"},
		{"node updates endpoints", node1, req(VerbUpdate, "endpoints", "default", "web"), false, "but not write them"},
		{"node deletes endpoints", node1, req(VerbDelete, "endpoints", "default", "web"), false, "node role"},
		{"node deletes a namespace", node1, req(VerbDelete, "namespaces", "", "default"), false, "node role"},
		{"node creates an event", node1, req(VerbCreate, "events", "default").with(newEvent("default", "e1")), true, ""},
		{"node updates an event", node1, req(VerbUpdate, "events", "default", "e1"), true, ""},
		{"node deletes an event", node1, req(VerbDelete, "events", "default", "e1"), false, "node role"},
		{"node reads deployments", node1, req(VerbGet, "deployments", "default", "web"), false, "node role"},
		{"node lists replica sets", node1, req(VerbList, "replicasets"), false, "node role"},
		{"node lists autoscalers", node1, req(VerbList, "autoscalers"), false, "node role"},
		{"node lists machines", node1, req(VerbList, "machines"), false, "node role"},

		// node: pods, only its own.
		{"node lists its pods", node1, req(VerbList, "pods").pinned("node-1"), true, ""},
		{"node watches its pods", node1, req(VerbWatch, "pods").pinned("node-1"), true, ""},
		{"node watches its pods in a namespace", node1, req(VerbWatch, "pods", "default").pinned("node-1"), true, ""},
		{"node lists every pod", node1, req(VerbList, "pods"), false, "fieldSelector spec.nodeName=node-1"},
		{"node watches every pod", node1, req(VerbWatch, "pods", "default"), false, "fieldSelector spec.nodeName=node-1"},
		{"node lists another node's pods", node1, req(VerbList, "pods").pinned("node-2"), false, "fieldSelector spec.nodeName=node-1"},
		{"node gets its pod", node1, req(VerbGet, "pods", "default", "env-pod"), true, ""},
		{"node gets another node's pod", node1, req(VerbGet, "pods", "default", "other-pod"), false, "not bound to this node"},
		{"node gets an unscheduled pod", node1, req(VerbGet, "pods", "default", "pending-pod"), false, "not bound to this node"},
		{"node gets a missing pod", node1, req(VerbGet, "pods", "default", "ghost"), false, "not bound to this node"},
		{"node gets its pod name in another namespace", node1, req(VerbGet, "pods", "team-a", "env-pod"), false, "not bound to this node"},
		{"node updates its pod status", node1, req(VerbUpdate, "pods", "default", "env-pod").sub("status"), true, ""},
		{"node updates its pod spec", node1, req(VerbUpdate, "pods", "default", "env-pod"), false, "only update the status"},
		{"node updates another node's pod status", node1, req(VerbUpdate, "pods", "default", "other-pod").sub("status"), false, "not bound to this node"},
		{"node updates a missing pod's status", node1, req(VerbUpdate, "pods", "default", "ghost").sub("status"), false, "not bound to this node"},
		{"node deletes its pod", node1, req(VerbDelete, "pods", "default", "env-pod"), true, ""},
		{"node deletes another node's pod", node1, req(VerbDelete, "pods", "default", "other-pod"), false, "not bound to this node"},
		{"node creates a pod", node1, req(VerbCreate, "pods", "default").with(podOn("default", "mirror", "node-1", nil)), false, "not by nodes"},

		// node: configuration its pods use, by name only.
		{"config map from env valueFrom", node1, req(VerbGet, "configmaps", "default", "cm-env"), true, ""},
		{"config map from envFrom", node1, req(VerbGet, "configmaps", "default", "cm-envfrom"), true, ""},
		{"config map from a volume", node1, req(VerbGet, "configmaps", "default", "cm-vol"), true, ""},
		{"config map in the pod's other namespace", node1, req(VerbGet, "configmaps", "team-a", "cm-team"), true, ""},
		{"secret from env valueFrom", node1, req(VerbGet, "secrets", "default", "sec-env"), true, ""},
		{"secret from envFrom", node1, req(VerbGet, "secrets", "default", "sec-envfrom"), true, ""},
		{"secret from a volume", node1, req(VerbGet, "secrets", "default", "sec-vol"), true, ""},
		{"secret from an init container", node1, req(VerbGet, "secrets", "default", "sec-init"), true, ""},
		{"secret used on another node", node1, req(VerbGet, "secrets", "default", "sec-other"), false, "no pod bound to this node uses it"},
		{"config map used on another node", node1, req(VerbGet, "configmaps", "default", "cm-other"), false, "no pod bound to this node uses it"},
		{"secret of an unscheduled pod", node1, req(VerbGet, "secrets", "default", "sec-pending"), false, "no pod bound to this node uses it"},
		{"unreferenced secret", node1, req(VerbGet, "secrets", "default", "db"), false, "no pod bound to this node uses it"},
		{"referenced name in another namespace", node1, req(VerbGet, "configmaps", "team-a", "cm-env"), false, "no pod bound to this node uses it"},
		{"secret named like a used config map", node1, req(VerbGet, "secrets", "default", "cm-env"), false, "no pod bound to this node uses it"},
		{"config map named like a used secret", node1, req(VerbGet, "configmaps", "default", "sec-vol"), false, "no pod bound to this node uses it"},
		{"list secrets", node1, req(VerbList, "secrets", "default"), false, "by name"},
		{"watch config maps", node1, req(VerbWatch, "configmaps", "default"), false, "by name"},
		{"list config maps pinned to its node", node1, req(VerbList, "configmaps", "default").pinned("node-1"), false, "by name"},
		{"update a used secret", node1, req(VerbUpdate, "secrets", "default", "sec-env"), false, "by name"},
		{"delete a used config map", node1, req(VerbDelete, "configmaps", "default", "cm-env"), false, "by name"},
	}
	authz := &Authorizer{Pods: cluster()}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := authz.Authorize(t.Context(), tc.user, tc.req)
			if tc.allow {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("allowed, want 403")
			}
			if !api.IsForbidden(err) || api.CodeOf(err) != http.StatusForbidden {
				t.Fatalf("error %v is not a 403", err)
			}
			msg := err.Error()
			for _, part := range []string{"(role " + tc.user.Role + ")", tc.req.Kind.Plural, tc.inMsg} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q lacks %q", msg, part)
				}
			}
			if tc.req.Name != "" && !strings.Contains(msg, api.Key(tc.req.Namespace, tc.req.Name)) {
				t.Errorf("message %q does not name %s", msg, api.Key(tc.req.Namespace, tc.req.Name))
			}
		})
	}
}

// TestAuthorizeDenialMessages pins the full wording for a few denials:
// who, which role, which verb on which object, and why.
func TestAuthorizeDenialMessages(t *testing.T) {
	authz := &Authorizer{Pods: cluster()}
	cases := []struct {
		user User
		req  Request
		want string
	}{
		{viewer, req(VerbGet, "secrets", "default", "db"),
			"token:view01 (role viewer) may not get secrets default/db: the viewer role cannot read secrets"},
		{viewer, req(VerbCreate, "deployments", "default"),
			"token:view01 (role viewer) may not create deployments in namespace default: the viewer role is read-only"},
		{node1, req(VerbList, "pods"),
			`node "node-1" (role node) may not list pods: a node may only list or watch pods with fieldSelector spec.nodeName=node-1`},
		{node1, req(VerbUpdate, "pods", "default", "env-pod"),
			`node "node-1" (role node) may not update pods default/env-pod: a node may only update the status of its pods`},
		{node1, req(VerbUpdate, "nodes", "", "node-2").sub("status"),
			`node "node-1" (role node) may not update nodes node-2/status: a node may only write its own Node object`},
	}
	for _, tc := range cases {
		err := authz.Authorize(t.Context(), tc.user, tc.req)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Authorize(%s %s) = %v\nwant %s", tc.req.Verb, tc.req.Kind.Plural, err, tc.want)
		}
	}
}

// TestAuthorizeLookupErrors: a failing pod lookup is an internal error,
// not a 403 that would hide the outage.
func TestAuthorizeLookupErrors(t *testing.T) {
	boom := errors.New("store unavailable")
	authz := &Authorizer{Pods: &fakePods{err: boom}}
	for _, r := range []Request{
		req(VerbGet, "pods", "default", "env-pod"),
		req(VerbUpdate, "pods", "default", "env-pod").sub("status"),
		req(VerbGet, "secrets", "default", "sec-env"),
		req(VerbGet, "configmaps", "default", "cm-env"),
	} {
		if err := authz.Authorize(t.Context(), node1, r); !errors.Is(err, boom) {
			t.Errorf("%s %s: %v, want the lookup error", r.Verb, r.Kind.Plural, err)
		}
	}
	// Decisions that need no lookup do not touch it.
	if err := authz.Authorize(t.Context(), node1, req(VerbList, "pods").pinned("node-1")); err != nil {
		t.Errorf("pinned list: %v", err)
	}
}

func TestPodReferences(t *testing.T) {
	spec := &cluster().pods[0].Spec // env-pod
	cases := []struct {
		kind, name string
		want       bool
	}{
		{"ConfigMap", "cm-env", true},
		{"Secret", "sec-env", true},
		{"Secret", "cm-env", false},
		{"ConfigMap", "sec-env", false},
		{"ConfigMap", "", false},
		{"Pod", "cm-env", false},
	}
	for _, tc := range cases {
		if got := PodReferences(spec, tc.kind, tc.name); got != tc.want {
			t.Errorf("PodReferences(%s %q) = %v, want %v", tc.kind, tc.name, got, tc.want)
		}
	}
	if PodReferences(&api.PodSpec{}, "Secret", "") {
		t.Error("empty pod references the empty name")
	}
	// A node pulls its pods' images with their pull secrets: it may read them.
	pulls := &api.PodSpec{ImagePullSecrets: []api.LocalObjectReference{{Name: "registry-creds"}}}
	if !PodReferences(pulls, "Secret", "registry-creds") || PodReferences(pulls, "ConfigMap", "registry-creds") || PodReferences(pulls, "Secret", "other") {
		t.Error("imagePullSecrets: want the named secret referenced, nothing else")
	}
}
