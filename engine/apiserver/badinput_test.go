package apiserver_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestBadInputNamesTheField: every malformed or oversized body gets a 4xx
// whose causes name the field (map keys quoted, list indexes given), never
// a 500, and nothing is stored.
func TestBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	raw := newRaw(t, env)
	ctx := ctxT(t)
	if _, err := env.Client.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "existing"}}); err != nil {
		t.Fatal(err)
	}
	const (
		cms     = "/v1/namespaces/default/configmaps"
		pods    = "/v1/namespaces/default/pods"
		deps    = "/v1/namespaces/default/deployments"
		secrets = "/v1/namespaces/default/secrets"
	)
	podWith := func(name, container string) string {
		return `{"metadata":{"name":"` + name + `"},"spec":{"containers":[` + container + `]}}`
	}
	manyLabels := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"metadata":{"name":"labelled","labels":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"l%d":"v"`, i)
		}
		b.WriteString(`}}}`)
		return b.String()
	}
	depWith := func(containerField string) string {
		return `{"metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},` +
			`"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app",` + containerField + `}]}}}}`
	}
	tests := []struct {
		name, path, body string
		code             int
		reason           string
		field            string // the one cause expected ("" when none is)
		message          string
		notInMessage     string
	}{
		{"duplicate top-level key", cms, `{"metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}`,
			400, api.ReasonBadRequest, "data", `duplicate key "data"`, ""},
		{"duplicate label", cms, `{"metadata":{"name":"dup","labels":{"app":"a","app":"b"}}}`,
			400, api.ReasonBadRequest, `metadata.labels["app"]`, `duplicate key "app"`, ""},
		{"duplicate key in a list element", deps, depWith(`"image":"demo:1","image":"demo:2"`),
			400, api.ReasonBadRequest, "spec.template.spec.containers[0].image", `duplicate key "image"`, ""},
		{"field in the wrong case", cms, `{"metadata":{"name":"cm","Name":"other"}}`,
			400, api.ReasonBadRequest, "metadata.Name", `did you mean "name"`, ""},
		{"unknown nested field", deps, depWith(`"imagee":"demo:1"`),
			400, api.ReasonBadRequest, "spec.template.spec.containers[0].imagee", `unknown field "imagee"`, ""},
		{"data after the object", cms, `{"metadata":{"name":"cm"}} {"metadata":{"name":"cm2"}}`,
			400, api.ReasonBadRequest, "", "after the object", ""},
		{"quantity that does not parse", pods, podWith("q", `{"name":"app","image":"demo:1","resources":{"limits":{"cpu":"lots"}}}`),
			400, api.ReasonBadRequest, `spec.containers[0].resources.limits["cpu"]`, `"lots": expected a number`, ""},
		{"secret data that is not base64", secrets, `{"metadata":{"name":"s"},"data":{"password":"hunter2 !!"}}`,
			400, api.ReasonBadRequest, `data["password"]`, "base64", "hunter2"},
		{"string for a number", deps, `{"metadata":{"name":"web"},"spec":{"replicas":"three"}}`,
			400, api.ReasonBadRequest, "spec.replicas", "must be an integer", ""},
		{"object over the size limit", pods, podWith("big", `{"name":"app","image":"demo:1","args":["`+strings.Repeat("x", 1200<<10)+`"]}`),
			413, api.ReasonRequestEntityTooLarge, "", `Pod "big"`, ""},
		{"object over etcd's request limit", pods, podWith("huge", `{"name":"app","image":"demo:1","args":["`+strings.Repeat("x", 2600<<10)+`"]}`),
			413, api.ReasonRequestEntityTooLarge, "", `Pod "huge"`, ""},
		{"too many labels", cms, manyLabels(1000),
			422, api.ReasonInvalid, "metadata.labels", "at most 256", ""},
		{"label key", cms, `{"metadata":{"name":"cm","labels":{"bad key!":"x"}}}`,
			422, api.ReasonInvalid, `metadata.labels["bad key!"]`, "invalid key", ""},
		{"config map key", cms, `{"metadata":{"name":"cm"},"data":{"../x":"y"}}`,
			422, api.ReasonInvalid, `data["../x"]`, "letters, digits", ""},
		{"dry-run create of an existing object", cms + "?dryRun=1", `{"metadata":{"name":"existing"}}`,
			409, api.ReasonAlreadyExists, "", `ConfigMap "existing" already exists`, ""},
		{"duplicate key in a binding", pods + "/p/binding", `{"target":{"name":"n1"},"target":{"name":"n2"}}`,
			400, api.ReasonBadRequest, "target", `duplicate key "target"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := raw.do(t, "POST", tc.path, env.Config.Token, "application/json", []byte(tc.body))
			var fields []string
			if d := resp.Status.Details; d != nil {
				for _, c := range d.Causes {
					fields = append(fields, c.Field)
				}
			}
			msg := resp.Status.Message
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			if resp.Code != tc.code || resp.Status.Reason != tc.reason || !strings.Contains(resp.Status.Message, tc.message) {
				t.Fatalf("got %d %s %q (causes %q), want %d %s containing %q", resp.Code, resp.Status.Reason, msg, fields, tc.code, tc.reason, tc.message)
			}
			if tc.field != "" && !slices.Equal(fields, []string{tc.field}) {
				t.Errorf("causes name %q, want [%s]", fields, tc.field)
			}
			if tc.notInMessage != "" && strings.Contains(string(resp.Body), tc.notInMessage) {
				t.Errorf("the answer shows the value %q: %s", tc.notInMessage, resp.Body)
			}
		})
	}
	// Nothing above may have stored anything.
	list, _, err := env.Client.ConfigMaps("default").List(ctx, client.ListOptions{})
	if err != nil || len(list) != 1 {
		t.Errorf("config maps after bad requests: %d (want only the existing one), %v", len(list), err)
	}
	for _, kind := range []string{"pods", "deployments", "secrets"} {
		var out api.List[map[string]any]
		if err := env.Client.Do(ctx, "GET", "/v1/namespaces/default/"+kind, nil, nil, &out); err != nil || len(out.Items) != 0 {
			t.Errorf("%s after bad requests: %d, %v", kind, len(out.Items), err)
		}
	}
}
