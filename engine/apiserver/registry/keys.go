package registry

import (
	"github.com/maestro-dev/maestro/engine/api"
)

// Key is the store key of one object: /<plural>/<namespace>/<name>, or
// /<plural>/<name> for cluster-scoped kinds.
func Key(kind *api.KindInfo, namespace, name string) string {
	if kind.Namespaced {
		return "/" + kind.Plural + "/" + namespace + "/" + name
	}
	return "/" + kind.Plural + "/" + name
}

// Prefix is the store prefix of a kind's objects in one namespace, or in
// all namespaces when namespace is "". It ends in "/" so "pods/a/" never
// matches namespace "ab".
func Prefix(kind *api.KindInfo, namespace string) string {
	if kind.Namespaced && namespace != "" {
		return "/" + kind.Plural + "/" + namespace + "/"
	}
	return "/" + kind.Plural + "/"
}

// SecretsPrefix is where secrets live; the store encrypts values under it.
const SecretsPrefix = "/secrets/"
