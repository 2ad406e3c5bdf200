package labels

import "testing"

func TestSet(t *testing.T) {
	tests := []struct {
		name   string
		set    Set
		key    string
		has    bool
		get    string
		String string
	}{
		{"nil set", nil, "a", false, "", ""},
		{"present", Set{"a": "1"}, "a", true, "1", "a=1"},
		{"present with empty value", Set{"a": ""}, "a", true, "", "a="},
		{"absent", Set{"b": "2"}, "a", false, "", "b=2"},
		{"sorted string", Set{"z": "1", "a": "2", "m.io/k": "3"}, "m.io/k", true, "3", "a=2,m.io/k=3,z=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Has(tt.key); got != tt.has {
				t.Errorf("Has(%q) = %v, want %v", tt.key, got, tt.has)
			}
			if got := tt.set.Get(tt.key); got != tt.get {
				t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.get)
			}
			if got := tt.set.String(); got != tt.String {
				t.Errorf("String() = %q, want %q", got, tt.String)
			}
		})
	}
}
