package podenv

import (
	"context"
	"errors"
	"fmt"

	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
)

// sources reads each config map and secret of one Build once, remembering
// failures too (a container may reference one key of a missing optional
// config map many times).
type sources struct {
	src        volumes.Source
	namespace  string
	configMaps map[string]result[*api.ConfigMap]
	secrets    map[string]result[*api.Secret]
}

type result[T any] struct {
	obj T
	err error
}

func (s *sources) configMap(ctx context.Context, name string) (*api.ConfigMap, error) {
	if r, ok := s.configMaps[name]; ok {
		return r.obj, r.err
	}
	cm, err := s.src.ConfigMap(ctx, s.namespace, name)
	err = fetchError("configmap", name, cm == nil, err)
	if s.configMaps == nil {
		s.configMaps = map[string]result[*api.ConfigMap]{}
	}
	s.configMaps[name] = result[*api.ConfigMap]{cm, err}
	return cm, err
}

func (s *sources) secret(ctx context.Context, name string) (*api.Secret, error) {
	if r, ok := s.secrets[name]; ok {
		return r.obj, r.err
	}
	sec, err := s.src.Secret(ctx, s.namespace, name)
	err = fetchError("secret", name, sec == nil, err)
	if s.secrets == nil {
		s.secrets = map[string]result[*api.Secret]{}
	}
	s.secrets[name] = result[*api.Secret]{sec, err}
	return sec, err
}

// fetchError makes a missing object a volumes.NotFoundError (the message
// kubelet users know: configmap "x" not found) and names other failures.
func fetchError(kind, name string, missing bool, err error) error {
	switch {
	case err == nil && missing:
		return &volumes.NotFoundError{Kind: kind, Name: name, Err: api.NewNotFound(kind+"s", name)}
	case err == nil:
		return nil
	case api.IsNotFound(err):
		return &volumes.NotFoundError{Kind: kind, Name: name, Err: err}
	default:
		return fmt.Errorf("reading %s %q: %w", kind, name, err)
	}
}

// skipIfOptional drops a not-found error for an optional reference.
func skipIfOptional(err error, optional *bool) error {
	var nf *volumes.NotFoundError
	if errors.As(err, &nf) && api.Deref(optional, false) {
		return nil
	}
	return err
}
