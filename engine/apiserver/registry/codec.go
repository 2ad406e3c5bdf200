package registry

import (
	"encoding/json"
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// encode serializes an object for the store. The resourceVersion is not
// stored: it is the key's ModRevision, filled in on decode.
func encode(obj api.Object) ([]byte, error) {
	meta := obj.GetObjectMeta()
	rv := meta.ResourceVersion
	meta.ResourceVersion = 0
	api.SetTypeMeta(obj)
	b, err := json.Marshal(obj)
	meta.ResourceVersion = rv
	if err != nil {
		return nil, fmt.Errorf("encoding %s %q: %w", obj.GetTypeMeta().Kind, meta.Name, err)
	}
	return b, nil
}

// decode reads a stored value of the given kind.
func decode(kind *api.KindInfo, kv store.KV) (api.Object, error) {
	obj := kind.New()
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("decoding %s at %q: %w", kind.Kind, kv.Key, err)
	}
	obj.GetObjectMeta().ResourceVersion = kv.ModRevision
	api.SetTypeMeta(obj)
	return obj, nil
}
