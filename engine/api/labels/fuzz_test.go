package labels

import (
	"reflect"
	"testing"
)

// FuzzParse checks that the canonical form is faithful: for any input Parse
// accepts, parse -> String -> parse gives an identical selector whose
// String is the same text, and both selectors agree on a few label sets.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a", "!a", "a=b", "a==b", "a!=b", "a=", "a in (b,c)", "a notin (b)",
		"a in ()", "a in (,b)", "in=notin", "maestro.dev/x=y,!z,w in (1,2)",
		"a in (b", "a=b,", "A_/b=c", "a b", " a = b ",
	} {
		f.Add(s)
	}
	probes := []Set{nil, {"a": "b"}, {"a": ""}, {"a": "c", "z": "1"}}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			return
		}
		canon := sel.String()
		sel2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(sel.Requirements(), sel2.Requirements()) {
			t.Fatalf("%q -> %q -> different requirements:\n%#v\n%#v", s, canon, sel.Requirements(), sel2.Requirements())
		}
		if again := sel2.String(); again != canon {
			t.Fatalf("String not a fixed point: %q -> %q -> %q", s, canon, again)
		}
		if sel.Empty() != sel2.Empty() {
			t.Fatalf("Empty differs for %q and %q", s, canon)
		}
		for _, ls := range probes {
			if sel.Matches(ls) != sel2.Matches(ls) {
				t.Fatalf("%q and %q disagree on %v", s, canon, ls)
			}
		}
	})
}
