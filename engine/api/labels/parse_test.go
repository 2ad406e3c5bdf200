package labels

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical String of the result
	}{
		{"empty", "", ""},
		{"whitespace only", " \t\n", ""},
		{"equals", "app=web", "app=web"},
		{"double equals", "app==web", "app=web"},
		{"not equals", "tier!=db", "tier!=db"},
		{"empty value", "canary=", "canary="},
		{"empty value not equals", "canary!=", "canary!="},
		{"exists", "app", "app"},
		{"does not exist", "!canary", "!canary"},
		{"does not exist with space", "! canary", "!canary"},
		{"in", "env in (prod,dev)", "env in (dev,prod)"},
		{"notin with spaces", "env notin ( a , b )", "env notin (a,b)"},
		{"in single", "env in (prod)", "env in (prod)"},
		{"in without space before paren", "env in(prod)", "env in (prod)"},
		{"in dedupes", "env in (a,b,a)", "env in (a,b)"},
		{"in empty list is the empty value", "env in ()", "env in ()"},
		{"in empty entry", "env in (a,)", "env in (,a)"},
		{"in leading empty entry", "env in (,a)", "env in (,a)"},
		{"prefixed key", "maestro.dev/role=api", "maestro.dev/role=api"},
		{"spaces around operators", "  app  =  web  ,  tier != db  ", "app=web,tier!=db"},
		{"tabs and newlines", "app=web,\n\ttier!=db", "app=web,tier!=db"},
		{"sorted by key", "z=1,a=2,m", "a=2,m,z=1"},
		{"duplicate requirement dropped", "a=1,a==1", "a=1"},
		{"same key different operators", "a!=1,a", "a!=1,a"},
		{"keyword as key", "in=x", "in=x"},
		{"keyword as key with in", "notin in (in,notin)", "notin in (in,notin)"},
		{"keyword as exists", "in", "in"},
		{"keyword as value", "a=in", "a=in"},
		{"mixed", "app=web, env in (prod, staging), !canary, tier notin (db), managed", "app=web,!canary,env in (prod,staging),managed,tier notin (db)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := sel.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			if got := sel.Empty(); got != (tt.want == "") {
				t.Errorf("Parse(%q).Empty() = %v", tt.in, got)
			}
		})
	}
}

