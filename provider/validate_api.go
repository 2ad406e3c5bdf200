package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
)

// Plan-time validation with the engine's own rules. ValidateConfig of
// every resource that is an API object expands the configuration into that
// object with the resource's own expand function (as Create would), applies
// the API's defaults and runs api.Validate, exactly what the API server
// does before it stores a new object. Each problem becomes an error on the
// attribute the user wrote, with the API's message, so `terraform plan`
// refuses what `terraform apply` would have had refused, without a cluster.
//
// The API names fields by their JSON paths
// (spec.template.spec.containers[0].resources.requests["cpu"]); the
// resources name them by their HCL attribute paths
// (spec.template.container[0].resources.requests.cpu). attrPathOf maps the
// one to the other: a per-kind table of where the object's parts sit in
// the resource (fieldPrefixes), then per-step renames shared by every kind
// (list fields are singular blocks, Kubernetes' long affinity names are
// short, camelCase is snake_case).

var (
	_ resource.ResourceWithValidateConfig = (*NamespaceResource)(nil)
	_ resource.ResourceWithValidateConfig = (*ConfigMapResource)(nil)
	_ resource.ResourceWithValidateConfig = (*ServiceResource)(nil)
	_ resource.ResourceWithValidateConfig = (*VolumeResource)(nil)
)

// validateWithAPI expands m (the configuration) into a new object as
// Create would and reports what the API's validation refuses. It does
// nothing while any configured value is unknown: a value known only after
// apply would be validated as empty.
func (r *crud[T, M]) validateWithAPI(ctx context.Context, config tfsdk.Config, m *M, diags *diag.Diagnostics) {
	if !config.Raw.IsFullyKnown() {
		tflog.Debug(ctx, "API validation skipped: the configuration has values known only after apply", map[string]any{"kind": r.kind})
		return
	}
	obj := r.newObj()
	var d diag.Diagnostics
	r.expand(ctx, m, nil, m, obj, &d)
	if d.HasError() {
		return // the attribute validators report these
	}
	reportAPIErrors(config, obj, diags)
}

// reportAPIErrors defaults obj and adds an attribute error for each
// problem api.Validate finds in it.
func reportAPIErrors(config tfsdk.Config, obj api.Object, diags *diag.Diagnostics) {
	api.Default(obj)
	kind := api.KindOf(obj).Kind
	for _, fe := range api.Validate(obj) {
		if checkedBySchema[fe.Field] {
			continue
		}
		at := presentPath(config, attrPathOf(kind, fe.Field))
		summary := apiErrorSummary[fe.Type]
		if summary == "" {
			summary = "Invalid value"
		}
		where := at.String()
		if where == "" {
			where = fe.Field
		}
		detail := fmt.Sprintf("%s: %s\n\nThe API server refuses the %s with this (its field %s).", where, fe.Detail, strings.ToLower(kind), fe.Field)
		if at.Equal(path.Empty()) {
			diags.AddError(summary, detail)
		} else {
			diags.AddAttributeError(at, summary, detail)
		}
	}
}

// checkedBySchema are fields whose attributes carry a validator that runs
// the same API check (nameAttribute's DNS-1123 label check, stricter than
// the API's for config maps and secrets), so the API's error would repeat
// it.
var checkedBySchema = map[string]bool{"metadata.name": true, "metadata.namespace": true}

// apiErrorSummary is a diagnostic's summary per kind of API field error.
var apiErrorSummary = map[api.ErrorType]string{
	api.ErrRequired:     "Missing required value",
	api.ErrInvalid:      "Invalid value",
	api.ErrNotSupported: "Unsupported value",
	api.ErrDuplicate:    "Duplicate value",
	api.ErrForbidden:    "Value not allowed here",
	api.ErrTooLong:      "Value too long",
	api.ErrTooMany:      "Too many values",
}

// presentPath is p, or its nearest ancestor, that the configuration has:
// an error on a field the resource does not expose (a template's
// annotations) or inside a block left out lands on what the user wrote.
func presentPath(config tfsdk.Config, p path.Path) path.Path {
	for !p.Equal(path.Empty()) {
		if _, _, err := tftypes.WalkAttributePath(config.Raw, toTFPath(p)); err == nil {
			return p
		}
		p = p.ParentPath()
	}
	return p
}

// toTFPath is p as a terraform-plugin-go attribute path.
func toTFPath(p path.Path) *tftypes.AttributePath {
	out := tftypes.NewAttributePath()
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case path.PathStepAttributeName:
			out = out.WithAttributeName(string(s))
		case path.PathStepElementKeyInt:
			out = out.WithElementKeyInt(int(s))
		case path.PathStepElementKeyString:
			out = out.WithElementKeyString(string(s))
		}
	}
	return out
}

