package api

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func withSecurity(s *SecurityContext) func(*Pod) {
	return func(p *Pod) { p.Spec.Containers[0].SecurityContext = s }
}

func TestValidateSecurityContextInvalid(t *testing.T) {
	const sc = "spec.containers[0].securityContext"
	runInvalidCases(t, []invalidCase{
		{"negative runAsUser", pod(withSecurity(&SecurityContext{RunAsUser: Ptr[int64](-1)})), []string{"invalid " + sc + ".runAsUser"}},
		{"runAsGroup over 2^31-1", pod(withSecurity(&SecurityContext{RunAsGroup: Ptr[int64](1 << 31)})), []string{"invalid " + sc + ".runAsGroup"}},
		{"runAsNonRoot with uid 0", pod(withSecurity(&SecurityContext{RunAsUser: Ptr[int64](0), RunAsNonRoot: Ptr(true)})), []string{"invalid " + sc + ".runAsNonRoot"}},
		{"container runAsNonRoot with the pod's uid 0", pod(func(p *Pod) {
			p.Spec.SecurityContext = &PodSecurityContext{RunAsUser: Ptr[int64](0)}
			p.Spec.Containers[0].SecurityContext = &SecurityContext{RunAsNonRoot: Ptr(true)}
		}), []string{"invalid " + sc + ".runAsNonRoot"}},
		{"pod runAsNonRoot with uid 0 reported once", pod(func(p *Pod) {
			p.Spec.SecurityContext = &PodSecurityContext{RunAsUser: Ptr[int64](0), RunAsNonRoot: Ptr(true)}
		}), []string{"invalid spec.securityContext.runAsNonRoot"}},
		{"pod negative runAsGroup", pod(func(p *Pod) { p.Spec.SecurityContext = &PodSecurityContext{RunAsGroup: Ptr[int64](-5)} }),
			[]string{"invalid spec.securityContext.runAsGroup"}},
		{"privileged without escalation", pod(withSecurity(&SecurityContext{Privileged: Ptr(true), AllowPrivilegeEscalation: Ptr(false)})),
			[]string{"invalid " + sc + ".allowPrivilegeEscalation"}},
		{"capability in lower case", pod(withSecurity(&SecurityContext{Capabilities: &Capabilities{Add: []Capability{"net_admin"}}})),
			[]string{"invalid " + sc + ".capabilities.add[0]"}},
		{"empty capability", pod(withSecurity(&SecurityContext{Capabilities: &Capabilities{Drop: []Capability{""}}})),
			[]string{"invalid " + sc + ".capabilities.drop[0]"}},
		{"capability dropped twice", pod(withSecurity(&SecurityContext{Capabilities: &Capabilities{Drop: []Capability{"ALL", "ALL"}}})),
			[]string{"duplicate " + sc + ".capabilities.drop[1]"}},
		{"init container checked too", pod(func(p *Pod) {
			c := sidecar("init")
			c.SecurityContext = &SecurityContext{RunAsUser: Ptr[int64](-1)}
			p.Spec.InitContainers = []Container{c}
		}), []string{"invalid spec.initContainers[0].securityContext.runAsUser"}},
		{"pull secret without a name", pod(func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{}} }),
			[]string{"required spec.imagePullSecrets[0].name"}},
		{"pull secret name invalid", pod(func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{Name: "Reg_Creds"}} }),
			[]string{"invalid spec.imagePullSecrets[0].name"}},
		{"pull secret named twice", pod(func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{Name: "reg"}, {Name: "reg"}} }),
			[]string{"duplicate spec.imagePullSecrets[1].name"}},
	})
}

