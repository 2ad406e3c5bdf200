package cli

import (
	"context"
	"regexp"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// maestro describe pod shows the pod's and its containers' security
// contexts and the names of its image pull secrets.
func TestDescribePodSecurity(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "locked", Namespace: "default"}, Spec: api.PodSpec{
		SecurityContext:  &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000), RunAsNonRoot: api.Ptr(true)},
		ImagePullSecrets: []api.LocalObjectReference{{Name: "regcred"}},
		Containers: []api.Container{{Name: "app", Image: "registry.example.com/app:1",
			SecurityContext: &api.SecurityContext{ReadOnlyRootFilesystem: api.Ptr(true), Capabilities: &api.Capabilities{Drop: []api.Capability{"ALL"}}}}},
	}}
	if _, err := env.Client.Pods("default").Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, cfg, "describe", "pod", "locked")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^Security Context:\s+runAsNonRoot=true\n\s+runAsUser=1000$`, `(?m)^Image Pull Secrets:\s+regcred$`,
		`(?m)^\s+Security Context:\s+capabilities=drop=\[ALL\]\n\s+readOnlyRootFilesystem=true$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("describe pod does not match %s:\n%s", want, out)
		}
	}
}
