package planrules

import (
	"strings"
	"testing"
)

// The table has the cases the issue asks for, each distinct and complete.
func TestCases(t *testing.T) {
	if len(Cases) < 12 {
		t.Fatalf("%d cases, want at least 12 (the selector, the request over its limit and ten more)", len(Cases))
	}
	names := map[string]bool{}
	for _, c := range Cases {
		if names[c.Name] {
			t.Errorf("case %q twice", c.Name)
		}
		names[c.Name] = true
		if c.Manifest == "" || c.WantAttr == "" || c.WantText == "" {
			t.Errorf("case %q is incomplete: %+v", c.Name, c)
		}
		if strings.Contains(c.Manifest, "resource ") || strings.Contains(c.Manifest, "maestro_") {
			t.Errorf("case %q is not in manifest form:\n%s", c.Name, c.Manifest)
		}
	}
}

func TestToTerraform(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`deployment "web" {` + "\n}\n", `resource "maestro_deployment" "web" {` + "\n}\n"},
		{"config_map \"app\"  {\n  data = { a = \"b\" }\n}\nservice \"web\" {\n}\n",
			"resource \"maestro_config_map\" \"app\"  {\n  data = { a = \"b\" }\n}\nresource \"maestro_service\" \"web\" {\n}\n"},
		{"variable \"image\" {\n  default = \"x\"\n}\n", "variable \"image\" {\n  default = \"x\"\n}\n"},
		// Nested blocks are not objects.
		{"pod \"p\" {\n  spec {\n    container {\n    }\n  }\n}\n", "resource \"maestro_pod\" \"p\" {\n  spec {\n    container {\n    }\n  }\n}\n"},
	} {
		if got := ToTerraform(tc.in); got != tc.want {
			t.Errorf("ToTerraform(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
