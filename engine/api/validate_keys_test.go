package api

import (
	"strconv"
	"strings"
	"testing"
)

// TestMapKeysInFieldPaths: an error about a map entry names the entry, as
// `metadata.labels["bad key!"]`, whether the key or the value is wrong, so
// a user with a hundred labels knows which one to fix.
func TestMapKeysInFieldPaths(t *testing.T) {
	selector := func(ls map[string]string) *LabelSelector { return &LabelSelector{MatchLabels: ls} }
	runInvalidCases(t, []invalidCase{
		{"label key", pod(func(p *Pod) { p.Labels["bad key!"] = "x" }), []string{`invalid metadata.labels["bad key!"]`}},
		{"label value", pod(func(p *Pod) { p.Labels["app"] = "web app" }), []string{`invalid metadata.labels["app"]`}},
		{"annotation key", pod(func(p *Pod) { p.Annotations = map[string]string{"bad key!": "x"} }), []string{`invalid metadata.annotations["bad key!"]`}},
		{"config map data key", configMap(func(c *ConfigMap) { c.Data["../x"] = "x" }), []string{`invalid data["../x"]`}},
		{"config map binary data key", configMap(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"a b": {0}} }), []string{`invalid binaryData["a b"]`}},
		{"config map key in data and binary data", configMap(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"app.conf": {0}} }),
			[]string{`duplicate binaryData["app.conf"]`}},
		{"secret data key", secret(func(s *Secret) { s.Data["pass word"] = []byte("x") }), []string{`invalid data["pass word"]`}},
		{"node selector key", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"-zone": "a"} }), []string{`invalid spec.nodeSelector["-zone"]`}},
		{"node selector value", pod(func(p *Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a b"} }), []string{`invalid spec.nodeSelector["zone"]`}},
		{"service selector key", service(func(s *Service) { s.Spec.Selector = map[string]string{"bad key!": "web"} }), []string{`invalid spec.selector["bad key!"]`}},
		{"deployment selector key", deployment(func(d *Deployment) {
			d.Spec.Selector = selector(map[string]string{"app": "web", "bad key!": "x"})
			d.Spec.Template.Labels["bad key!"] = "x"
		}), []string{`invalid spec.selector.matchLabels["bad key!"]`, `invalid spec.template.metadata.labels["bad key!"]`}},
		{"unsupported resource", pod(func(p *Pod) {
			p.Spec.Containers[0].Resources.Limits = ResourceList{"nvidia.com/gpu": qty("1")}
		}), []string{`unsupported spec.containers[0].resources.limits["nvidia.com/gpu"]`}},
		{"request over limit", pod(func(p *Pod) {
			p.Spec.Containers[0].Resources = ResourceRequirements{Requests: ResourceList{ResourceCPU: qty("2")}, Limits: ResourceList{ResourceCPU: qty("1")}}
		}), []string{`invalid spec.containers[0].resources.requests["cpu"]`}},
		{"node pool label key", nodePool(func(p *NodePool) { p.Spec.Labels = map[string]string{"bad key!": "x"} }), []string{`invalid spec.labels["bad key!"]`}},
	})
}

// TestLabelAndAnnotationLimits: an object cannot carry unbounded labels or
// annotations (100,000 labels were once stored); the limits name the field.
func TestLabelAndAnnotationLimits(t *testing.T) {
	manyLabels := func(n int) map[string]string {
		ls := map[string]string{"app": "web"}
		for i := range n - 1 {
			ls["l"+strconv.Itoa(i)] = "v"
		}
		return ls
	}
	t.Run("at the limits", func(t *testing.T) {
		p := pod(func(p *Pod) {
			p.Labels = manyLabels(MaxLabels)
			p.Annotations = map[string]string{"note": strings.Repeat("x", MaxAnnotationsBytes-len("note"))}
		})
		if errs := Validate(p); len(errs) > 0 {
			t.Fatalf("%d labels and %d bytes of annotations rejected: %v", MaxLabels, MaxAnnotationsBytes, errs)
		}
	})
	runInvalidCases(t, []invalidCase{
		{"too many labels", pod(func(p *Pod) { p.Labels = manyLabels(MaxLabels + 1) }), []string{"FieldValueTooMany metadata.labels"}},
		{"100,000 labels", pod(func(p *Pod) { p.Labels = manyLabels(100_000) }), []string{"FieldValueTooMany metadata.labels"}},
		{"too many template labels", deployment(func(d *Deployment) { d.Spec.Template.Labels = manyLabels(MaxLabels + 1) }),
			[]string{"FieldValueTooMany spec.template.metadata.labels"}},
		{"annotations over 256 KiB", pod(func(p *Pod) {
			p.Annotations = map[string]string{"note": strings.Repeat("x", MaxAnnotationsBytes)}
		}), []string{"toolong metadata.annotations"}},
	})
}

func TestPathKey(t *testing.T) {
	cases := []struct {
		path Path
		want string
	}{
		{NewPath("metadata").Child("labels").Key("app"), `metadata.labels["app"]`},
		{NewPath("data").Key("../x"), `data["../x"]`},
		{NewPath("data").Key(`a"b`), `data["a\"b"]`},
		{NewPath("spec").Child("containers").Index(0).Child("resources").Child("limits").Key("cpu"), `spec.containers[0].resources.limits["cpu"]`},
		{Path("").Key("k"), `["k"]`},
	}
	for _, tc := range cases {
		if got := tc.path.String(); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
