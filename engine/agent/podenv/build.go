package podenv

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
)

// Build returns the environment of container c of pod as KEY=value lines.
// extra (e.g. service variables, KEY=value) comes first, so anything the
// container declares overrides it. Config maps and secrets are read from
// src in the pod's namespace, each once. A missing optional source or key
// is skipped; a missing required one is an error naming it. pod's status
// must carry the pod and host IPs for status.podIP and status.hostIP.
func Build(ctx context.Context, pod *api.Pod, c *api.Container, src volumes.Source, extra []string) ([]string, error) {
	env := &envList{values: map[string]string{}}
	for _, kv := range extra {
		if name, value, _ := strings.Cut(kv, "="); name != "" {
			env.set(name, value)
		}
	}
	cfg := &sources{src: src, namespace: pod.Namespace}
	for i := range c.EnvFrom {
		if err := addEnvFrom(ctx, env, cfg, &c.EnvFrom[i]); err != nil {
			return nil, fmt.Errorf("container %q: envFrom: %w", c.Name, err)
		}
	}
	for i := range c.Env {
		v := &c.Env[i]
		value, ok, err := resolve(ctx, pod, v, env, cfg)
		if err != nil {
			return nil, fmt.Errorf("container %q: env %q: %w", c.Name, v.Name, err)
		}
		if ok {
			env.set(v.Name, value)
		}
	}
	return env.lines(), nil
}

// addEnvFrom imports every key of a config map or secret, sorted, under
// its prefix; keys that do not make valid names are skipped (kubelet
// records an event for them; the API cannot reject them, since the same
// config map may also be used as files).
func addEnvFrom(ctx context.Context, env *envList, cfg *sources, from *api.EnvFromSource) error {
	var data map[string]string
	switch {
	case from.ConfigMapRef != nil:
		cm, err := cfg.configMap(ctx, from.ConfigMapRef.Name)
		if err != nil {
			return skipIfOptional(err, from.ConfigMapRef.Optional)
		}
		data = cm.Data
	case from.SecretRef != nil:
		s, err := cfg.secret(ctx, from.SecretRef.Name)
		if err != nil {
			return skipIfOptional(err, from.SecretRef.Optional)
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return fmt.Errorf("envFrom sets neither configMapRef nor secretRef")
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if name := from.Prefix + k; api.IsEnvVarName(name) == "" {
			env.set(name, data[k])
		}
	}
	return nil
}

// resolve finds one variable's value; ok is false for a missing optional
// reference, which leaves the variable unset.
func resolve(ctx context.Context, pod *api.Pod, v *api.EnvVar, env *envList, cfg *sources) (value string, ok bool, err error) {
	from := v.ValueFrom
	switch {
	case from == nil:
		return Expand(v.Value, env.lookup), true, nil
	case from.ConfigMapKeyRef != nil:
		r := from.ConfigMapKeyRef
		cm, err := cfg.configMap(ctx, r.Name)
		if err != nil {
			return "", false, skipIfOptional(err, r.Optional)
		}
		value, ok = cm.Data[r.Key]
		if !ok && !api.Deref(r.Optional, false) {
			return "", false, fmt.Errorf("configmap %q has no key %q", r.Name, r.Key)
		}
		return value, ok, nil
	case from.SecretKeyRef != nil:
		r := from.SecretKeyRef
		s, err := cfg.secret(ctx, r.Name)
		if err != nil {
			return "", false, skipIfOptional(err, r.Optional)
		}
		b, ok := s.Data[r.Key]
		if !ok && !api.Deref(r.Optional, false) {
			return "", false, fmt.Errorf("secret %q has no key %q", r.Name, r.Key)
		}
		return string(b), ok, nil
	case from.FieldRef != nil:
		value, err := fieldValue(pod, from.FieldRef.FieldPath)
		return value, err == nil, err
	default:
		return "", false, fmt.Errorf("valueFrom sets no source")
	}
}

// fieldValue reads the pod fields the API lets containers see.
func fieldValue(pod *api.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return pod.UID, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	default:
		return "", fmt.Errorf("unsupported fieldPath %q", path)
	}
}

// envList is an ordered set of variables; redefining one keeps its place.
type envList struct {
	names  []string
	values map[string]string
}

func (e *envList) set(name, value string) {
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name] = value
}

func (e *envList) lookup(name string) (string, bool) {
	v, ok := e.values[name]
	return v, ok
}

func (e *envList) lines() []string {
	out := make([]string, len(e.names))
	for i, n := range e.names {
		out[i] = n + "=" + e.values[n]
	}
	return out
}