// --- API field path -> attribute path ----------------------------------------

// fieldStep is one step of a field path: a field name, a list index, or a
// map key. In patterns, index -1 matches any index.
type fieldStep struct {
	name  string
	index int
	key   string
	kind  stepKind
}

type stepKind int

const (
	stepName stepKind = iota
	stepIndex
	stepKey
)

// parseFieldPath splits an API field path (`a.b[0].c["k"]`, `c[k]`, and
// with `[*]` for patterns) into steps.
func parseFieldPath(s string) []fieldStep {
	var out []fieldStep
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
		case '[':
			end := closingBracket(s)
			inner := s[1:end]
			s = s[min(end+1, len(s)):]
			if inner == "*" {
				out = append(out, fieldStep{kind: stepIndex, index: -1})
			} else if n, err := strconv.Atoi(inner); err == nil {
				out = append(out, fieldStep{kind: stepIndex, index: n})
			} else if k, err := strconv.Unquote(inner); err == nil {
				out = append(out, fieldStep{kind: stepKey, key: k})
			} else {
				out = append(out, fieldStep{kind: stepKey, key: inner})
			}
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			out = append(out, fieldStep{kind: stepName, name: s[:end]})
			s = s[end:]
		}
	}
	return out
}

// closingBracket is the index of the "]" closing the "[" at s[0], past
// any quoted key (which may hold "]"); len(s) when there is none.
func closingBracket(s string) int {
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch {
		case inQuote && s[i] == '\\':
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == ']':
			return i
		}
	}
	return len(s)
}

// fieldRule rewrites the API field path prefix from into the attribute
// path prefix to; a `[*]` in from matches any index, which fills the
// `[*]` at the same place among to's wildcards.
type fieldRule struct{ from, to string }

// nestedMeta are the rules of kinds with metadata and spec blocks.
var nestedMeta = []fieldRule{{"metadata", "metadata"}, {"spec", "spec"}}

// flatMeta are the rules of kinds whose metadata are top-level attributes.
var flatMeta = []fieldRule{{"metadata", ""}}

// fieldPrefixes are, per API kind, where the object's fields sit in the
// resource, most specific first. A kind not listed maps field names only.
var fieldPrefixes = map[string][]fieldRule{
	"Deployment": append([]fieldRule{
		{"spec.template.metadata", "spec.template"},
		{"spec.template.spec", "spec.template"},
	}, nestedMeta...),
	"Pod":              nestedMeta,
	"Service":          nestedMeta,
	"PersistentVolume": nestedMeta,
	"Namespace":        flatMeta,
	"ConfigMap":        flatMeta,
	"Secret":           flatMeta,
	"Autoscaler": append([]fieldRule{
		{"spec.scaleTargetRef", "target"},
		{"spec.metrics[*].resource.name", "metric[*].resource"},
		{"spec.metrics[*].resource.target.averageUtilization", "metric[*].average_utilization"},
		{"spec.metrics[*].resource.target.averageValue", "metric[*].average_value"},
		{"spec.metrics[*]", "metric[*]"},
		{"spec", ""},
	}, flatMeta...),
}

// sequenceRenames rename runs of API field names that the resources spell
// differently (Kubernetes' affinity names), longest first; an empty to
// drops the run (a level the resources flatten away).
var sequenceRenames = []struct {
	from []string
	to   string
}{
	{[]string{"requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"}, "required_term"},
	{[]string{"requiredDuringSchedulingIgnoredDuringExecution"}, "required"},
	{[]string{"preferredDuringSchedulingIgnoredDuringExecution"}, "preferred"},
	{[]string{"preference"}, ""},
	{[]string{"podAffinityTerm"}, ""},
}

// fieldRenames are API field names whose attribute is not their snake
// case: list fields are repeated blocks named in the singular.
var fieldRenames = map[string]string{
	"containers":                "container",
	"initContainers":            "init_container",
	"volumes":                   "volume",
	"ports":                     "port",
	"volumeMounts":              "volume_mount",
	"tolerations":               "toleration",
	"topologySpreadConstraints": "topology_spread_constraint",
	"matchExpressions":          "match_expression",
	"policies":                  "policy",
	"taints":                    "taint",
	"metrics":                   "metric",
}

// keyedAttributes are maps in the API that are blocks of named attributes
// in the resources (requests { cpu = ... }): their keys are attribute names.
var keyedAttributes = map[string]bool{"requests": true, "limits": true}

