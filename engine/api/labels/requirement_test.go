package labels

import (
	"slices"
	"testing"
)

func TestNewRequirement(t *testing.T) {
	tests := []struct {
		name       string
		key        string
		op         Operator
		values     []string
		wantOp     Operator
		wantValues []string
		wantString string
		wantErr    string
	}{
		{name: "equals", key: "app", op: Equals, values: []string{"web"}, wantOp: Equals, wantValues: []string{"web"}, wantString: "app=web"},
		{name: "double equals is stored as equals", key: "app", op: DoubleEquals, values: []string{"web"}, wantOp: Equals, wantValues: []string{"web"}, wantString: "app=web"},
		{name: "equals empty value", key: "app", op: Equals, values: []string{""}, wantOp: Equals, wantValues: []string{""}, wantString: "app="},
		{name: "not equals", key: "tier", op: NotEquals, values: []string{"db"}, wantOp: NotEquals, wantValues: []string{"db"}, wantString: "tier!=db"},
		{name: "in sorts and dedupes", key: "env", op: In, values: []string{"prod", "dev", "prod"}, wantOp: In, wantValues: []string{"dev", "prod"}, wantString: "env in (dev,prod)"},
		{name: "notin", key: "env", op: NotIn, values: []string{"qa"}, wantOp: NotIn, wantValues: []string{"qa"}, wantString: "env notin (qa)"},
		{name: "in with empty value", key: "env", op: In, values: []string{""}, wantOp: In, wantValues: []string{""}, wantString: "env in ()"},
		{name: "in with empty and other", key: "env", op: In, values: []string{"a", ""}, wantOp: In, wantValues: []string{"", "a"}, wantString: "env in (,a)"},
		{name: "exists", key: "maestro.dev/managed", op: Exists, wantOp: Exists, wantString: "maestro.dev/managed"},
		{name: "does not exist", key: "canary", op: DoesNotExist, values: []string{}, wantOp: DoesNotExist, wantString: "!canary"},

		{name: "bad key", key: "bad key", op: Exists, wantErr: `labels: invalid key "bad key": must contain only letters, digits, '-', '_' and '.', not ' ' at offset 3`},
		{name: "bad value", key: "a", op: Equals, values: []string{"x/y"}, wantErr: `labels: invalid value "x/y": must contain only letters, digits, '-', '_' and '.', not '/' at offset 1`},
		{name: "bad value in set", key: "a", op: In, values: []string{"ok", "-no"}, wantErr: `labels: invalid value "-no": must start and end with a letter or digit`},
		{name: "equals without value", key: "a", op: Equals, wantErr: `labels: operator "=" needs exactly one value, got 0`},
		{name: "double equals two values", key: "a", op: DoubleEquals, values: []string{"x", "y"}, wantErr: `labels: operator "=" needs exactly one value, got 2`},
		{name: "not equals two values", key: "a", op: NotEquals, values: []string{"x", "y"}, wantErr: `labels: operator "!=" needs exactly one value, got 2`},
		{name: "in without values", key: "a", op: In, values: []string{}, wantErr: `labels: operator "in" needs at least one value`},
		{name: "notin without values", key: "a", op: NotIn, wantErr: `labels: operator "notin" needs at least one value`},
		{name: "exists with value", key: "a", op: Exists, values: []string{"x"}, wantErr: `labels: operator "exists" takes no values, got 1`},
		{name: "does not exist with value", key: "a", op: DoesNotExist, values: []string{"x"}, wantErr: `labels: operator "!" takes no values, got 1`},
		{name: "unknown operator", key: "a", op: "gt", values: []string{"1"}, wantErr: `labels: unknown operator "gt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequirement(tt.key, tt.op, tt.values)
			checkErr(t, err, tt.wantErr)
			if err != nil || tt.wantErr != "" {
				return
			}
			if r.Key() != tt.key || r.Operator() != tt.wantOp || !slices.Equal(r.Values(), tt.wantValues) {
				t.Errorf("got (%q, %q, %q), want (%q, %q, %q)", r.Key(), r.Operator(), r.Values(), tt.key, tt.wantOp, tt.wantValues)
			}
			if got := r.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestRequirementDoesNotAlias(t *testing.T) {
	in := []string{"b", "a"}
	r, err := NewRequirement("k", In, in)
	if err != nil {
		t.Fatal(err)
	}
	in[0] = "zzz"
	if got := r.Values(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("caller's slice leaked into requirement: %q", got)
	}
	r.Values()[0] = "zzz"
	if got := r.Values(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Values() result leaked into requirement: %q", got)
	}
}

func TestRequirementMatches(t *testing.T) {
	web := Set{"app": "web", "env": "prod", "empty": ""}
	tests := []struct {
		name   string
		key    string
		op     Operator
		values []string
		labels Labels
		want   bool
	}{
		{"equals match", "app", Equals, []string{"web"}, web, true},
		{"equals mismatch", "app", Equals, []string{"db"}, web, false},
		{"equals absent", "tier", Equals, []string{"web"}, web, false},
		{"equals empty value matches empty label", "empty", Equals, []string{""}, web, true},
		{"equals empty value does not match absent label", "tier", Equals, []string{""}, web, false},
		{"double equals", "app", DoubleEquals, []string{"web"}, web, true},
		{"not equals different", "app", NotEquals, []string{"db"}, web, true},
		{"not equals same", "app", NotEquals, []string{"web"}, web, false},
		{"not equals absent key matches", "tier", NotEquals, []string{"db"}, web, true},
		{"not equals empty vs empty", "empty", NotEquals, []string{""}, web, false},
		{"in match", "env", In, []string{"dev", "prod"}, web, true},
		{"in mismatch", "env", In, []string{"dev", "qa"}, web, false},
		{"in absent", "tier", In, []string{"dev"}, web, false},
		{"in with empty value matches empty label", "empty", In, []string{""}, web, true},
		{"notin match", "env", NotIn, []string{"dev", "qa"}, web, true},
		{"notin mismatch", "env", NotIn, []string{"prod"}, web, false},
		{"notin absent key matches", "tier", NotIn, []string{"db"}, web, true},
		{"exists", "app", Exists, nil, web, true},
		{"exists with empty value", "empty", Exists, nil, web, true},
		{"exists absent", "tier", Exists, nil, web, false},
		{"does not exist absent", "tier", DoesNotExist, nil, web, true},
		{"does not exist present", "app", DoesNotExist, nil, web, false},
		{"nil labels equals", "app", Equals, []string{"web"}, nil, false},
		{"nil labels notin", "app", NotIn, []string{"web"}, nil, true},
		{"nil labels does not exist", "app", DoesNotExist, nil, nil, true},
		{"custom Labels implementation", "app", In, []string{"web"}, onlyApp{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequirement(tt.key, tt.op, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Matches(tt.labels); got != tt.want {
				t.Errorf("%s Matches(%v) = %v, want %v", r, tt.labels, got, tt.want)
			}
		})
	}
}

func TestZeroRequirementMatchesNothing(t *testing.T) {
	if (Requirement{}).Matches(Set{"": ""}) {
		t.Error("zero Requirement matched")
	}
}

// onlyApp is a Labels that is not a Set, to show Matches uses only the
// interface.
type onlyApp struct{}

var _ Labels = onlyApp{}

func (onlyApp) Has(k string) bool { return k == "app" }
func (onlyApp) Get(k string) string {
	if k == "app" {
		return "web"
	}
	return ""
}
