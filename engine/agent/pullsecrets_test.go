package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// Containers without a security context hash as before security contexts
// existed (an agent upgrade restarts nothing); the pod's context counts
// where it changes the container's.
func TestContainerHashWithSecurityContexts(t *testing.T) {
	c := api.Container{Name: "app", Image: "demo:1"}
	b, _ := json.Marshal(&c)
	sum := sha256.Sum256(b)
	if got, want := containerHash(&api.PodSpec{}, &c), hex.EncodeToString(sum[:8]); got != want {
		t.Errorf("hash without security contexts %s, want the old %s", got, want)
	}
	plain := containerHash(&api.PodSpec{}, &c)
	withPod := containerHash(&api.PodSpec{SecurityContext: &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000)}}, &c)
	if withPod == plain {
		t.Error("the pod's runAsUser does not change the container's hash")
	}
	own := c
	own.SecurityContext = &api.SecurityContext{RunAsUser: api.Ptr[int64](2000)}
	overridden := containerHash(&api.PodSpec{SecurityContext: &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000)}}, &own)
	if overridden != containerHash(&api.PodSpec{}, &own) {
		t.Error("a pod runAsUser the container overrides changed its hash")
	}
}

func TestSecurityForTheRuntime(t *testing.T) {
	spec := &api.PodSpec{SecurityContext: &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000), RunAsNonRoot: api.Ptr(true)}}
	c := &api.Container{SecurityContext: &api.SecurityContext{ReadOnlyRootFilesystem: api.Ptr(true), AllowPrivilegeEscalation: api.Ptr(false),
		Capabilities: &api.Capabilities{Add: []api.Capability{"NET_BIND_SERVICE"}, Drop: []api.Capability{"ALL"}}}}
	s := security(spec, c)
	if *s.RunAsUser != 1000 || !s.RunAsNonRoot || !s.ReadOnlyRootFilesystem || !s.NoNewPrivileges || s.Privileged ||
		!slices.Equal(s.CapAdd, []string{"NET_BIND_SERVICE"}) || !slices.Equal(s.CapDrop, []string{"ALL"}) {
		t.Errorf("security = %+v", s)
	}
	if !security(&api.PodSpec{}, &api.Container{}).IsZero() {
		t.Error("no contexts: want the runtime's defaults")
	}
	if security(&api.PodSpec{}, &api.Container{SecurityContext: &api.SecurityContext{AllowPrivilegeEscalation: api.Ptr(true)}}).NoNewPrivileges {
		t.Error("allowPrivilegeEscalation true set no_new_privs")
	}
}