// attrPathOf maps an API field path of an object of kind to the attribute
// path of its resource. It is pure; the caller trims what the
// configuration does not have (presentPath).
func attrPathOf(kind, field string) path.Path {
	steps := parseFieldPath(field)
	var out []fieldStep
	for _, rule := range fieldPrefixes[kind] {
		if rest, mapped, ok := applyRule(rule, steps); ok {
			steps, out = rest, mapped
			break
		}
	}
	for len(steps) > 0 {
		s := steps[0]
		if s.kind != stepName {
			if s.kind == stepKey && len(out) > 0 && keyedAttributes[out[len(out)-1].name] {
				s = fieldStep{kind: stepName, name: s.key}
			}
			out = append(out, s)
			steps = steps[1:]
			continue
		}
		if n, to, ok := renameSequence(steps); ok {
			if to != "" {
				out = append(out, fieldStep{kind: stepName, name: to})
			}
			steps = steps[n:]
			continue
		}
		name, ok := fieldRenames[s.name]
		if !ok {
			name = snakeCase(s.name)
		}
		out = append(out, fieldStep{kind: stepName, name: name})
		steps = steps[1:]
	}
	return toPath(out)
}

// applyRule matches rule.from at the start of steps and returns the rest
// and the mapped prefix.
func applyRule(rule fieldRule, steps []fieldStep) (rest, mapped []fieldStep, ok bool) {
	from := parseFieldPath(rule.from)
	if len(from) > len(steps) {
		return nil, nil, false
	}
	var indexes []int
	for i, f := range from {
		s := steps[i]
		switch {
		case f.kind == stepIndex && f.index == -1 && s.kind == stepIndex:
			indexes = append(indexes, s.index)
		case f != s:
			return nil, nil, false
		}
	}
	for _, t := range parseFieldPath(rule.to) {
		if t.kind == stepIndex && t.index == -1 {
			t.index, indexes = indexes[0], indexes[1:]
		}
		mapped = append(mapped, t)
	}
	return steps[len(from):], mapped, true
}

// renameSequence matches a sequenceRenames entry at the start of steps:
// how many steps it covers and their new name.
func renameSequence(steps []fieldStep) (int, string, bool) {
	for _, r := range sequenceRenames {
		if len(r.from) > len(steps) {
			continue
		}
		match := true
		for i, name := range r.from {
			if steps[i].kind != stepName || steps[i].name != name {
				match = false
				break
			}
		}
		if match {
			return len(r.from), r.to, true
		}
	}
	return 0, "", false
}

// snakeCase is an API field name in the resources' spelling: camelCase
// words joined by "_", a run of capitals one word (hostIP: host_ip).
func snakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && !unicode.IsUpper(rs[i-1])
			// The last capital of a run starts the next word (HTTPGet:
			// http_get), unless only a plural s follows (subnetIDs).
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]) &&
				(rs[i+1] != 's' || i+2 < len(rs))
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// toPath is the framework path of steps.
func toPath(steps []fieldStep) path.Path {
	p := path.Empty()
	for _, s := range steps {
		switch s.kind {
		case stepName:
			p = p.AtName(s.name)
		case stepIndex:
			p = p.AtListIndex(s.index)
		case stepKey:
			p = p.AtMapKey(s.key)
		}
	}
	return p
}

// --- ValidateConfig of the kinds without other checks --------------------------

// ValidateConfig checks the namespace with the API's rules.
func (r *NamespaceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m NamespaceResourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ValidateConfig checks the config map with the API's rules.
func (r *ConfigMapResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m ConfigMapResourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ValidateConfig requires the metadata and spec blocks and checks the
// service with the API's rules.
func (r *ServiceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m ServiceResourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A service needs a metadata block with name and namespace.")
	}
	if m.Spec == nil {
		resp.Diagnostics.AddAttributeError(path.Root("spec"), "Missing spec block", "A service needs a spec block with at least one port.")
	}
	if m.Metadata != nil && m.Spec != nil {
		r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
	}
}

// ValidateConfig requires the metadata block and checks the volume with
// the API's rules.
func (r *VolumeResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m VolumeResourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A volume needs a metadata block with name and namespace.")
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// validateAPI checks a deployment whose blocks are all there with the
// API's rules (DeploymentResource.ValidateConfig calls it last).
func (r *DeploymentResource) validateAPI(ctx context.Context, config tfsdk.Config, m *DeploymentResourceModel, diags *diag.Diagnostics) {
	if m.Metadata == nil || m.Spec == nil || m.Spec.Selector == nil || m.Spec.Template == nil {
		return // reported as missing blocks
	}
	r.validateWithAPI(ctx, config, m, diags)
}

// validateAPI checks a pod whose blocks are all there with the API's rules.
func (r *PodResource) validateAPI(ctx context.Context, config tfsdk.Config, m *PodResourceModel, diags *diag.Diagnostics) {
	if m.Metadata == nil || m.Spec == nil {
		return // reported as missing blocks
	}
	r.validateWithAPI(ctx, config, m, diags)
}
