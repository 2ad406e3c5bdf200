package docker

import (
	"strings"

	"github.com/docker/docker/api/types/registry"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Registry credentials for pulls: the engine takes one credential per
// pull (the X-Registry-Auth header), so the runtime picks those meant for
// the image's registry and tries them in turn, as the kubelet does.

// dockerHub is the registry of images named without one ("busybox",
// "library/nginx").
const dockerHub = "docker.io"

// registryHost is the registry an image reference pulls from: the part
// before the first slash when it looks like a host (has a dot or a port,
// or is localhost), Docker Hub otherwise.
func registryHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return dockerHub
	}
	return strings.ToLower(first)
}

// normalizeServer reduces a Docker config's registry key to a host:
// "https://index.docker.io/v1/" is Docker Hub, "http://127.0.0.1:5000/"
// is 127.0.0.1:5000.
func normalizeServer(server string) string {
	s := strings.ToLower(strings.TrimSpace(server))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return dockerHub
	}
	return s
}

// authsFor are the credentials of auths meant for ref's registry, in
// their order.
func authsFor(ref string, auths []runtime.RegistryAuth) []runtime.RegistryAuth {
	host := registryHost(ref)
	var out []runtime.RegistryAuth
	for _, a := range auths {
		if normalizeServer(a.Server) == host {
			out = append(out, a)
		}
	}
	return out
}

// encodeAuth is the X-Registry-Auth value of a credential.
func encodeAuth(a runtime.RegistryAuth) (string, error) {
	return registry.EncodeAuthConfig(registry.AuthConfig{Username: a.Username, Password: a.Password,
		IdentityToken: a.IdentityToken, ServerAddress: a.Server})
}

// redact removes any secret of auths from an engine message (engines do
// not echo them, but a registry's error text is not ours to trust).
func redact(msg string, auths []runtime.RegistryAuth) string {
	for _, a := range auths {
		for _, secret := range []string{a.Password, a.IdentityToken} {
			if len(secret) >= 4 {
				msg = strings.ReplaceAll(msg, secret, "<redacted>")
			}
		}
	}
	return msg
}
