package podenv

import "strings"

// Expand replaces $(VAR) in s with the value lookup finds, as Kubernetes
// does for command, args and env values: $$ is a literal $ (so $$(VAR)
// stays "$(VAR)"), and a reference to an unknown variable, or one that is
// not closed, is left as written.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}

// ExpandCommand expands $(VAR) in a container's command or args with its
// environment (KEY=value lines, as Build returns), as kubelet does before
// it starts the container.
func ExpandCommand(args, env []string) []string {
	if len(args) == 0 {
		return args
	}
	values := make(map[string]string, len(env))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		values[name] = value
	}
	lookup := func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Expand(a, lookup)
	}
	return out
}
