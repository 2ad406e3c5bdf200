package convert

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/schema"
)

// Copy returns a deep copy of obj.
func Copy(obj api.Object) (api.Object, error) {
	kind := api.KindOf(obj)
	if kind == nil {
		return nil, fmt.Errorf("convert: copy of an object of unknown kind %T", obj)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("convert: copying %s: %w", kind.Kind, err)
	}
	out := kind.New()
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("convert: copying %s: %w", kind.Kind, err)
	}
	api.SetTypeMeta(out)
	return out, nil
}

// Normalize is obj's attribute tree with the API's defaults filled in:
// what the object will read like once the server has it. Both sides of a
// diff go through it, so defaults are no change and quantities compare
// by value.
func Normalize(kind string, obj api.Object) (map[string]any, error) {
	c, err := Copy(obj)
	if err != nil {
		return nil, err
	}
	api.Default(c)
	return ToAttrs(kind, c)
}

// Applied are the label and annotation keys of an object's metadata that
// the last apply of its manifest wrote. The CLI keeps no state file: it
// records them on the object (an annotation), so that a key taken out of
// the manifest is removed, while keys others set are left alone.
type Applied struct {
	Labels      []string `json:"labels,omitempty"`
	Annotations []string `json:"annotations,omitempty"`
}

// AppliedOf lists the label and annotation keys of m (sorted).
func AppliedOf(m *api.ObjectMeta) Applied {
	return Applied{Labels: slices.Sorted(maps.Keys(m.Labels)), Annotations: slices.Sorted(maps.Keys(m.Annotations))}
}

func (a Applied) keys(name string) []string {
	if name == "labels" {
		return a.Labels
	}
	return a.Annotations
}

// Align takes out of want and have what the manifest leaves to the server,
// as the provider's state does: optional attributes the server fills in
// (schema.KeepUnset) that raw, the tree as written, does not set, and
// label and annotation keys the manifest does not name and the last apply
// did not write (others' keys are never a diff; a key the manifest no
// longer names is one to remove). have may be nil (nothing live). Both are
// changed in place.
func Align(kind string, raw, want, have map[string]any, applied Applied) {
	for _, p := range schema.KeepUnset(kind) {
		dropUnset(raw, want, have, strings.Split(p, "."))
	}
	prefix := ""
	if _, ok := schema.JSONBlock(kind).NestedBlocks["metadata"]; ok {
		prefix = "metadata"
	}
	for _, name := range []string{"labels", "annotations"} {
		w, h := child(want, prefix), child(have, prefix)
		if h == nil {
			continue
		}
		wm, _ := w[name].(map[string]any)
		hm, ok := h[name].(map[string]any)
		if !ok {
			continue
		}
		kept := map[string]any{}
		for k, v := range hm {
			if _, tracked := wm[k]; tracked || slices.Contains(applied.keys(name), k) {
				kept[k] = v
			}
		}
		if len(kept) == 0 {
			delete(h, name)
		} else {
			h[name] = kept
		}
	}
}

func child(m map[string]any, name string) map[string]any {
	if name == "" || m == nil {
		return m
	}
	c, _ := m[name].(map[string]any)
	return c
}

// dropUnset removes the attribute at path from want and have wherever raw
// does not set it (element by element in repeated blocks).
func dropUnset(raw, want, have map[string]any, path []string) {
	name := path[0]
	if len(path) == 1 {
		if _, set := raw[name]; !set {
			delete(want, name)
			delete(have, name)
		}
		return
	}
	r, w, h := children(raw[name]), children(want[name]), children(have[name])
	for i := range max(len(w), len(h)) {
		dropUnset(at(r, i), at(w, i), at(h, i), path[1:])
	}
}

// children are a single block as a list of one, or a repeated block's
// elements.
func children(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			out[i], _ = e.(map[string]any)
		}
		return out
	}
	return nil
}

func at(l []map[string]any, i int) map[string]any {
	if i < len(l) {
		return l[i]
	}
	return nil
}
