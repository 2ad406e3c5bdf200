package registry

import "github.com/maestro-dev/maestro/engine/api"

// CachedList returns the objects of a kind in a namespace ("" = all) that
// match sel, from the watch cache when it is running (false when it is
// not: the caller lists the store). The cache may lag the store by the
// watch's delay, so this serves readers that tolerate it (the usage API's
// join of reports with pods), never the list API. The objects are shared
// with the cache: never modify them.
func (r *Registry) CachedList(kind *api.KindInfo, namespace string, sel Selectors) ([]api.Object, bool) {
	h := r.hubFor(kind)
	h.mu.Lock()
	if !h.running {
		h.mu.Unlock()
		return nil, false
	}
	snap := h.snapshotLocked(namespace)
	h.mu.Unlock()
	out := make([]api.Object, 0, len(snap))
	for _, o := range snap {
		if sel.Matches(o.obj) {
			out = append(out, o.obj)
		}
	}
	return out, true
}
