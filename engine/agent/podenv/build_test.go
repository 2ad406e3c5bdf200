package podenv

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
)

// fakeSource serves config maps and secrets from memory and counts reads.
type fakeSource struct {
	configMaps map[string]*api.ConfigMap
	secrets    map[string]*api.Secret
	err        error
	reads      int
}

func (f *fakeSource) ConfigMap(_ context.Context, ns, name string) (*api.ConfigMap, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	if cm, ok := f.configMaps[name]; ok && ns == "prod" {
		return cm, nil
	}
	return nil, api.NewNotFound("configmaps", name)
}

func (f *fakeSource) Secret(_ context.Context, ns, name string) (*api.Secret, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	if s, ok := f.secrets[name]; ok && ns == "prod" {
		return s, nil
	}
	return nil, api.NewNotFound("secrets", name)
}

var _ volumes.Source = (*fakeSource)(nil)

func newSource() *fakeSource {
	return &fakeSource{
		configMaps: map[string]*api.ConfigMap{
			"app": {Data: map[string]string{"MODE": "fast", "LEVEL": "3", "bad key": "x", "1ST": "y", "log.level": "debug"}},
		},
		secrets: map[string]*api.Secret{
			"db": {Data: map[string][]byte{"PASSWORD": []byte("hunter2"), "USER": []byte("admin")}},
		},
	}
}

func cmKey(name, key string, optional bool) *api.EnvVarSource {
	return &api.EnvVarSource{ConfigMapKeyRef: &api.KeySelector{Name: name, Key: key, Optional: api.Ptr(optional)}}
}

func secretKey(name, key string, optional bool) *api.EnvVarSource {
	return &api.EnvVarSource{SecretKeyRef: &api.KeySelector{Name: name, Key: key, Optional: api.Ptr(optional)}}
}

