package apiserver_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestCreateGetListUpdateDelete(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	deps := env.Client.Deployments("default")

	created, err := deps.Create(ctx, deployment("web", 3))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == 0 || created.Generation != 1 || created.CreationTimestamp.IsZero() {
		t.Fatalf("server-set metadata missing: %+v", created.ObjectMeta)
	}
	if created.Spec.Strategy.Type != api.RollingUpdateStrategy || *created.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("defaults not applied: %+v", created.Spec)
	}

	got, err := deps.Get(ctx, "web")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.ResourceVersion != created.ResourceVersion || got.UID != created.UID {
		t.Fatalf("get = rv %d uid %s, want rv %d uid %s", got.ResourceVersion, got.UID, created.ResourceVersion, created.UID)
	}

	if _, err := deps.Create(ctx, deployment("api", 1)); err != nil {
		t.Fatal(err)
	}
	other := deployment("other", 1)
	other.Labels = map[string]string{"tier": "db"}
	if _, err := deps.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		selector string
		want     []string
	}{
		{"", []string{"api", "other", "web"}},
		{"tier=web", []string{"api", "web"}},
		{"tier in (db)", []string{"other"}},
		{"tier!=web", []string{"other"}},
		{"missing", nil},
	} {
		list, rev, err := deps.List(ctx, client.ListOptions{LabelSelector: tc.selector})
		if err != nil {
			t.Fatalf("list %q: %v", tc.selector, err)
		}
		var names []string
		for _, d := range list {
			names = append(names, d.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, tc.want) {
			t.Errorf("list %q = %v, want %v", tc.selector, names, tc.want)
		}
		if rev < created.ResourceVersion {
			t.Errorf("list revision %d older than a write it must include (%d)", rev, created.ResourceVersion)
		}
	}

	// A label change is not a spec change: generation stays.
	got.Labels["extra"] = "1"
	relabelled, err := deps.Update(ctx, got)
	if err != nil {
		t.Fatalf("update labels: %v", err)
	}
	if relabelled.Generation != 1 || relabelled.ResourceVersion <= got.ResourceVersion {
		t.Fatalf("after label update generation=%d rv=%d (was %d)", relabelled.Generation, relabelled.ResourceVersion, got.ResourceVersion)
	}
	// A spec change bumps generation.
	relabelled.Spec.Replicas = api.Ptr[int32](5)
	scaled, err := deps.Update(ctx, relabelled)
	if err != nil {
		t.Fatalf("update spec: %v", err)
	}
	if scaled.Generation != 2 || *scaled.Spec.Replicas != 5 {
		t.Fatalf("after spec update generation=%d replicas=%d", scaled.Generation, *scaled.Spec.Replicas)
	}
	// An update that changes nothing writes nothing.
	same, err := deps.Update(ctx, scaled)
	if err != nil {
		t.Fatal(err)
	}
	if same.ResourceVersion != scaled.ResourceVersion {
		t.Errorf("no-op update moved resourceVersion %d -> %d", scaled.ResourceVersion, same.ResourceVersion)
	}

	if err := deps.Delete(ctx, "web"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := deps.Get(ctx, "web"); !api.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
	if err := deps.Delete(ctx, "web"); !api.IsNotFound(err) {
		t.Fatalf("second delete: %v, want NotFound", err)
	}
}

func TestStaleUpdateConflictsAndChangesNothing(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	deps := env.Client.Deployments("default")
	first, err := deps.Create(ctx, deployment("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	stale := *first
	first.Spec.Replicas = api.Ptr[int32](2)
	if _, err := deps.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	stale.Spec.Replicas = api.Ptr[int32](9)
	_, err = deps.Update(ctx, &stale)
	if !api.IsConflict(err) || api.CodeOf(err) != 409 {
		t.Fatalf("stale update: %v, want 409 Conflict", err)
	}
	now, _ := deps.Get(ctx, "web")
	if *now.Spec.Replicas != 2 {
		t.Fatalf("stale update changed replicas to %d", *now.Spec.Replicas)
	}
	// Delete with a stale precondition is refused too.
	if err := deps.Delete(ctx, "web", client.DeleteOptions{ResourceVersion: stale.ResourceVersion}); !api.IsConflict(err) {
		t.Fatalf("stale delete: %v, want Conflict", err)
	}
}

func TestStatusSubresource(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	deps := env.Client.Deployments("default")
	d, err := deps.Create(ctx, deployment("web", 2))
	if err != nil {
		t.Fatal(err)
	}
	// A status update changes the status only, even if the body carries a new spec.
	d.Status.ReadyReplicas = 2
	d.Status.ObservedGeneration = 1
	d.Spec.Replicas = api.Ptr[int32](7)
	st, err := deps.UpdateStatus(ctx, d)
	if err != nil {
		t.Fatalf("status update: %v", err)
	}
	if st.Status.ReadyReplicas != 2 || *st.Spec.Replicas != 2 || st.Generation != 1 {
		t.Fatalf("status update: ready=%d replicas=%d generation=%d; want 2, 2, 1", st.Status.ReadyReplicas, *st.Spec.Replicas, st.Generation)
	}
	// A plain update ignores the status it carries.
	st.Status.ReadyReplicas = 99
	st.Spec.Replicas = api.Ptr[int32](3)
	up, err := deps.Update(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if up.Status.ReadyReplicas != 2 || *up.Spec.Replicas != 3 || up.Generation != 2 {
		t.Fatalf("plain update: ready=%d replicas=%d generation=%d; want 2, 3, 2", up.Status.ReadyReplicas, *up.Spec.Replicas, up.Generation)
	}
	// A create ignores the status it carries.
	p := pod("p", "")
	p.Status.Phase = api.PodRunning
	cp, err := env.Client.Pods("default").Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Status.Phase != api.PodPending {
		t.Fatalf("created pod phase %q, want Pending", cp.Status.Phase)
	}
}

func TestValidationErrorsNameEveryField(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	bad := deployment("Bad_Name", -1)
	bad.Spec.Template.Spec.Containers[0].Image = ""
	bad.Spec.Template.Spec.Containers[0].Ports = []api.ContainerPort{{ContainerPort: 70000}}
	bad.Spec.Template.Labels = map[string]string{"app": "other"}
	_, err := env.Client.Deployments("default").Create(ctx, bad)
	if !api.IsInvalid(err) || api.CodeOf(err) != 422 {
		t.Fatalf("create invalid: %v, want 422 Invalid", err)
	}
	want := []string{
		"metadata.name",
		"spec.replicas",
		"spec.template.metadata.labels",
		"spec.template.spec.containers[0].image",
		"spec.template.spec.containers[0].ports[0].containerPort",
	}
	got := causes(err)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("causes = %v, want %v", got, want)
	}
	if list, _, _ := env.Client.Deployments("default").List(ctx, client.ListOptions{}); len(list) != 0 {
		t.Fatalf("an invalid create stored %d objects", len(list))
	}
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	raw := newRaw(t, env)
	token := env.Config.Token
	valid := `{"metadata":{"name":"cm"},"data":{"a":"b"}}`
	big := `{"metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", 4<<20) + `"}}`
	tests := []struct {
		name, method, path, token, contentType, body string
		code                                         int
		reason, message                              string
	}{
		{"no token", "GET", "/v1/namespaces/default/pods", "", "", "", 401, api.ReasonUnauthorized, "missing bearer token"},
		{"bad token", "GET", "/v1/namespaces/default/pods", "abc.def", "", "", 401, api.ReasonUnauthorized, "invalid or expired token"},
		{"unknown resource", "GET", "/v1/widgets", token, "", "", 404, api.ReasonNotFound, `no resource "widgets"`},
		{"namespaced kind without namespace", "GET", "/v1/pods/x", token, "", "", 404, api.ReasonNotFound, "are namespaced"},
		{"missing object", "GET", "/v1/namespaces/default/configmaps/nope", token, "", "", 404, api.ReasonNotFound, `ConfigMap "nope" not found`},
		{"unknown field", "POST", "/v1/namespaces/default/configmaps", token, "application/json", `{"metadata":{"name":"cm"},"dataa":{}}`, 400, api.ReasonBadRequest, `unknown field "dataa"`},
		{"malformed JSON", "POST", "/v1/namespaces/default/configmaps", token, "application/json", `{"metadata":`, 400, api.ReasonBadRequest, "decoding ConfigMap"},
		{"wrong kind in body", "POST", "/v1/namespaces/default/configmaps", token, "application/json", `{"kind":"Secret","metadata":{"name":"cm"}}`, 400, api.ReasonBadRequest, "body is a Secret"},
		{"namespace mismatch", "POST", "/v1/namespaces/default/configmaps", token, "application/json", `{"metadata":{"name":"cm","namespace":"other"}}`, 400, api.ReasonBadRequest, "does not match the namespace in the URL"},
		{"unsupported media type", "POST", "/v1/namespaces/default/configmaps", token, "application/yaml", valid, 415, api.ReasonUnsupportedMediaType, "application/json"},
		{"body too large", "POST", "/v1/namespaces/default/configmaps", token, "application/json", big, 413, api.ReasonRequestEntityTooLarge, "larger than the limit"},
		{"missing namespace", "POST", "/v1/namespaces/nowhere/configmaps", token, "application/json", valid, 404, api.ReasonNotFound, `namespace "nowhere" not found`},
		{"name mismatch on update", "PUT", "/v1/namespaces/default/configmaps/other", token, "application/json", valid, 400, api.ReasonBadRequest, "does not match the name in the URL"},
		{"method not allowed", "PATCH", "/v1/namespaces/default/configmaps/cm", token, "", "", 405, api.ReasonMethodNotAllowed, "not supported"},
		{"bad label selector", "GET", "/v1/namespaces/default/pods?labelSelector=a%20in%20(", token, "", "", 400, api.ReasonBadRequest, "labelSelector"},
		{"unsupported field selector", "GET", "/v1/namespaces/default/pods?fieldSelector=spec.image%3Dx", token, "", "", 400, api.ReasonBadRequest, `field "spec.image" is not supported`},
		{"protected namespace", "DELETE", "/v1/namespaces/default", token, "", "", 403, api.ReasonForbidden, "required by the cluster"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := raw.do(t, tc.method, tc.path, tc.token, tc.contentType, []byte(tc.body))
			if resp.Code != tc.code || resp.Status.Reason != tc.reason || !strings.Contains(resp.Status.Message, tc.message) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", resp.Code, resp.Status.Reason, resp.Status.Message, tc.code, tc.reason, tc.message)
			}
			if resp.Status.Code != resp.Code {
				t.Errorf("body code %d differs from HTTP code %d", resp.Status.Code, resp.Code)
			}
		})
	}
	// Nothing above may have stored anything.
	list, _, err := env.Client.ConfigMaps("default").List(ctxT(t), client.ListOptions{})
	if err != nil || len(list) != 0 {
		t.Fatalf("config maps after bad requests: %d, %v", len(list), err)
	}
}

func TestAlreadyExistsAndGenerateName(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	pods := env.Client.Pods("default")
	if _, err := pods.Create(ctx, pod("p", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, pod("p", "")); !api.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v, want AlreadyExists", err)
	}
	seen := map[string]bool{}
	for range 20 {
		p := pod("", "")
		p.GenerateName = "web-"
		out, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.Name, "web-") || len(out.Name) != len("web-")+5 || seen[out.Name] {
			t.Fatalf("generated name %q (seen before: %v)", out.Name, seen[out.Name])
		}
		seen[out.Name] = true
	}
}

