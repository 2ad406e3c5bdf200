package convert

import (
	"regexp"
	"strings"
	"unicode"
)

// AttrPath maps an API field path, as validation reports it
// ("spec.template.spec.containers[0].resources.requests[\"cpu\"]"), to the
// attribute path a manifest writes ("spec.template.container[0].resources.requests.cpu"),
// so an error points at the line to fix. It is best effort: a field with
// no attribute maps to the nearest one that has.
func AttrPath(kind, field string) string {
	p := field
	switch kind {
	case "deployment":
		p = strings.Replace(p, "spec.template.spec.", "spec.template.", 1)
		p = strings.Replace(p, "spec.template.metadata.labels", "spec.template.labels", 1)
		p = strings.Replace(p, "spec.selector.matchLabels", "spec.selector.match_labels", 1)
	case "namespace", "config_map", "secret", "autoscaler":
		if !hasBlock(kind, "metadata") {
			p = strings.TrimPrefix(p, "metadata.")
		}
		if kind == "autoscaler" && !hasBlock(kind, "spec") {
			p = strings.TrimPrefix(p, "spec.")
		}
		p = strings.Replace(p, "scaleTargetRef", "target", 1)
		p = metricTarget.ReplaceAllString(p, "metrics$1")
		p = strings.Replace(p, ".resource.name", ".resource", 1)
	}
	p = mapKey.ReplaceAllString(p, ".$1")
	p = strings.Replace(p, "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "nodeAffinity.requiredTerm", 1)
	p = strings.ReplaceAll(p, "DuringSchedulingIgnoredDuringExecution", "")
	p = strings.ReplaceAll(p, ".preference.", ".")
	p = strings.ReplaceAll(p, ".podAffinityTerm.", ".")
	segs := strings.Split(p, ".")
	for i, s := range segs {
		name, index, _ := strings.Cut(s, "[")
		name = snake(name)
		if single, ok := singular[name]; ok {
			name = single
		}
		if index != "" {
			name += "[" + index
		}
		segs[i] = name
	}
	return strings.Join(segs, ".")
}

var (
	mapKey       = regexp.MustCompile(`\["([^"]*)"\]`)
	metricTarget = regexp.MustCompile(`metrics(\[\d+\])\.resource\.target`)
)

// singular names the repeated blocks whose API field is a plural list.
var singular = map[string]string{
	"containers": "container", "ports": "port", "volumes": "volume", "volume_mounts": "volume_mount",
	"tolerations": "toleration", "topology_spread_constraints": "topology_spread_constraint",
	"match_expressions": "match_expression", "metrics": "metric", "policies": "policy",
	"required_terms": "required_term",
}

// snake turns camelCase into snake_case ("containerPort": "container_port").
func snake(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		orig := r
		if unicode.IsUpper(r) {
			if unicode.IsLower(prev) || unicode.IsDigit(prev) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
		prev = orig
	}
	return b.String()
}