func field(path string) *api.EnvVarSource {
	return &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: path}}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		extra   []string
		envFrom []api.EnvFromSource
		env     []api.EnvVar
		want    []string
		err     string
	}{
		{name: "literals in order", env: []api.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "EMPTY"}},
			want: []string{"A=1", "B=2", "EMPTY="}},
		{name: "later env overrides earlier in place", env: []api.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "A", Value: "3"}},
			want: []string{"A=3", "B=2"}},
		{name: "explicit env overrides extra", extra: []string{"WEB_SERVICE_HOST=10.0.0.1", "WEB_SERVICE_PORT=80"},
			env:  []api.EnvVar{{Name: "WEB_SERVICE_PORT", Value: "8080"}},
			want: []string{"WEB_SERVICE_HOST=10.0.0.1", "WEB_SERVICE_PORT=8080"}},
		{name: "expansion of earlier variables", extra: []string{"SVC_HOST=10.0.0.1"},
			env: []api.EnvVar{
				{Name: "PORT", Value: "80"},
				{Name: "URL", Value: "http://$(SVC_HOST):$(PORT)/$(LATER)"},
				{Name: "LATER", Value: "x"},
				{Name: "ESCAPED", Value: "$$(PORT) costs $$5"},
				{Name: "SELF", Value: "$(SELF)"},
			},
			want: []string{"SVC_HOST=10.0.0.1", "PORT=80", "URL=http://10.0.0.1:80/$(LATER)", "LATER=x", "ESCAPED=$(PORT) costs $5", "SELF=$(SELF)"}},
		{name: "envFrom config map sorted, invalid names skipped",
			envFrom: []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "app"}}},
			want:    []string{"LEVEL=3", "MODE=fast", "log.level=debug"}},
		{name: "envFrom prefix makes names valid",
			envFrom: []api.EnvFromSource{{Prefix: "APP_", ConfigMapRef: &api.NameRef{Name: "app"}}},
			want:    []string{"APP_1ST=y", "APP_LEVEL=3", "APP_MODE=fast", "APP_log.level=debug"}},
		{name: "envFrom in order, env last",
			envFrom: []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "app"}}, {SecretRef: &api.NameRef{Name: "db"}}, {Prefix: "X_", SecretRef: &api.NameRef{Name: "db"}}},
			env:     []api.EnvVar{{Name: "MODE", Value: "$(MODE)-slow"}},
			want:    []string{"LEVEL=3", "MODE=fast-slow", "log.level=debug", "PASSWORD=hunter2", "USER=admin", "X_PASSWORD=hunter2", "X_USER=admin"}},
		{name: "envFrom missing optional",
			envFrom: []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "nope", Optional: api.Ptr(true)}}, {SecretRef: &api.NameRef{Name: "nope", Optional: api.Ptr(true)}}},
			env:     []api.EnvVar{{Name: "A", Value: "1"}},
			want:    []string{"A=1"}},
		{name: "envFrom missing config map",
			envFrom: []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "nope"}}},
			err:     `container "app": envFrom: configmap "nope" not found`},
		{name: "envFrom missing secret",
			envFrom: []api.EnvFromSource{{SecretRef: &api.NameRef{Name: "nope", Optional: api.Ptr(false)}}},
			err:     `secret "nope" not found`},
		{name: "valueFrom keys",
			env: []api.EnvVar{
				{Name: "MODE", ValueFrom: cmKey("app", "MODE", false)},
				{Name: "PW", ValueFrom: secretKey("db", "PASSWORD", false)},
				{Name: "NOT_EXPANDED", ValueFrom: cmKey("app", "bad key", false)},
			},
			want: []string{"MODE=fast", "PW=hunter2", "NOT_EXPANDED=x"}},
		{name: "valueFrom is not expanded",
			env:  []api.EnvVar{{Name: "MODE", Value: "m"}, {Name: "V", ValueFrom: cmKey("dollar", "v", false)}},
			want: []string{"MODE=m", "V=$(MODE)"}},
		{name: "valueFrom missing optional",
			env: []api.EnvVar{
				{Name: "A", ValueFrom: cmKey("app", "NOPE", true)},
				{Name: "B", ValueFrom: cmKey("nope", "K", true)},
				{Name: "C", ValueFrom: secretKey("db", "NOPE", true)},
				{Name: "D", ValueFrom: secretKey("nope", "K", true)},
				{Name: "E", Value: "e"},
			},
			want: []string{"E=e"}},
		{name: "valueFrom missing optional keeps extra",
			extra: []string{"A=service"},
			env:   []api.EnvVar{{Name: "A", ValueFrom: cmKey("nope", "K", true)}},
			want:  []string{"A=service"}},
		{name: "valueFrom missing config map", env: []api.EnvVar{{Name: "A", ValueFrom: cmKey("nope", "K", false)}},
			err: `container "app": env "A": configmap "nope" not found`},
		{name: "valueFrom missing config map key", env: []api.EnvVar{{Name: "A", ValueFrom: cmKey("app", "K", false)}},
			err: `configmap "app" has no key "K"`},
		{name: "valueFrom missing secret", env: []api.EnvVar{{Name: "A", ValueFrom: secretKey("nope", "K", false)}},
			err: `secret "nope" not found`},
		{name: "valueFrom missing secret key", env: []api.EnvVar{{Name: "A", ValueFrom: secretKey("db", "K", false)}},
			err: `secret "db" has no key "K"`},
		{name: "fieldRef",
			env: []api.EnvVar{
				{Name: "POD", ValueFrom: field("metadata.name")},
				{Name: "NS", ValueFrom: field("metadata.namespace")},
				{Name: "UID", ValueFrom: field("metadata.uid")},
				{Name: "NODE", ValueFrom: field("spec.nodeName")},
				{Name: "POD_IP", ValueFrom: field("status.podIP")},
				{Name: "HOST_IP", ValueFrom: field("status.hostIP")},
				{Name: "ADDR", Value: "$(POD_IP):8080"},
			},
			want: []string{"POD=web-1", "NS=prod", "UID=u-1", "NODE=node-a", "POD_IP=10.1.0.5", "HOST_IP=192.168.1.10", "ADDR=10.1.0.5:8080"}},
		{name: "unsupported fieldRef", env: []api.EnvVar{{Name: "X", ValueFrom: field("metadata.labels")}},
			err: `unsupported fieldPath "metadata.labels"`},
		{name: "malformed extra ignored", extra: []string{"=x", "NOVALUE", "K=a=b"},
			want: []string{"NOVALUE=", "K=a=b"}},
	}
	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: "prod", Name: "web-1", UID: "u-1"},
		Spec:       api.PodSpec{NodeName: "node-a"},
		Status:     api.PodStatus{PodIP: "10.1.0.5", HostIP: "192.168.1.10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource()
			src.configMaps["dollar"] = &api.ConfigMap{Data: map[string]string{"v": "$(MODE)"}}
			c := &api.Container{Name: "app", Env: tc.env, EnvFrom: tc.envFrom}
			got, err := Build(t.Context(), pod, c, src, tc.extra)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("env =\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

func TestBuildReadsEachSourceOnce(t *testing.T) {
	src := newSource()
	c := &api.Container{Name: "app",
		EnvFrom: []api.EnvFromSource{{ConfigMapRef: &api.NameRef{Name: "app"}}},
		Env: []api.EnvVar{
			{Name: "A", ValueFrom: cmKey("app", "MODE", false)},
			{Name: "B", ValueFrom: cmKey("app", "LEVEL", false)},
			{Name: "C", ValueFrom: cmKey("nope", "K", true)},
			{Name: "D", ValueFrom: cmKey("nope", "L", true)},
			{Name: "E", ValueFrom: secretKey("db", "USER", false)},
			{Name: "F", ValueFrom: secretKey("db", "PASSWORD", false)},
		}}
	if _, err := Build(t.Context(), &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "prod"}}, c, src, nil); err != nil {
		t.Fatal(err)
	}
	if src.reads != 3 {
		t.Fatalf("%d reads, want 3 (app, nope, db)", src.reads)
	}
}

