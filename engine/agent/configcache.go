package agent

import (
	"context"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// configTTL bounds how stale a config map or secret read by the agent may
// be: file volumes and env of new containers see changes within it.
const configTTL = 5 * time.Second

// configCache reads the config maps and secrets of this node's pods with
// the node's credential, caching them briefly so syncing many pods that
// share one does not read it many times.
type configCache struct {
	c  *client.Client
	mu sync.Mutex
	m  map[string]cachedConfig
}

type cachedConfig struct {
	obj  any
	err  error
	read time.Time
}

func newConfigCache(c *client.Client) *configCache {
	return &configCache{c: c, m: map[string]cachedConfig{}}
}

// ConfigMap implements volumes.Source.
func (cc *configCache) ConfigMap(ctx context.Context, namespace, name string) (*api.ConfigMap, error) {
	obj, err := cc.get(ctx, "cm/"+namespace+"/"+name, func() (any, error) { return cc.c.ConfigMaps(namespace).Get(ctx, name) })
	if err != nil {
		return nil, err
	}
	return obj.(*api.ConfigMap), nil
}

// Secret implements volumes.Source.
func (cc *configCache) Secret(ctx context.Context, namespace, name string) (*api.Secret, error) {
	obj, err := cc.get(ctx, "secret/"+namespace+"/"+name, func() (any, error) { return cc.c.Secrets(namespace).Get(ctx, name) })
	if err != nil {
		return nil, err
	}
	return obj.(*api.Secret), nil
}

// Volume implements volumes.Source.
func (cc *configCache) Volume(ctx context.Context, namespace, name string) (*api.PersistentVolume, error) {
	obj, err := cc.get(ctx, "vol/"+namespace+"/"+name, func() (any, error) { return cc.c.Volumes(namespace).Get(ctx, name) })
	if err != nil {
		return nil, err
	}
	return obj.(*api.PersistentVolume), nil
}

func (cc *configCache) get(ctx context.Context, key string, read func() (any, error)) (any, error) {
	cc.mu.Lock()
	e, ok := cc.m[key]
	cc.mu.Unlock()
	if ok && time.Since(e.read) < configTTL {
		return e.obj, e.err
	}
	obj, err := read()
	if err != nil && !api.IsNotFound(err) {
		return nil, err // transient: not cached
	}
	cc.mu.Lock()
	cc.m[key] = cachedConfig{obj: obj, err: err, read: time.Now()}
	cc.mu.Unlock()
	return obj, err
}