func TestDryRunStoresNothing(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	deps := env.Client.Deployments("default")
	out, err := deps.Create(ctx, deployment("web", 2), client.WriteOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	if out.Spec.Strategy.Type != api.RollingUpdateStrategy {
		t.Errorf("dry-run answer lacks defaults")
	}
	if _, err := deps.Get(ctx, "web"); !api.IsNotFound(err) {
		t.Fatalf("dry-run create stored the object: %v", err)
	}
	if _, err := deps.Create(ctx, deployment("bad", -1), client.WriteOptions{DryRun: true}); !api.IsInvalid(err) {
		t.Fatalf("dry-run of an invalid object: %v, want Invalid", err)
	}
	stored, err := deps.Create(ctx, deployment("web", 2))
	if err != nil {
		t.Fatal(err)
	}
	stored.Spec.Replicas = api.Ptr[int32](9)
	if _, err := deps.Update(ctx, stored, client.WriteOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if err := deps.Delete(ctx, "web", client.DeleteOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	after, err := deps.Get(ctx, "web")
	if err != nil || *after.Spec.Replicas != 2 {
		t.Fatalf("after dry-run update and delete: %v, replicas %v", err, after)
	}
}

func TestFinalizersHoldDeletion(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	cms := env.Client.ConfigMaps("default")
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}
	if _, err := cms.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "held"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	marked, err := cms.Get(ctx, "held")
	if err != nil || marked.DeletionTimestamp == nil {
		t.Fatalf("after delete with a finalizer: %v, deletionTimestamp %v", err, marked)
	}
	marked.Finalizers = nil
	if _, err := cms.Update(ctx, marked); err != nil {
		t.Fatalf("removing the finalizer: %v", err)
	}
	if _, err := cms.Get(ctx, "held"); !api.IsNotFound(err) {
		t.Fatalf("object survived its last finalizer: %v", err)
	}
}

func TestPodUpdateRules(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	pods := env.Client.Pods("default")
	p, err := pods.Create(ctx, pod("p", ""))
	if err != nil {
		t.Fatal(err)
	}
	// Binding sets nodeName once and marks the pod scheduled.
	p.Spec.NodeName = "node-1"
	bound, err := pods.Update(ctx, p)
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	if c := api.FindCondition(bound.Status.Conditions, api.PodScheduled); c == nil || c.Status != api.ConditionTrue {
		t.Fatalf("bound pod conditions %+v, want PodScheduled=True", bound.Status.Conditions)
	}
	bound.Spec.NodeName = "node-2"
	if _, err := pods.Update(ctx, bound); !api.IsInvalid(err) || !slices.Contains(causes(err), "spec.nodeName") {
		t.Fatalf("re-bind: %v, want Invalid on spec.nodeName", err)
	}
	bound.Spec.NodeName = "node-1"
	bound.Spec.Containers[0].Command = []string{"sh"}
	if _, err := pods.Update(ctx, bound); !api.IsInvalid(err) {
		t.Fatalf("pod spec change: %v, want Invalid", err)
	}
	bound.Spec.Containers[0].Command = nil
	bound.Spec.Containers[0].Image = "demo:2"
	if _, err := pods.Update(ctx, bound); err != nil {
		t.Fatalf("image change: %v", err)
	}
}
