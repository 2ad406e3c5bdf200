// Package plan is a STAND-IN written by the manifest helper so that
// `maestro plan`/`apply` build before the real package (branch i15-plan)
// lands. It keeps to the contract's types and signatures with the least
// behaviour that works; delete this file when the real package is merged.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

type Action string

const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	NoOp    Action = "no-op"
)

type Change struct {
	Address         string
	Kind            string
	Namespace, Name string
	Action          Action
	Before, After   map[string]any
	ReplacePaths    []string
	Sensitive       []string
	ResourceVersion string
	Impact          []string
	Desired, Live   api.Object `json:"-"`
}

type Plan struct {
	Changes  []Change
	Impact   []string
	Warnings []string
	Created  time.Time
}

type Resource struct {
	Address, Kind, Namespace, Name string
	Attrs                          map[string]any
	Object                         api.Object
}

type Options struct {
	Previews   map[string]api.PlacementPreview
	ForceNew   map[string][]string
	Sensitive  map[string][]string
	Autoscaled map[string]bool
	Prune      bool
}

func Compute(desired, actual []Resource, opt Options) *Plan {
	p := &Plan{Created: time.Now().UTC()}
	have := map[string]Resource{}
	for _, a := range actual {
		have[a.Address] = a
	}
	seen := map[string]bool{}
	for _, d := range desired {
		seen[d.Address] = true
		c := Change{Address: d.Address, Kind: d.Kind, Namespace: d.Namespace, Name: d.Name, After: d.Attrs, Desired: d.Object, Sensitive: opt.Sensitive[d.Kind]}
		a, ok := have[d.Address]
		switch {
		case !ok:
			c.Action = Create
		case reflect.DeepEqual(a.Attrs, d.Attrs):
			c.Action, c.Before, c.Live = NoOp, a.Attrs, a.Object
		default:
			c.Action, c.Before, c.Live = Update, a.Attrs, a.Object
			if paths := forced(a.Attrs, d.Attrs, opt.ForceNew[d.Kind]); len(paths) > 0 {
				c.Action, c.ReplacePaths = Replace, paths
			}
		}
		if ok {
			c.ResourceVersion = fmt.Sprint(a.Object.GetObjectMeta().ResourceVersion)
		}
		p.Changes = append(p.Changes, c)
	}
	for _, a := range actual {
		if !seen[a.Address] && opt.Prune {
			p.Changes = append(p.Changes, Change{Address: a.Address, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name, Action: Delete,
				Before: a.Attrs, Live: a.Object, ResourceVersion: fmt.Sprint(a.Object.GetObjectMeta().ResourceVersion)})
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Address < p.Changes[j].Address })
	return p
}

func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

func (p *Plan) Hash() string {
	b, _ := json.Marshal(p.Changes)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		case Replace:
			add++
			destroy++
		}
	}
	return add, change, destroy
}

type Saved struct {
	Version int
	Plan    *Plan
	Seen    map[string]string
	Dir     string
}

type savedChange struct {
	Change
	DesiredKind string          `json:",omitempty"`
	DesiredJSON json.RawMessage `json:",omitempty"`
}

type savedFile struct {
	Version int
	Changes []savedChange
	Impact  []string
	Created time.Time
	Seen    map[string]string
	Dir     string
}

func Save(w io.Writer, s *Saved) error {
	f := savedFile{Version: s.Version, Impact: s.Plan.Impact, Created: s.Plan.Created, Seen: s.Seen, Dir: s.Dir}
	for _, c := range s.Plan.Changes {
		sc := savedChange{Change: c}
		if c.Desired != nil {
			b, err := json.Marshal(c.Desired)
			if err != nil {
				return err
			}
			sc.DesiredKind, sc.DesiredJSON = api.KindOf(c.Desired).Kind, b
		}
		f.Changes = append(f.Changes, sc)
	}
	return json.NewEncoder(w).Encode(f)
}

func Load(r io.Reader) (*Saved, error) {
	var f savedFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("plan: reading saved plan: %w", err)
	}
	p := &Plan{Impact: f.Impact, Created: f.Created}
	for _, sc := range f.Changes {
		c := sc.Change
		if sc.DesiredKind != "" {
			k, err := api.LookupKind(sc.DesiredKind)
			if err != nil {
				return nil, err
			}
			obj := k.New()
			if err := json.Unmarshal(sc.DesiredJSON, obj); err != nil {
				return nil, fmt.Errorf("plan: %s: %w", c.Address, err)
			}
			api.SetTypeMeta(obj)
			c.Desired = obj
		}
		p.Changes = append(p.Changes, c)
	}
	return &Saved{Version: f.Version, Plan: p, Seen: f.Seen, Dir: f.Dir}, nil
}

func Stale(s *Saved, now map[string]string) []string {
	var out []string
	addrs := make([]string, 0, len(s.Seen))
	for a := range s.Seen {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		if was, is := s.Seen[a], now[a]; was != is {
			out = append(out, fmt.Sprintf("%s: changed since the plan (resourceVersion %q -> %q)", a, was, is))
		}
	}
	return out
}

// forced lists the ForceNew paths whose values differ.
func forced(before, after map[string]any, forceNew []string) []string {
	b, a := map[string]any{}, map[string]any{}
	flat("", before, b)
	flat("", after, a)
	var out []string
	for _, p := range forceNew {
		for k := range union(a, b) {
			if (k == p || strings.HasPrefix(k, p+".")) && !reflect.DeepEqual(a[k], b[k]) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// flat records leaves by dotted path without list indices (a list's
// leaves are gathered under one path).
func flat(prefix string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flat(p, e, out)
		}
	case []any:
		if len(v) > 0 {
			if _, blocks := v[0].(map[string]any); blocks {
				for i, e := range v {
					sub := map[string]any{}
					flat(prefix, e, sub)
					for k, x := range sub {
						out[k] = append(asList(out[k]), fmt.Sprint(i, x))
					}
				}
				return
			}
		}
		out[prefix] = fmt.Sprint(v)
	default:
		out[prefix] = v
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