func TestBuildSourceFailure(t *testing.T) {
	src := newSource()
	src.err = errors.New("connection refused")
	c := &api.Container{Name: "app", Env: []api.EnvVar{{Name: "A", ValueFrom: cmKey("app", "MODE", true)}}}
	_, err := Build(t.Context(), &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "prod"}}, c, src, nil)
	// Optional covers absence, not an API that cannot answer.
	if err == nil || !strings.Contains(err.Error(), `reading configmap "app": connection refused`) {
		t.Fatalf("err = %v", err)
	}
	var nf *volumes.NotFoundError
	if errors.As(err, &nf) {
		t.Fatal("a failed read reported as not found")
	}
}

func TestBuildNotFoundIsAPINotFound(t *testing.T) {
	c := &api.Container{Name: "app", Env: []api.EnvVar{{Name: "A", ValueFrom: secretKey("nope", "K", false)}}}
	_, err := Build(t.Context(), &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "prod"}}, c, newSource(), nil)
	if !api.IsNotFound(err) {
		t.Fatalf("api.IsNotFound(%v) = false", err)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "a", "EMPTY": "", "B": "$(A)"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$(A)", "a"},
		{"x$(A)y$(A)z", "xayaz"},
		{"$(EMPTY)|", "|"},
		{"$(B)", "$(A)"}, // one pass only
		{"$(MISSING)", "$(MISSING)"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$a"},
		{"$$", "$"},
		{"$", "$"},
		{"a$", "a$"},
		{"$A", "$A"},
		{"$(A", "$(A"},
		{"$(", "$("},
		{"$()", "$()"},
		{"$(A)$(", "a$("},
		{"100%$", "100%$"},
	}
	for _, tc := range tests {
		if got := Expand(tc.in, lookup); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandCommand(t *testing.T) {
	got := ExpandCommand([]string{"serve", "--port=$(PORT)", "$$(PORT)", "$(NOPE)"}, []string{"PORT=8080", "X=a=b"})
	want := []string{"serve", "--port=8080", "$(PORT)", "$(NOPE)"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if ExpandCommand(nil, nil) != nil {
		t.Fatal("nil args not kept nil")
	}
}
