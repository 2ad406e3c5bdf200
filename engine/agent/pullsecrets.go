package agent

import (
	"context"
	"maps"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Event reasons of image pull secrets the agent cannot use.
const reasonFailedPullSecret = "FailedToRetrieveImagePullSecret"

// pullAuths reads the pod's image pull secrets into registry credentials.
// As in Kubernetes, a secret that is missing or not a Docker config is
// reported (an event naming the secret and what is wrong, never its
// content) and the pull goes on with the others: the registry may not
// need it. Only an error reaching the API server is returned.
func (a *Agent) pullAuths(ctx context.Context, pod *api.Pod) ([]runtime.RegistryAuth, error) {
	var out []runtime.RegistryAuth
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := a.config.Secret(ctx, pod.Namespace, ref.Name)
		switch {
		case api.IsNotFound(err):
			a.recorder.Eventf(pod, api.EventWarning, reasonFailedPullSecret,
				"Unable to retrieve image pull secret %q: it does not exist; pulling without it", ref.Name)
			continue
		case err != nil:
			return nil, err
		case s.Type != api.SecretTypeDockerConfigJSON:
			a.recorder.Eventf(pod, api.EventWarning, reasonFailedPullSecret,
				"Image pull secret %q is of type %q, not %s; pulling without it", ref.Name, s.Type, api.SecretTypeDockerConfigJSON)
			continue
		}
		cfg, err := api.ParseDockerConfigJSON(s.Data[api.DockerConfigJSONKey])
		if err != nil {
			a.recorder.Eventf(pod, api.EventWarning, reasonFailedPullSecret,
				"Image pull secret %q: %s %v; pulling without it", ref.Name, api.DockerConfigJSONKey, err)
			continue
		}
		for _, server := range slices.Sorted(maps.Keys(cfg.Auths)) {
			e := cfg.Auths[server]
			out = append(out, runtime.RegistryAuth{Server: server, Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken})
		}
	}
	return out, nil
}

// security is what the runtime applies of the container's security
// context merged with the pod's.
func security(spec *api.PodSpec, c *api.Container) runtime.Security {
	s := api.EffectiveSecurityContext(spec, c)
	if s == nil {
		return runtime.Security{}
	}
	out := runtime.Security{
		RunAsUser: s.RunAsUser, RunAsGroup: s.RunAsGroup, RunAsNonRoot: api.Deref(s.RunAsNonRoot, false),
		ReadOnlyRootFilesystem: api.Deref(s.ReadOnlyRootFilesystem, false), Privileged: api.Deref(s.Privileged, false),
		NoNewPrivileges: s.AllowPrivilegeEscalation != nil && !*s.AllowPrivilegeEscalation,
	}
	if caps := s.Capabilities; caps != nil {
		for _, c := range caps.Add {
			out.CapAdd = append(out.CapAdd, string(c))
		}
		for _, c := range caps.Drop {
			out.CapDrop = append(out.CapDrop, string(c))
		}
	}
	return out
}
