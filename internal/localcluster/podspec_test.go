package localcluster_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// registrySecret is a kubernetes.io/dockerconfigjson secret for one registry.
func registrySecret(t *testing.T, name, server, user, password string) *api.Secret {
	t.Helper()
	cfg, err := json.Marshal(api.DockerConfigJSON{Auths: map[string]api.DockerConfigEntry{server: {Username: user, Password: password}}})
	if err != nil {
		t.Fatal(err)
	}
	return &api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Type: api.SecretTypeDockerConfigJSON,
		Data: map[string][]byte{api.DockerConfigJSONKey: cfg}}
}

// TestPullFromRegistryWithCredentials pushes the test image to a real
// registry that wants a password (docker-registry with htpasswd on
// loopback): a pod naming the right secret in imagePullSecrets pulls it
// and runs; with a wrong password, or none, the pod waits in
// ErrImagePull/ImagePullBackOff with the registry's refusal, and no
// password shows in the pod's status or events.
func TestPullFromRegistryWithCredentials(t *testing.T) {
	const goodPassword, badPassword = "right-horse-battery", "wrong-staple-guess"
	reg := testenv.StartRegistry(t, "maestro", goodPassword)
	c := startCluster(t, 1)
	ref := reg.Push(t, c.docker, c.demo, fmt.Sprintf("private/demo:%d", time.Now().UnixNano()))
	for _, s := range []*api.Secret{
		registrySecret(t, "regcred", reg.Addr, reg.Username, goodPassword),
		registrySecret(t, "badcred", reg.Addr, reg.Username, badPassword),
	} {
		if _, err := c.Client.Secrets("default").Create(c.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	pulling := func(secret string) func(*api.Deployment) {
		return func(d *api.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = ref
			d.Spec.Template.Spec.Containers[0].ImagePullPolicy = api.PullAlways
			if secret != "" {
				d.Spec.Template.Spec.ImagePullSecrets = []api.LocalObjectReference{{Name: secret}}
			}
		}
	}
	c.create(t, c.demoDeployment("private", 1, readyWhenServing, pulling("regcred")))
	c.create(t, c.demoDeployment("wrongpass", 1, pulling("badcred")))
	c.create(t, c.demoDeployment("nopass", 1, pulling("")))

	p := c.readyPods(t, "app=private", 1, 90*time.Second)[0]
	if body, err := get("http://" + p.Status.PodIP + ":8080/"); err != nil {
		t.Errorf("the pulled image does not serve: %q, %v", body, err)
	}
	if img := containerStatus(p, "app").Image; img != ref {
		t.Errorf("container image %q, want %q", img, ref)
	}

	refused := regexp.MustCompile(`(?i)unauthorized|authentication required|no basic auth credentials`)
	for _, app := range []string{"wrongpass", "nopass"} {
		var w *api.ContainerStateWaiting
		eventually(t, 60*time.Second, app+": ErrImagePull or ImagePullBackOff with the registry's refusal", func() (bool, string) {
			pods := c.pods(t, "app="+app)
			if len(pods) != 1 {
				return false, fmt.Sprint(len(pods), " pods")
			}
			w = containerStatus(pods[0], "app").State.Waiting
			if w == nil {
				return false, podState(pods[0])
			}
			return (w.Reason == api.ReasonErrImagePull || w.Reason == api.ReasonImagePullBackOff) && refused.MatchString(w.Message), w.Reason + ": " + w.Message
		})
		t.Logf("%s: %s: %s", app, w.Reason, w.Message)
		if strings.Contains(w.Message, badPassword) || strings.Contains(w.Message, goodPassword) {
			t.Errorf("%s: the status shows a password: %s", app, w.Message)
		}
	}
	events, _, err := c.Client.Events("default").List(c.ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.Contains(e.Message, badPassword) || strings.Contains(e.Message, goodPassword) {
			t.Errorf("event %s shows a password: %s", e.Reason, e.Message)
		}
	}
}

// TestSecurityContextRunsAsUserReadOnly: a pod with run_as_user 1000 and
// a read-only root file system runs as uid 1000 and cannot write to /,
// with no_new_privs and no capabilities when it asks; runAsNonRoot refuses
// an image that runs as root.
func TestSecurityContextRunsAsUserReadOnly(t *testing.T) {
	c := startCluster(t, 1)
	c.create(t, c.demoDeployment("locked", 1, readyWhenServing, func(d *api.Deployment) {
		s := &d.Spec.Template.Spec
		s.SecurityContext = &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000), RunAsGroup: api.Ptr[int64](3000), RunAsNonRoot: api.Ptr(true)}
		s.Containers[0].SecurityContext = &api.SecurityContext{ReadOnlyRootFilesystem: api.Ptr(true), AllowPrivilegeEscalation: api.Ptr(false),
			Capabilities: &api.Capabilities{Drop: []api.Capability{api.CapabilityAll}}}
	}))
	c.create(t, c.demoDeployment("rootimage", 1, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].SecurityContext = &api.SecurityContext{RunAsNonRoot: api.Ptr(true)}
	}))

	p := c.readyPods(t, "app=locked", 1, 60*time.Second)[0]
	base := "http://" + p.Status.PodIP + ":8080"
	status, err := get(base + "/file?path=/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^Uid:\s+1000\s+1000\s+1000\s+1000$`, `(?m)^Gid:\s+3000\s+3000\s+3000\s+3000$`,
		`(?m)^CapEff:\s+0+$`, `(?m)^NoNewPrivs:\s+1$`} {
		if !regexp.MustCompile(want).MatchString(status) {
			t.Errorf("/proc/self/status does not match %s:\n%s", want, status)
		}
	}
	for _, path := range []string{"/note", "/tmp/note"} {
		body, err := httpPost(base+"/file?path="+path, "x")
		if err == nil || !strings.Contains(body, "read-only file system") {
			t.Errorf("writing %s = %q, %v; want a read-only file system error", path, body, err)
		}
	}
	info, err := c.docker.ContainerInspect(c.ctx, c.appContainer(t, p, "app").ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.User != "1000:3000" || !info.HostConfig.ReadonlyRootfs {
		t.Errorf("docker inspect: User %q ReadonlyRootfs %v; want 1000:3000, true", info.Config.User, info.HostConfig.ReadonlyRootfs)
	}

	eventually(t, 60*time.Second, "rootimage refused with CreateContainerConfigError", func() (bool, string) {
		pods := c.pods(t, "app=rootimage")
		if len(pods) != 1 {
			return false, fmt.Sprint(len(pods), " pods")
		}
		w := containerStatus(pods[0], "app").State.Waiting
		if w == nil {
			return false, podState(pods[0])
		}
		return w.Reason == "CreateContainerConfigError" && strings.Contains(w.Message, "runs as root"), w.Reason + ": " + w.Message
	})
}

// TestRegisteredNodeHasKubernetesLabels: a node registered by its agent
// (joined with its zone on its join token) carries Kubernetes'
// well-known labels beside maestro's.
func TestRegisteredNodeHasKubernetesLabels(t *testing.T) {
	c := startCluster(t, 1)
	n, err := c.Client.Nodes().Get(c.ctx, c.Nodes[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		api.LabelKubernetesHostname: n.Name,
		api.LabelKubernetesOS:       goruntime.GOOS,
		api.LabelKubernetesArch:     goruntime.GOARCH,
		api.LabelKubernetesZone:     c.Nodes[0].Zone,
		api.LabelZone:               c.Nodes[0].Zone,
	}
	for k, v := range want {
		if n.Labels[k] != v || v == "" {
			t.Errorf("label %s = %q, want %q (labels %v)", k, n.Labels[k], v, n.Labels)
		}
	}
}
