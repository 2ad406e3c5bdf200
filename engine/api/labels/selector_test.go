package labels

import (
	"testing"
)

func mustRequirement(t *testing.T, key string, op Operator, values ...string) Requirement {
	t.Helper()
	r, err := NewRequirement(key, op, values)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEverythingAndNothing(t *testing.T) {
	tests := []struct {
		name    string
		sel     Selector
		empty   bool
		matches bool
		str     string
	}{
		{"everything", Everything(), true, true, ""},
		{"nothing", Nothing(), false, false, "<none>"},
		{"nothing plus requirement", Nothing().Add(Requirement{key: "a", op: Exists}), false, false, "<none>"},
		{"from empty set", SelectorFromSet(nil), true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.Empty(); got != tt.empty {
				t.Errorf("Empty() = %v, want %v", got, tt.empty)
			}
			for _, ls := range []Labels{nil, Set{}, Set{"a": "b"}} {
				if got := tt.sel.Matches(ls); got != tt.matches {
					t.Errorf("Matches(%v) = %v, want %v", ls, got, tt.matches)
				}
			}
			if got := tt.sel.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.sel.Requirements(); len(got) != 0 {
				t.Errorf("Requirements() = %v, want none", got)
			}
		})
	}
}

func TestSelectorFromSet(t *testing.T) {
	tests := []struct {
		name    string
		set     Set
		labels  Set
		matches bool
		str     string
	}{
		{"subset matches", Set{"app": "web"}, Set{"app": "web", "env": "prod"}, true, "app=web"},
		{"all pairs needed", Set{"app": "web", "env": "prod"}, Set{"app": "web"}, false, "app=web,env=prod"},
		{"value differs", Set{"app": "web"}, Set{"app": "db"}, false, "app=web"},
		{"empty value needs the key", Set{"canary": ""}, Set{}, false, "canary="},
		{"empty value matches empty label", Set{"canary": ""}, Set{"canary": ""}, true, "canary="},
		// Not validated: still an exact match, never "everything".
		{"invalid set is exact match", Set{"bad key": "x/y"}, Set{"bad key": "x/y"}, true, "bad key=x/y"},
		{"invalid set does not widen", Set{"bad key": "x/y"}, Set{"app": "web"}, false, "bad key=x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := SelectorFromSet(tt.set)
			if got := sel.Matches(tt.labels); got != tt.matches {
				t.Errorf("Matches(%v) = %v, want %v", tt.labels, got, tt.matches)
			}
			if got := sel.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestValidatedSelectorFromSet(t *testing.T) {
	tests := []struct {
		name    string
		set     Set
		str     string
		wantErr string
	}{
		{"valid", Set{"b": "2", "a": "1"}, "a=1,b=2", ""},
		{"empty", Set{}, "", ""},
		{"bad key", Set{"a": "1", "bad key": "2"}, "", `labels: invalid key "bad key": must contain only letters, digits, '-', '_' and '.', not ' ' at offset 3`},
		{"bad value", Set{"a": "-1"}, "", `labels: invalid value "-1": must start and end with a letter or digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := ValidatedSelectorFromSet(tt.set)
			checkErr(t, err, tt.wantErr)
			if err == nil && sel.String() != tt.str {
				t.Errorf("String() = %q, want %q", sel.String(), tt.str)
			}
		})
	}
}

func TestSelectorAdd(t *testing.T) {
	base := SelectorFromSet(Set{"app": "web"})
	tier := mustRequirement(t, "tier", NotIn, "db", "cache")
	appExists := mustRequirement(t, "app", Exists)
	tests := []struct {
		name string
		sel  Selector
		add  []Requirement
		want string
	}{
		{"to everything", Everything(), []Requirement{tier}, "tier notin (cache,db)"},
		{"sorted by key", base, []Requirement{tier, mustRequirement(t, "a", DoesNotExist)}, "!a,app=web,tier notin (cache,db)"},
		{"same key sorted by operator", base, []Requirement{appExists}, "app=web,app"},
		{"duplicate dropped", base, []Requirement{mustRequirement(t, "app", DoubleEquals, "web")}, "app=web"},
		{"nothing added", base, nil, "app=web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.sel.String()
			got := tt.sel.Add(tt.add...)
			if got.String() != tt.want {
				t.Errorf("Add: String() = %q, want %q", got.String(), tt.want)
			}
			if tt.sel.String() != before {
				t.Errorf("Add modified the receiver: %q -> %q", before, tt.sel.String())
			}
		})
	}
}

func TestRequirementsIsACopy(t *testing.T) {
	sel, err := Parse("a=1,b=2")
	if err != nil {
		t.Fatal(err)
	}
	rs := sel.Requirements()
	rs[0], rs[1] = rs[1], rs[0]
	if got := sel.String(); got != "a=1,b=2" {
		t.Errorf("changing Requirements() changed the selector to %q", got)
	}
}
