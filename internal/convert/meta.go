package convert

import (
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// SystemKey reports whether a label or annotation key belongs to maestro
// itself (deployment.maestro.dev/revision, maestro.dev/manifest-set):
// never part of an attribute tree, as the provider never imports them.
func SystemKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	return ok && (prefix == "maestro.dev" || strings.HasSuffix(prefix, ".maestro.dev"))
}

func userKeys(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if SystemKey(k) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

// readMeta reads name, namespace, labels and annotations from r, a
// metadata block.
func readMeta(r *reader, m *api.ObjectMeta, namespaced bool) {
	m.Name = r.str("name")
	if namespaced {
		m.Namespace = r.str("namespace")
	}
	m.Labels = r.strMap("labels")
	m.Annotations = r.strMap("annotations")
}

func writeMeta(out map[string]any, m *api.ObjectMeta, namespaced bool) {
	setStr(out, "name", m.Name)
	if namespaced {
		setStr(out, "namespace", m.Namespace)
	}
	setMap(out, "labels", userKeys(m.Labels))
	setMap(out, "annotations", userKeys(m.Annotations))
}

// readMetaBlock reads a namespaced object's metadata block (required).
func readMetaBlock(r *reader, m *api.ObjectMeta) { readMetaBlockOf(r, m, true) }

// readMetaBlockOf reads the metadata block (required), with namespace
// when the kind is namespaced.
func readMetaBlockOf(r *reader, m *api.ObjectMeta, namespaced bool) {
	if !r.with("metadata", func(b *reader) { readMeta(b, m, namespaced) }) {
		what := "name and namespace"
		if !namespaced {
			what = "name"
		}
		r.fail("metadata", "required block is missing (%s)", what)
	}
}

func writeMetaBlock(out map[string]any, m *api.ObjectMeta) { writeMetaBlockOf(out, m, true) }

func writeMetaBlockOf(out map[string]any, m *api.ObjectMeta, namespaced bool) {
	md := map[string]any{}
	writeMeta(md, m, namespaced)
	out["metadata"] = md
}