func TestValidateSecurityContextValid(t *testing.T) {
	for name, p := range map[string]*Pod{
		"everything set": pod(func(p *Pod) {
			p.Spec.SecurityContext = &PodSecurityContext{RunAsUser: Ptr[int64](1000), RunAsGroup: Ptr[int64](1000), RunAsNonRoot: Ptr(true)}
			p.Spec.Containers[0].SecurityContext = &SecurityContext{ReadOnlyRootFilesystem: Ptr(true), AllowPrivilegeEscalation: Ptr(false),
				Capabilities: &Capabilities{Add: []Capability{"NET_BIND_SERVICE"}, Drop: []Capability{"ALL"}}}
			p.Spec.ImagePullSecrets = []LocalObjectReference{{Name: "registry-creds"}}
		}),
		"container overrides the pod's root uid": pod(func(p *Pod) {
			p.Spec.SecurityContext = &PodSecurityContext{RunAsUser: Ptr[int64](0)}
			p.Spec.Containers[0].SecurityContext = &SecurityContext{RunAsUser: Ptr[int64](1000), RunAsNonRoot: Ptr(true)}
		}),
		"privileged": pod(withSecurity(&SecurityContext{Privileged: Ptr(true), Capabilities: &Capabilities{Add: []Capability{"CAP_SYS_ADMIN"}}})),
	} {
		if errs := Validate(p); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

func TestEffectiveSecurityContext(t *testing.T) {
	spec := &PodSpec{SecurityContext: &PodSecurityContext{RunAsUser: Ptr[int64](1000), RunAsGroup: Ptr[int64](2000), RunAsNonRoot: Ptr(true)}}
	c := &Container{SecurityContext: &SecurityContext{RunAsUser: Ptr[int64](3000), ReadOnlyRootFilesystem: Ptr(true)}}
	got := EffectiveSecurityContext(spec, c)
	if *got.RunAsUser != 3000 || *got.RunAsGroup != 2000 || !*got.RunAsNonRoot || !*got.ReadOnlyRootFilesystem {
		t.Errorf("merged = %+v: want the container's uid and read-only root, the pod's group and runAsNonRoot", got)
	}
	if *c.SecurityContext.RunAsUser != 3000 || c.SecurityContext.RunAsGroup != nil {
		t.Error("merging changed the container's own context")
	}
	if EffectiveSecurityContext(&PodSpec{}, &Container{}) != nil {
		t.Error("nothing set: want nil")
	}
}

func dockerConfig(t *testing.T, auths map[string]DockerConfigEntry) []byte {
	t.Helper()
	b, err := json.Marshal(DockerConfigJSON{Auths: auths})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDockerConfigJSON(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cr3t-pass"))
	cfg, err := ParseDockerConfigJSON(dockerConfig(t, map[string]DockerConfigEntry{
		"127.0.0.1:5000":       {Username: "bob", Password: "pw-of-bob"},
		"registry.example.com": {Auth: auth},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e := cfg.Auths["registry.example.com"]; e.Username != "alice" || e.Password != "s3cr3t-pass" {
		t.Errorf("auth not decoded: %+v", e)
	}
	for name, in := range map[string]string{
		"not JSON":             `{"auths": s3cr3t-pass`,
		"no auths":             `{}`,
		"auth not base64":      `{"auths": {"r.example": {"auth": "s3cr3t-pass!!"}}}`,
		"auth without a colon": `{"auths": {"r.example": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("s3cr3t-pass")) + `"}}}`,
		"no user":              `{"auths": {"r.example": {"password": "s3cr3t-pass"}}}`,
		"wrong shape":          `{"auths": ["s3cr3t-pass"]}`,
	} {
		_, err := ParseDockerConfigJSON([]byte(in))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-pass") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
}

func TestValidateDockerConfigSecret(t *testing.T) {
	key := `data[".dockerconfigjson"]`
	runInvalidCases(t, []invalidCase{
		{"registry secret without its key", secret(func(s *Secret) { s.Type = SecretTypeDockerConfigJSON }), []string{"required " + key}},
		{"registry secret not a Docker config", secret(func(s *Secret) {
			s.Type = SecretTypeDockerConfigJSON
			s.Data = map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"r.example": {"password": "hunter2"}}}`)}
		}), []string{"invalid " + key}},
	})
	s := secret(func(s *Secret) {
		s.Type = SecretTypeDockerConfigJSON
		s.Data = map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"r.example": {"password": "hunter2"}}}`)}
	})
	if msg := Validate(s).Error(); strings.Contains(msg, "hunter2") {
		t.Errorf("the error shows the password: %s", msg)
	}
	ok := secret(func(s *Secret) {
		s.Type = SecretTypeDockerConfigJSON
		s.Data = map[string][]byte{DockerConfigJSONKey: dockerConfig(t, map[string]DockerConfigEntry{"r.example": {Username: "u", Password: "p"}})}
	})
	if errs := Validate(ok); len(errs) > 0 {
		t.Errorf("a valid registry secret: %v", errs)
	}
}

func TestNodeGetsKubernetesLabels(t *testing.T) {
	info := NodeSystemInfo{OperatingSystem: "linux", Architecture: "arm64"}
	cases := []struct {
		name   string
		labels map[string]string
		want   map[string]string
	}{
		{"hostname, os and arch", nil, map[string]string{
			LabelKubernetesHostname: "node-1", LabelKubernetesOS: "linux", LabelKubernetesArch: "arm64"}},
		{"maestro's zone and region mirrored", map[string]string{LabelZone: "eu-1a", LabelRegion: "eu-1"}, map[string]string{
			LabelKubernetesZone: "eu-1a", LabelKubernetesRegion: "eu-1", LabelZone: "eu-1a", LabelRegion: "eu-1"}},
		{"Kubernetes' zone mirrored back", map[string]string{LabelKubernetesZone: "z9"}, map[string]string{LabelZone: "z9", LabelKubernetesZone: "z9"}},
		{"maestro's zone wins", map[string]string{LabelZone: "a", LabelKubernetesZone: "b"}, map[string]string{LabelZone: "a", LabelKubernetesZone: "a"}},
		{"a hostname label set is kept", map[string]string{LabelKubernetesHostname: "host-a"}, map[string]string{LabelKubernetesHostname: "host-a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := &Node{ObjectMeta: ObjectMeta{Name: "node-1", Labels: tc.labels}, Status: NodeStatus{NodeInfo: info}}
			Default(n)
			for k, v := range tc.want {
				if n.Labels[k] != v {
					t.Errorf("label %s = %q, want %q (labels %v)", k, n.Labels[k], v, n.Labels)
				}
			}
			if errs := validateLabelsOnly(n); len(errs) > 0 {
				t.Errorf("labels invalid: %v", errs)
			}
		})
	}
	long := &Node{ObjectMeta: ObjectMeta{Name: strings.Repeat("n", 70) + ".example.com"}}
	Default(long)
	if _, ok := long.Labels[LabelKubernetesHostname]; ok {
		t.Errorf("a node name that is no label value became one: %v", long.Labels)
	}
}

func validateLabelsOnly(n *Node) ErrorList {
	return ValidateLabels(n.Labels, NewPath("metadata").Child("labels"))
}
