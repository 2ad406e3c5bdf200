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
	case "autoscaler":
		p = strings.Replace(p, "scaleTargetRef", "target", 1)
		p = metricTarget.ReplaceAllString(p, "metrics$1")
		p = strings.Replace(p, ".resource.name", ".resource", 1)
	}
	p = strings.Replace(p, "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "nodeAffinity.requiredTerm", 1)
	p = strings.ReplaceAll(p, "DuringSchedulingIgnoredDuringExecution", "")
	p = strings.ReplaceAll(p, ".preference.", ".")
	p = strings.ReplaceAll(p, ".podAffinityTerm.", ".")
	var b strings.Builder
	prev := ""
	for _, seg := range splitPath(p) {
		switch {
		case strings.HasPrefix(seg, "[\""):
			// A map key: an attribute of the requests and limits blocks,
			// a key of a map attribute elsewhere (labels["app"]).
			if prev == "requests" || prev == "limits" {
				b.WriteString("." + mapKey.FindStringSubmatch(seg)[1])
				continue
			}
			b.WriteString(seg)
		case strings.HasPrefix(seg, "["):
			b.WriteString(seg)
		default:
			name := snake(seg)
			if single, ok := singular[name]; ok {
				name = single
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(name)
			prev = name
		}
	}
	return b.String()
}

// splitPath splits a field path into names, [i] indices and ["k"] keys
// (a key may hold dots).
func splitPath(p string) []string {
	var out []string
	for len(p) > 0 {
		switch {
		case p[0] == '.':
			p = p[1:]
		case strings.HasPrefix(p, "[\""):
			end := strings.Index(p[2:], "\"]")
			if end < 0 {
				return append(out, p)
			}
			out, p = append(out, p[:end+4]), p[end+4:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(out, p)
			}
			out, p = append(out, p[:end+1]), p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out, p = append(out, p[:end]), p[end:]
		}
	}
	return out
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
