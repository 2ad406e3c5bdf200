package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Compute is the pure desired-vs-actual step: one Change per address in
// desired or actual, sorted by address, with its impact (Assess). Objects
// only in actual are deleted when opt.Prune is set and left out otherwise.
func Compute(desired, actual []Resource, opt Options) *Plan {
	live := make(map[string]Resource, len(actual))
	for _, r := range actual {
		live[r.Address] = r
	}
	p := &Plan{}
	seen := map[string]bool{}
	for _, d := range desired {
		seen[d.Address] = true
		a, ok := live[d.Address]
		if !ok {
			p.Changes = append(p.Changes, Change{Address: d.Address, Kind: d.Kind, Namespace: d.Namespace, Name: d.Name,
				Action: Create, After: d.Attrs, Sensitive: sensitive(opt, d.Kind), Desired: d.Object})
			continue
		}
		p.Changes = append(p.Changes, update(d, a, opt, p))
	}
	if opt.Prune {
		for _, a := range actual {
			if seen[a.Address] {
				continue
			}
			p.Changes = append(p.Changes, Change{Address: a.Address, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name,
				Action: Delete, Before: a.Attrs, Sensitive: sensitive(opt, a.Kind), ResourceVersion: resourceVersion(a),
				Live: a.Object})
		}
	}
	slices.SortFunc(p.Changes, func(a, b Change) int { return strings.Compare(a.Address, b.Address) })
	Assess(p, opt)
	return p
}

// secretData are a Secret's attributes that hold its values.
var secretData = []string{"data", "data_wo", "string_data", "binary_data"}

// SensitivePaths is a kind's sensitive attribute paths as declared, and
// for a Secret its data always, so a caller that forgets to declare them
// still prints none.
func SensitivePaths(kind string, declared []string) []string {
	if kind != "Secret" {
		return declared
	}
	out := slices.Clone(declared)
	for _, d := range secretData {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func sensitive(opt Options, kind string) []string { return SensitivePaths(kind, opt.Sensitive[kind]) }

// update compares one object with its live counterpart.
func update(d, a Resource, opt Options, p *Plan) Change {
	c := Change{Address: d.Address, Kind: d.Kind, Namespace: d.Namespace, Name: d.Name,
		Before: a.Attrs, After: d.Attrs, Sensitive: sensitive(opt, d.Kind), ResourceVersion: resourceVersion(a),
		Desired: d.Object, Live: a.Object}
	// Replicas an autoscaler owns, or a manifest leaves out, stay as they
	// are live (as the provider does): no diff.
	if d.Kind == "Deployment" && (opt.Autoscaled[d.Address] || Absent(Lookup(c.After, "spec.replicas"))) {
		c.After = keepLiveReplicas(c.Before, c.After, d.Address, p)
	}
	for _, f := range opt.ForceNew[d.Kind] {
		if !Equal(f, Lookup(c.Before, f), Lookup(c.After, f)) {
			c.ReplacePaths = append(c.ReplacePaths, f)
		}
	}
	switch {
	case len(c.ReplacePaths) > 0:
		c.Action = Replace
	case len(Changed(c.Before, c.After)) > 0:
		c.Action = Update
	default:
		c.Action = NoOp
	}
	return c
}

// keepLiveReplicas leaves spec.replicas of an autoscaled deployment to the
// autoscaler: the planned tree takes the live count (no diff), and the
// plan says so when the manifest's count differs.
func keepLiveReplicas(before, after map[string]any, address string, p *Plan) map[string]any {
	liveN, wantN := Lookup(before, "spec.replicas"), Lookup(after, "spec.replicas")
	spec, ok := after["spec"].(map[string]any)
	if !ok || Absent(liveN) {
		return after
	}
	if !Equal("spec.replicas", liveN, wantN) && !Absent(wantN) {
		p.Impact = append(p.Impact, address+": replicas are owned by an autoscaler and left alone (live "+
			fmtValue(liveN)+", manifest "+fmtValue(wantN)+")")
	}
	out := maps.Clone(after)
	spec = maps.Clone(spec)
	spec["replicas"] = liveN
	out["spec"] = spec
	return out
}

func resourceVersion(r Resource) string {
	if r.Object == nil {
		return ""
	}
	if rv := r.Object.GetObjectMeta().ResourceVersion; rv != 0 {
		return strconv.FormatInt(rv, 10)
	}
	return ""
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// Counts are Terraform's summary figures; a replacement counts as one to
// add and one to destroy.
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Replace:
			add++
			destroy++
		case Delete:
			destroy++
		}
	}
	return add, change, destroy
}

// Destroying lists the addresses the plan deletes or replaces: when it is
// not empty, renderers show a destroy banner.
func (p *Plan) Destroying() []string {
	var out []string
	for _, c := range p.Changes {
		if c.Action == Delete || c.Action == Replace {
			out = append(out, c.Address)
		}
	}
	return out
}

// Hash identifies the plan's changes: the SHA-256, in hex, of the
// canonical JSON of every change but no-ops (address, action, trees,
// replace paths). Sensitive values are masked first, so a published hash
// cannot be used to guess a secret. Markdown shows the first 12 digits.
func (p *Plan) Hash() string {
	type entry struct {
		Address string         `json:"address"`
		Action  Action         `json:"action"`
		Before  map[string]any `json:"before,omitempty"`
		After   map[string]any `json:"after,omitempty"`
		Replace []string       `json:"replace_paths,omitempty"`
	}
	var entries []entry
	for _, c := range p.Changes {
		if c.Action == NoOp {
			continue
		}
		entries = append(entries, entry{Address: c.Address, Action: c.Action,
			Before: Mask(c.Before, c.Sensitive), After: Mask(c.After, c.Sensitive), Replace: c.ReplacePaths})
	}
	b, _ := json.Marshal(entries) // JSON-like values only; map keys are sorted
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Mask returns a copy of tree with the value of every sensitive path
// replaced by SensitiveValue.
func Mask(tree map[string]any, sensitive []string) map[string]any {
	if tree == nil || len(sensitive) == 0 {
		return tree
	}
	out, _ := maskValue("", tree, sensitive).(map[string]any)
	return out
}

func maskValue(path string, v any, sensitive []string) any {
	if path != "" && slices.ContainsFunc(sensitive, func(s string) bool { return Under(AttrPath(path), s) }) {
		if Absent(v) {
			return v
		}
		return SensitiveValue
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(Join(path, k), e, sensitive)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(path+"["+strconv.Itoa(i)+"]", e, sensitive)
		}
		return out
	}
	return v
}

// IsSensitive reports whether the value at path is never printed.
func (c *Change) IsSensitive(path string) bool {
	ap := AttrPath(path)
	return slices.ContainsFunc(c.Sensitive, func(s string) bool { return Under(ap, s) })
}

// ForcesReplacement reports whether the attribute at path forces the
// change's replacement.
func (c *Change) ForcesReplacement(path string) bool {
	return c.Action == Replace && slices.Contains(c.ReplacePaths, AttrPath(path))
}

// fmtValue prints a plain value for a sentence.
func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
