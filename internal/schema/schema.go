package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2/hcldec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Names of the generated files and the provider they describe.
const (
	SchemaFile     = "schema.json"
	RulesFile      = "rules.json"
	ProviderSource = "registry.terraform.io/maestro-dev/maestro"
	// TypePrefix makes a manifest kind a Terraform resource type.
	TypePrefix = "maestro_"
)

// kinds are the manifest kinds, in the order objects are applied:
// namespaces first, then what workloads read, the workloads, and what
// points at them.
var kinds = []string{"namespace", "config_map", "secret", "volume", "deployment", "pod", "service", "autoscaler"}

// apiKinds are the API kinds of the manifest kinds.
var apiKinds = map[string]string{
	"namespace": "Namespace", "config_map": "ConfigMap", "secret": "Secret", "volume": "Volume",
	"deployment": "Deployment", "pod": "Pod", "service": "Service", "autoscaler": "Autoscaler",
}

// Rules is what the terraform-json schema does not carry about a kind.
// Paths are attribute paths from the resource's root, dotted, without
// list indices ("spec.template.container.image").
type Rules struct {
	// ForceNew: a change replaces the object.
	ForceNew []string `json:"force_new,omitempty"`
	// KeepUnset: optional attributes the server fills in; left out of a
	// manifest, the live value stays (and is no diff).
	KeepUnset []string `json:"keep_unset,omitempty"`
	// Sensitive values are never printed.
	Sensitive []string `json:"sensitive,omitempty"`
	// WriteOnly values are sent but never read back.
	WriteOnly []string `json:"write_only,omitempty"`
	// ServerOwned attributes are set only by the server (computed only).
	ServerOwned []string `json:"server_owned,omitempty"`
}

// Sort orders every list (the generator's output is stable).
func (r *Rules) Sort() {
	for _, l := range []*[]string{&r.ForceNew, &r.KeepUnset, &r.Sensitive, &r.WriteOnly, &r.ServerOwned} {
		sort.Strings(*l)
		*l = slices.Compact(*l)
	}
}

//go:embed schema.json
var schemaJSON []byte

//go:embed rules.json
var rulesJSON []byte

var load = sync.OnceValues(func() (*loaded, error) {
	var ps tfjson.ProviderSchemas
	if err := json.Unmarshal(schemaJSON, &ps); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", SchemaFile, err)
	}
	p := ps.Schemas[ProviderSource]
	if p == nil {
		return nil, fmt.Errorf("schema: %s has no provider %s", SchemaFile, ProviderSource)
	}
	l := &loaded{blocks: map[string]*tfjson.SchemaBlock{}, specs: map[string]hcldec.Spec{}}
	if err := json.Unmarshal(rulesJSON, &l.rules); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", RulesFile, err)
	}
	for _, k := range kinds {
		s := p.ResourceSchemas[TypePrefix+k]
		if s == nil || s.Block == nil {
			return nil, fmt.Errorf("schema: %s has no %s%s", SchemaFile, TypePrefix, k)
		}
		l.blocks[k] = s.Block
		l.specs[k] = blockSpec(s.Block)
	}
	return l, nil
})

type loaded struct {
	blocks map[string]*tfjson.SchemaBlock
	specs  map[string]hcldec.Spec
	rules  map[string]*Rules
}

func mustLoad() *loaded {
	l, err := load()
	if err != nil {
		panic(err) // the embedded files are generated and tested: a failure is a build defect
	}
	return l
}

// Kinds lists the manifest kinds in apply order.
func Kinds() []string { return slices.Clone(kinds) }

// Known reports whether kind is a manifest kind.
func Known(kind string) bool { return slices.Contains(kinds, kind) }

// APIKind is the API kind of a manifest kind ("deployment": "Deployment").
func APIKind(kind string) string { return apiKinds[kind] }

// KindOfAPI is the manifest kind of an API kind ("" when none).
func KindOfAPI(apiKind string) string {
	for k, v := range apiKinds {
		if v == apiKind {
			return k
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

// Block is the kind's schema as terraform-json has it (nil for an unknown
// kind).
func Block(kind string) *tfjson.SchemaBlock { return mustLoad().blocks[kind] }

// Spec is the hcldec spec that decodes a manifest block of the kind.
func Spec(kind string) hcldec.Spec { return mustLoad().specs[kind] }

func rules(kind string) *Rules {
	if r := mustLoad().rules[kind]; r != nil {
		return r
	}
	return &Rules{}
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