func TestParseRequirements(t *testing.T) {
	sel, err := Parse("env notin (b, a), app==web, !canary")
	if err != nil {
		t.Fatal(err)
	}
	type req struct {
		key    string
		op     Operator
		values []string
	}
	want := []req{
		{"app", Equals, []string{"web"}},
		{"canary", DoesNotExist, nil},
		{"env", NotIn, []string{"a", "b"}},
	}
	rs := sel.Requirements()
	if len(rs) != len(want) {
		t.Fatalf("got %d requirements, want %d: %v", len(rs), len(want), rs)
	}
	for i, r := range rs {
		if r.Key() != want[i].key || r.Operator() != want[i].op || !slices.Equal(r.Values(), want[i].values) {
			t.Errorf("requirement %d = (%q, %q, %q), want %v", i, r.Key(), r.Operator(), r.Values(), want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"unclosed list", "app in (a", `labels: "app in (a": expected "," or ")", found end of input`},
		{"unclosed empty list", "app in (", `labels: "app in (": expected a value, "," or ")" in "in" list, found end of input`},
		{"list without paren", "app in a", `labels: "app in a": expected "(" after "in", found "a" at offset 7`},
		{"notin without list", "app notin", `labels: "app notin": expected "(" after "notin", found end of input`},
		{"extra close paren", "app in (a))", `labels: "app in (a))": expected "," or end of input after requirement, found ")" at offset 10`},
		{"operator in list", "app in (a,!)", `labels: "app in (a,!)": expected a value, "," or ")" in "in" list, found "!" at offset 10`},
		{"missing comma in list", "app in (a b)", `labels: "app in (a b)": expected "," or ")", found "b" at offset 10`},
		{"trailing comma", "a=b,", `labels: "a=b,": expected a label key, found end of input`},
		{"leading comma", ",a=b", `labels: ",a=b": expected a label key, found "," at offset 0`},
		{"double comma", "a=b,,c", `labels: "a=b,,c": expected a label key, found "," at offset 4`},
		{"missing comma", "a=b c=d", `labels: "a=b c=d": expected "," or end of input after requirement, found "c" at offset 4`},
		{"two values", "a=b=c", `labels: "a=b=c": expected "," or end of input after requirement, found "=" at offset 3`},
		{"no key", "=b", `labels: "=b": expected a label key, found "=" at offset 0`},
		{"bang alone", "!", `labels: "!": expected a label key, found end of input`},
		{"bang with value", "!a=b", `labels: "!a=b": expected "," or end of input after requirement, found "=" at offset 2`},
		{"bang after key", "a!", `labels: "a!": expected an operator (=, ==, !=, in, notin), "," or end of input after key "a", found "!" at offset 1`},
		{"unknown operator word", "a gt 3", `labels: "a gt 3": expected an operator (=, ==, !=, in, notin), "," or end of input after key "a", found "gt" at offset 2`},
		{"greater than", "a>3", `labels: "a>3": at offset 0: invalid key "a>3": must contain only letters, digits, '-', '_' and '.', not '>' at offset 1`},
		{"bang as value", "a!=!", `labels: "a!=!": expected a value, "," or end of input after "!=", found "!" at offset 3`},
		{"paren as value", "a=(b)", `labels: "a=(b)": expected a value, "," or end of input after "=", found "(" at offset 2`},
		{"invalid key", "A_/b=c", `labels: "A_/b=c": at offset 0: invalid key "A_/b": prefix "A_" must be a DNS subdomain of lowercase letters, digits, '-' and '.', not 'A'`},
		{"invalid key later", "a=b, -x", `labels: "a=b, -x": at offset 5: invalid key "-x": must start and end with a letter or digit`},
		{"invalid value", "a=-x", `labels: "a=-x": at offset 2: invalid value "-x": must start and end with a letter or digit`},
		{"invalid value in list", "a in (ok, x/y)", `labels: "a in (ok, x/y)": at offset 10: invalid value "x/y": must contain only letters, digits, '-', '_' and '.', not '/' at offset 1`},
		{"invalid key for does not exist", "!a/b/c", `labels: "!a/b/c": at offset 1: invalid key "a/b/c": must contain at most one "/"`},
		{"uppercase keyword is not an operator", "a IN (b)", `labels: "a IN (b)": expected an operator (=, ==, !=, in, notin), "," or end of input after key "a", found "IN" at offset 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", tt.in, sel)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}

func TestSelectorMatches(t *testing.T) {
	pod := Set{"app": "web", "env": "prod", "tier": "frontend", "maestro.dev/managed": ""}
	tests := []struct {
		name     string
		selector string
		labels   Labels
		want     bool
	}{
		{"everything matches", "", pod, true},
		{"everything matches nil", "", nil, true},
		{"equality", "app=web", pod, true},
		{"equality mismatch", "app=db", pod, false},
		{"all requirements must hold", "app=web,env=dev", pod, false},
		{"conjunction holds", "app=web,env=prod,tier", pod, true},
		{"not equals", "env!=dev", pod, true},
		{"not equals on absent key", "track!=canary", pod, true},
		{"not equals same", "env!=prod", pod, false},
		{"in", "env in (dev,prod)", pod, true},
		{"in mismatch", "env in (dev,qa)", pod, false},
		{"in absent key", "track in (stable)", pod, false},
		{"notin", "env notin (dev,qa)", pod, true},
		{"notin present", "env notin (prod)", pod, false},
		{"notin absent key", "track notin (canary)", pod, true},
		{"exists", "maestro.dev/managed", pod, true},
		{"exists absent", "track", pod, false},
		{"does not exist", "!track", pod, true},
		{"does not exist present", "!app", pod, false},
		{"empty value equality", "maestro.dev/managed=", pod, true},
		{"empty value does not match absent", "track=", pod, false},
		{"empty value in set", "maestro.dev/managed in ()", pod, true},
		{"set based conjunction", "env in (prod,staging),tier notin (db,cache),!track", pod, true},
		{"set based conjunction fails on one", "env in (prod,staging),tier notin (frontend),!track", pod, false},
		{"exists and not equals on same key", "app,app!=db", pod, true},
		{"contradiction", "app=web,app!=web", pod, false},
		{"nil labels with negative requirements", "!app,app notin (web),app!=web", nil, true},
		{"nil labels with positive requirement", "app", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(tt.labels); got != tt.want {
				t.Errorf("Parse(%q).Matches(%v) = %v, want %v", tt.selector, tt.labels, got, tt.want)
			}
		})
	}
}
