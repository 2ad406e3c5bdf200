package controller

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
)

// claim returns the candidates owner controls, after adopting matching
// orphans and releasing children that no longer match (client-go's
// ControllerRefManager). canAdopt re-reads the owner once before the first
// adoption: a cached owner may already be deleted or replaced, and an
// adoption by a dead owner would hand the child to the garbage collector.
func claim[T api.Object](ctx context.Context, owner api.Object, sel labels.Selector, candidates []T,
	res client.Resource[T], canAdopt func(context.Context) error) ([]T, error) {
	meta := owner.GetObjectMeta()
	var owned []T
	var errs []error
	var adoptErr error
	checked := false
	for _, obj := range candidates {
		m := obj.GetObjectMeta()
		what := api.KindOf(obj).Kind + " " + m.Namespace + "/" + m.Name
		switch rsClaimFor(meta, m, sel.Matches(labels.Set(m.Labels))) {
		case rsClaimKeep:
			owned = append(owned, obj)
		case rsClaimAdopt:
			if !checked {
				adoptErr, checked = canAdopt(ctx), true
			}
			if adoptErr != nil {
				errs = append(errs, adoptErr)
				continue
			}
			cp := shallowCopy(obj)
			cp.GetObjectMeta().OwnerReferences = rsWithControllerRef(m.OwnerReferences, owner)
			updated, err := res.Update(ctx, cp)
			switch {
			case err == nil:
				owned = append(owned, updated)
			case !api.IsNotFound(err):
				errs = append(errs, fmt.Errorf("adopting %s: %w", what, err))
			}
		case rsClaimRelease:
			cp := shallowCopy(obj)
			cp.GetObjectMeta().OwnerReferences = rsWithoutRef(m.OwnerReferences, meta.UID)
			if _, err := res.Update(ctx, cp); err != nil && !api.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("releasing %s: %w", what, err))
			}
		}
	}
	return owned, errors.Join(errs...)
}

// shallowCopy copies the object (not what its fields point to), so the
// cached one is left as it is.
func shallowCopy[T api.Object](obj T) T {
	v := reflect.ValueOf(obj).Elem()
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	return cp.Interface().(T)
}
