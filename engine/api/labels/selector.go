package labels

import (
	"slices"
	"strings"
)

// Selector is a set of requirements that must all hold. Selectors are
// immutable: Add returns a new one.
type Selector interface {
	// Matches reports whether ls satisfies every requirement.
	Matches(Labels) bool
	// Empty reports whether the selector has no requirements and so
	// selects everything.
	Empty() bool
	// String returns the canonical form, which Parse accepts (except for
	// Nothing's "<none>").
	String() string
	// Requirements returns a copy of the requirements in canonical order.
	Requirements() []Requirement
	// Add returns a selector with rs added to the receiver's requirements.
	Add(rs ...Requirement) Selector
}

// Compile-time checks.
var (
	_ Selector = internalSelector(nil)
	_ Selector = nothingSelector{}
)

// Everything returns the selector that matches every object.
func Everything() Selector { return internalSelector(nil) }

// Nothing returns the selector that matches no object. It is what callers
// should use when a selector cannot be built, because falling back to
// Everything would make a controller act on every object.
func Nothing() Selector { return nothingSelector{} }

// SelectorFromSet returns the selector that requires every label in set
// (key=value for each pair); an empty or nil set gives Everything.
//
// The set is not validated: the selector matches exactly the objects whose
// labels contain the set, whatever the keys and values are. That is the
// right behaviour for sets that API validation has already checked (a
// workload's matchLabels), and it never widens a selector the way
// Kubernetes' old "invalid set selects everything" did. For untrusted input
// use ValidatedSelectorFromSet; the String of a selector built from an
// invalid set may not parse.
func SelectorFromSet(set Set) Selector {
	if len(set) == 0 {
		return internalSelector(nil)
	}
	rs := make(internalSelector, 0, len(set))
	for k, v := range set {
		rs = append(rs, Requirement{key: k, op: Equals, values: []string{v}})
	}
	return canonical(rs)
}

// ValidatedSelectorFromSet is SelectorFromSet for untrusted sets: it
// returns an error naming the first invalid key or value (in key order).
func ValidatedSelectorFromSet(set Set) (Selector, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rs := make(internalSelector, 0, len(set))
	for _, k := range keys {
		r, err := NewRequirement(k, Equals, []string{set[k]})
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return canonical(rs), nil
}

// internalSelector is a canonical (sorted, duplicate-free) requirement list.
// nil is Everything.
type internalSelector []Requirement

// canonical sorts rs in place and drops duplicates.
func canonical(rs internalSelector) internalSelector {
	slices.SortFunc(rs, compareRequirements)
	rs = slices.CompactFunc(rs, func(a, b Requirement) bool { return compareRequirements(a, b) == 0 })
	if len(rs) == 0 {
		return nil
	}
	return rs
}

func (s internalSelector) Matches(ls Labels) bool {
	if ls == nil {
		ls = Set(nil)
	}
	for _, r := range s {
		if !r.Matches(ls) {
			return false
		}
	}
	return true
}

func (s internalSelector) Empty() bool { return len(s) == 0 }

func (s internalSelector) String() string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		r.writeTo(&b)
	}
	return b.String()
}

func (s internalSelector) Requirements() []Requirement {
	// Requirement values are never mutated in place, so a shallow copy is
	// enough to keep callers from reordering our slice.
	return slices.Clone([]Requirement(s))
}

func (s internalSelector) Add(rs ...Requirement) Selector {
	out := make(internalSelector, 0, len(s)+len(rs))
	out = append(out, s...)
	out = append(out, rs...)
	return canonical(out)
}

// nothingSelector matches no object.
type nothingSelector struct{}

func (nothingSelector) Matches(Labels) bool         { return false }
func (nothingSelector) Empty() bool                 { return false }
func (nothingSelector) String() string              { return "<none>" }
func (nothingSelector) Requirements() []Requirement { return nil }

// Add returns Nothing: no requirement can widen it.
func (nothingSelector) Add(...Requirement) Selector { return nothingSelector{} }
