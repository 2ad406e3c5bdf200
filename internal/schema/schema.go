package schema

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2/hcldec"
	tfjson "github.com/hashicorp/terraform-json"
)

// ProviderSource is the provider the kinds are Terraform resources of.
const ProviderSource = "registry.terraform.io/maestro-dev/maestro"

// TypePrefix makes a manifest kind a Terraform resource type.
const TypePrefix = "maestro_"

// ruleSet is what the terraform-json schema does not carry about a kind.
// Paths are attribute paths from the resource's root, dotted, without
// list indices ("spec.template.container.image").
type ruleSet struct {
	// ForceNew: a change replaces the object.
	ForceNew []string
	// KeepUnset: optional attributes the server fills in; left out of a
	// manifest, the live value stays (and is no diff).
	KeepUnset []string
	// Sensitive values are never printed.
	Sensitive []string
	// WriteOnly values are sent but never read back.
	WriteOnly []string
	// ServerOwned attributes are set only by the server (computed only).
	ServerOwned []string
}

// sort orders every list.
func (r *ruleSet) sort() {
	for _, l := range []*[]string{&r.ForceNew, &r.KeepUnset, &r.Sensitive, &r.WriteOnly, &r.ServerOwned} {
		sort.Strings(*l)
		*l = slices.Compact(*l)
	}
}

var load = sync.OnceValue(func() *loaded {
	l := &loaded{byName: map[string]Kind{}, blocks: map[string]*tfjson.SchemaBlock{}, specs: map[string]hcldec.Spec{}, rules: map[string]*ruleSet{}}
	for _, k := range describe() {
		k = normalized(k)
		l.kinds = append(l.kinds, k)
		l.byName[k.Name] = k
		l.blocks[k.Name] = jsonBlock(k.Block)
		l.specs[k.Name] = blockSpec(l.blocks[k.Name])
		l.rules[k.Name] = kindRules(k)
	}
	return l
})

type loaded struct {
	kinds  []Kind
	byName map[string]Kind
	blocks map[string]*tfjson.SchemaBlock
	specs  map[string]hcldec.Spec
	rules  map[string]*ruleSet
}

// Kinds lists the manifest kinds in apply order.
func Kinds() []string {
	var out []string
	for _, k := range load().kinds {
		out = append(out, k.Name)
	}
	return out
}

// Describe is the kind's description (false for an unknown kind): what
// the provider builds its resource's schema from. Its maps are shared:
// read them, never change them.
func Describe(kind string) (Kind, bool) {
	k, ok := load().byName[kind]
	return k, ok
}

// Known reports whether kind is a manifest kind.
func Known(kind string) bool {
	_, ok := Describe(kind)
	return ok
}

// APIKind is the API kind of a manifest kind ("deployment": "Deployment").
func APIKind(kind string) string {
	k, _ := Describe(kind)
	return k.APIKind
}

// KindOfAPI is the manifest kind of an API kind ("" when none).
func KindOfAPI(apiKind string) string {
	for _, k := range load().kinds {
		if k.APIKind == apiKind {
			return k.Name
		}
	}
	return ""
}

// KindOfType is the manifest kind of a Terraform resource type
// ("maestro_deployment": "deployment").
func KindOfType(typ string) (string, bool) {
	k, ok := strings.CutPrefix(typ, TypePrefix)
	return k, ok && Known(k)
}

// JSONBlock is the kind's schema as terraform-json has it, without the
// timeouts block a manifest has no use for (nil for an unknown kind).
func JSONBlock(kind string) *tfjson.SchemaBlock { return load().blocks[kind] }

// Spec is the hcldec spec that decodes a manifest block of the kind.
func Spec(kind string) hcldec.Spec { return load().specs[kind] }

func rules(kind string) *ruleSet {
	if r := load().rules[kind]; r != nil {
		return r
	}
	return &ruleSet{}
}

// ForceNew lists the attribute paths whose change replaces the object.
func ForceNew(kind string) []string { return slices.Clone(rules(kind).ForceNew) }

// Sensitive lists the attribute paths never printed (write-only ones too).
func Sensitive(kind string) []string {
	r := rules(kind)
	out := slices.Concat(r.Sensitive, r.WriteOnly)
	sort.Strings(out)
	return slices.Compact(out)
}

// KeepUnset lists the optional attributes the server fills in.
func KeepUnset(kind string) []string { return slices.Clone(rules(kind).KeepUnset) }

// ServerOwned lists the attributes only the server sets.
func ServerOwned(kind string) []string { return slices.Clone(rules(kind).ServerOwned) }
