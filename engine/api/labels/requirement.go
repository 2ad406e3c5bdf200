package labels

import (
	"fmt"
	"slices"
	"strings"
)

// Operator is the relation a Requirement tests between a label and its
// values.
type Operator string

// The operators of the selector syntax. Every constant is typed, so a
// switch over Operator sees them all.
const (
	Equals       Operator = "="      // key=value: present with that value
	DoubleEquals Operator = "=="     // key==value: a synonym of Equals, stored as Equals
	NotEquals    Operator = "!="     // key!=value: absent, or present with another value
	In           Operator = "in"     // key in (a,b): present with one of the values
	NotIn        Operator = "notin"  // key notin (a,b): absent, or present with none of the values
	Exists       Operator = "exists" // key: present, with any value
	DoesNotExist Operator = "!"      // !key: absent
)

// Requirement is one condition of a selector: a key, an operator and the
// operator's values (sorted, without duplicates). Build it with
// NewRequirement; the zero Requirement matches nothing.
type Requirement struct {
	key    string
	op     Operator
	values []string // sorted, unique; nil when the operator takes none
}

var _ fmt.Stringer = Requirement{}

// NewRequirement validates key, op and values and returns the requirement.
// Equals, DoubleEquals and NotEquals take exactly one value, In and NotIn
// at least one, Exists and DoesNotExist none. DoubleEquals is stored as
// Equals so that "a==b" and "a=b" are the same requirement. values is
// copied, sorted and de-duplicated.
func NewRequirement(key string, op Operator, values []string) (Requirement, error) {
	r, err := newRequirement(key, op, values)
	if err != nil {
		return Requirement{}, fmt.Errorf("labels: %w", err)
	}
	return r, nil
}

// newRequirement is NewRequirement without the package prefix on errors.
func newRequirement(key string, op Operator, values []string) (Requirement, error) {
	if err := validateKey(key); err != nil {
		return Requirement{}, err
	}
	switch op {
	case DoubleEquals:
		op = Equals
		fallthrough
	case Equals, NotEquals:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("operator %q needs exactly one value, got %d", op, len(values))
		}
	case In, NotIn:
		if len(values) == 0 {
			return Requirement{}, fmt.Errorf("operator %q needs at least one value", op)
		}
	case Exists, DoesNotExist:
		if len(values) != 0 {
			return Requirement{}, fmt.Errorf("operator %q takes no values, got %d", op, len(values))
		}
	default:
		return Requirement{}, fmt.Errorf("unknown operator %q", op)
	}
	for _, v := range values {
		if err := validateValue(v); err != nil {
			return Requirement{}, err
		}
	}
	var vs []string
	if len(values) > 0 {
		vs = slices.Compact(slices.Sorted(slices.Values(values)))
	}
	return Requirement{key: key, op: op, values: vs}, nil
}

// Key returns the label key the requirement tests.
func (r Requirement) Key() string { return r.key }

// Operator returns the operator (never DoubleEquals, see NewRequirement).
func (r Requirement) Operator() Operator { return r.op }

// Values returns a copy of the sorted values, so callers cannot change a
// requirement that selectors share.
func (r Requirement) Values() []string { return slices.Clone(r.values) }

// Matches reports whether ls satisfies the requirement. NotEquals and NotIn
// match when the key is absent; a nil ls has no labels.
func (r Requirement) Matches(ls Labels) bool {
	if ls == nil {
		ls = Set(nil)
	}
	switch r.op {
	case Equals, DoubleEquals:
		return ls.Has(r.key) && ls.Get(r.key) == r.values[0]
	case NotEquals:
		return !ls.Has(r.key) || ls.Get(r.key) != r.values[0]
	case In:
		return ls.Has(r.key) && r.hasValue(ls.Get(r.key))
	case NotIn:
		return !ls.Has(r.key) || !r.hasValue(ls.Get(r.key))
	case Exists:
		return ls.Has(r.key)
	case DoesNotExist:
		return !ls.Has(r.key)
	}
	return false // zero Requirement
}

func (r Requirement) hasValue(v string) bool {
	_, found := slices.BinarySearch(r.values, v)
	return found
}

// String renders the requirement in the syntax Parse accepts: "a=b",
// "a!=b", "a in (x,y)", "a notin (x,y)", "a", "!a".
func (r Requirement) String() string {
	var b strings.Builder
	r.writeTo(&b)
	return b.String()
}

func (r Requirement) writeTo(b *strings.Builder) {
	switch r.op {
	case Equals, DoubleEquals, NotEquals:
		b.WriteString(r.key)
		b.WriteString(string(r.op))
		b.WriteString(r.values[0])
	case In, NotIn:
		b.WriteString(r.key)
		b.WriteByte(' ')
		b.WriteString(string(r.op))
		b.WriteString(" (")
		b.WriteString(strings.Join(r.values, ","))
		b.WriteByte(')')
	case Exists:
		b.WriteString(r.key)
	case DoesNotExist:
		b.WriteByte('!')
		b.WriteString(r.key)
	}
}

// compareRequirements orders requirements by key, operator and values: the canonical
// order of a selector.
func compareRequirements(a, b Requirement) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.op), string(b.op)); c != 0 {
		return c
	}
	return slices.Compare(a.values, b.values)
}
