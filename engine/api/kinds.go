package api

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// KindInfo describes how a kind is addressed and stored.
type KindInfo struct {
	Kind       string // "Deployment"
	Plural     string // "deployments": the URL path segment
	Namespaced bool
	// HasStatus kinds have a /status subresource; a plain update keeps the
	// stored status and a status update keeps everything else.
	HasStatus  bool
	ShortNames []string // for the CLI: "deploy"
	New        func() Object
}

// Kinds lists every kind the API serves.
var Kinds = []KindInfo{
	{Kind: "Namespace", Plural: "namespaces", HasStatus: true, ShortNames: []string{"ns"}, New: func() Object { return &Namespace{} }},
	{Kind: "Node", Plural: "nodes", HasStatus: true, ShortNames: []string{"no"}, New: func() Object { return &Node{} }},
	{Kind: "NodePool", Plural: "nodepools", HasStatus: true, ShortNames: []string{"np"}, New: func() Object { return &NodePool{} }},
	{Kind: "Machine", Plural: "machines", HasStatus: true, ShortNames: []string{"ma"}, New: func() Object { return &Machine{} }},
	{Kind: "Pod", Plural: "pods", Namespaced: true, HasStatus: true, ShortNames: []string{"po"}, New: func() Object { return &Pod{} }},
	{Kind: "ReplicaSet", Plural: "replicasets", Namespaced: true, HasStatus: true, ShortNames: []string{"rs"}, New: func() Object { return &ReplicaSet{} }},
	{Kind: "Deployment", Plural: "deployments", Namespaced: true, HasStatus: true, ShortNames: []string{"deploy"}, New: func() Object { return &Deployment{} }},
	{Kind: "Service", Plural: "services", Namespaced: true, HasStatus: true, ShortNames: []string{"svc"}, New: func() Object { return &Service{} }},
	{Kind: "Endpoints", Plural: "endpoints", Namespaced: true, ShortNames: []string{"ep"}, New: func() Object { return &Endpoints{} }},
	{Kind: "ConfigMap", Plural: "configmaps", Namespaced: true, ShortNames: []string{"cm"}, New: func() Object { return &ConfigMap{} }},
	{Kind: "Secret", Plural: "secrets", Namespaced: true, New: func() Object { return &Secret{} }},
	{Kind: "Volume", Plural: "volumes", Namespaced: true, HasStatus: true, ShortNames: []string{"vol"}, New: func() Object { return &PersistentVolume{} }},
	{Kind: "Autoscaler", Plural: "autoscalers", Namespaced: true, HasStatus: true, ShortNames: []string{"hpa"}, New: func() Object { return &Autoscaler{} }},
	{Kind: "Event", Plural: "events", Namespaced: true, ShortNames: []string{"ev"}, New: func() Object { return &Event{} }},
}

var kindIndex = func() map[string]*KindInfo {
	m := map[string]*KindInfo{}
	for i := range Kinds {
		k := &Kinds[i]
		for _, n := range append([]string{k.Kind, k.Plural, strings.TrimSuffix(k.Plural, "s")}, k.ShortNames...) {
			m[strings.ToLower(n)] = k
		}
	}
	return m
}()

// LookupKind finds a kind by its name, plural, singular or short name, in any
// case ("Deployment", "deployments", "deploy").
func LookupKind(name string) (*KindInfo, error) {
	if k, ok := kindIndex[strings.ToLower(name)]; ok {
		return k, nil
	}
	names := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		names = append(names, k.Plural)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown kind %q (known: %s)", name, strings.Join(names, ", "))
}

// MustKind is LookupKind for names known at compile time.
func MustKind(name string) *KindInfo {
	k, err := LookupKind(name)
	if err != nil {
		panic(err)
	}
	return k
}

var kindByType = func() map[reflect.Type]*KindInfo {
	m := map[reflect.Type]*KindInfo{}
	for i := range Kinds {
		m[reflect.TypeOf(Kinds[i].New())] = &Kinds[i]
	}
	return m
}()

// KindOf returns the kind info for an object by its Go type; it panics on a
// type that is not a registered kind, which is a programming error.
func KindOf(obj Object) *KindInfo {
	k, ok := kindByType[reflect.TypeOf(obj)]
	if !ok {
		panic(fmt.Sprintf("api: %T is not a registered kind", obj))
	}
	return k
}

// SetTypeMeta fills kind and apiVersion from the object's Go type.
func SetTypeMeta(obj Object) {
	tm := obj.GetTypeMeta()
	tm.Kind = KindOf(obj).Kind
	tm.APIVersion = APIVersion
}
