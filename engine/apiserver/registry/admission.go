package registry

import (
	"context"
	"net/http"

	"github.com/maestro-dev/maestro/engine/api"
)

// namespaceAdmitter rejects namespaced objects whose namespace does not
// exist, and new objects in a namespace being deleted.
type namespaceAdmitter struct{ r *Registry }

var nsKind = api.MustKind("Namespace")

func (a namespaceAdmitter) Admit(ctx context.Context, at Attributes) error {
	if !at.Kind.Namespaced || at.Op != OpCreate {
		return nil
	}
	name := at.Object.GetObjectMeta().Namespace
	obj, err := a.r.Get(ctx, nsKind, "", name)
	if api.IsNotFound(err) {
		return api.NewStatusError(http.StatusNotFound, api.ReasonNotFound,
			"namespace %q not found: create it before creating %s in it", name, at.Kind.Plural)
	}
	if err != nil {
		return err
	}
	if obj.GetObjectMeta().DeletionTimestamp != nil && at.Kind.Kind != "Event" {
		return api.NewForbidden("namespace %q is being deleted: no new %s may be created in it", name, at.Kind.Plural)
	}
	return nil
}
