package docker

import (
	"errors"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/runtime"
)

func TestAuthsForPicksTheImagesRegistry(t *testing.T) {
	auths := []runtime.RegistryAuth{
		{Server: "127.0.0.1:5000", Username: "local"},
		{Server: "https://index.docker.io/v1/", Username: "hub"},
		{Server: "http://Registry.Example.com/", Username: "example"},
		{Server: "127.0.0.1:5000", Username: "local-2"},
	}
	for _, tc := range []struct {
		image string
		want  []string
	}{
		{"127.0.0.1:5000/private/demo:1", []string{"local", "local-2"}},
		{"busybox:1.36", []string{"hub"}},
		{"library/nginx", []string{"hub"}},
		{"docker.io/library/nginx:1", []string{"hub"}},
		{"registry.example.com/app@sha256:abc", []string{"example"}},
		{"localhost/app:1", nil},
		{"other.example.com:443/app", nil},
	} {
		var got []string
		for _, a := range authsFor(tc.image, auths) {
			got = append(got, a.Username)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("authsFor(%s) = %v, want %v", tc.image, got, tc.want)
		}
	}
}

func TestRegistryAuthNeverShowsItsSecrets(t *testing.T) {
	a := runtime.RegistryAuth{Server: "r.example", Username: "u", Password: "pa55word-x", IdentityToken: "tok-123456"}
	if s := a.String(); strings.Contains(s, a.Password) || strings.Contains(s, a.IdentityToken) {
		t.Errorf("String() = %q shows a secret", s)
	}
	if s := a.LogValue().String(); strings.Contains(s, a.Password) || strings.Contains(s, a.IdentityToken) {
		t.Errorf("LogValue() = %q shows a secret", s)
	}
	msg := redact("denied: pa55word-x is not tok-123456", []runtime.RegistryAuth{a})
	if strings.Contains(msg, a.Password) || strings.Contains(msg, a.IdentityToken) {
		t.Errorf("redact left a secret: %q", msg)
	}
}

func TestCheckNonRoot(t *testing.T) {
	for _, tc := range []struct {
		user string
		ok   bool
	}{{"", false}, {"0", false}, {"root", false}, {"app", false}, {"1000", true}, {"65534", true}} {
		err := checkNonRoot("img:1", tc.user)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, runtime.ErrConfig) {
			t.Errorf("checkNonRoot(%q) = %v, want ok=%v (an ErrConfig otherwise)", tc.user, err, tc.ok)
		}
	}
}
