package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// DefaultMaxObjectBytes bounds one stored object: below etcd's request
// limit (1.5 MiB by default, and the client's 2 MiB send limit), so an
// oversized object is refused here with a clear answer instead of failing
// inside etcd with an opaque one. Secrets grow a little when sealed.
const DefaultMaxObjectBytes = 1 << 20

// checkSize refuses an encoded object over the limit.
func (r *Registry) checkSize(kind *api.KindInfo, name string, val []byte) error {
	if len(val) <= r.maxObjectBytes {
		return nil
	}
	e := api.NewStatusError(http.StatusRequestEntityTooLarge, api.ReasonRequestEntityTooLarge,
		"%s %q is %d bytes encoded, over the limit of %d bytes per object: keep large data outside the API "+
			"(or split it over several config maps or secrets)", kind.Kind, name, len(val), r.maxObjectBytes)
	e.Status.Details = &api.StatusDetails{Kind: kind.Kind, Name: name}
	return e
}

// checkAbsent answers a dry-run create as the real one would: 409 when the
// name is taken.
func (r *Registry) checkAbsent(ctx context.Context, kind *api.KindInfo, key, name string) error {
	_, err := r.store.Get(ctx, key)
	switch {
	case err == nil:
		return api.NewAlreadyExists(kind.Kind, name)
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return fmt.Errorf("reading %s %q: %w", kind.Kind, name, err)
}
