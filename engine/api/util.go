package api

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// Ptr returns a pointer to v, for optional fields.
func Ptr[T any](v T) *T { return &v }

// Deref returns *p, or def when p is nil.
func Deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// AsSelector converts an API label selector into a matcher. A nil selector
// matches nothing (a controller without a selector must not adopt
// everything); an empty one matches everything.
func AsSelector(s *LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	if len(s.MatchLabels)+len(s.MatchExpressions) == 0 {
		return labels.Everything(), nil
	}
	sel := labels.SelectorFromSet(labels.Set(s.MatchLabels))
	for _, r := range s.MatchExpressions {
		req, err := labels.NewRequirement(r.Key, selectorOperator(r.Operator), r.Values)
		if err != nil {
			return nil, err
		}
		sel = sel.Add(req)
	}
	return sel, nil
}
