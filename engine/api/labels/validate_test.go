package labels

import (
	"strings"
	"testing"
)

func TestValidateKey(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name    string
		key     string
		wantErr string // "" for valid keys; otherwise the whole message
	}{
		{"simple", "app", ""},
		{"single char", "a", ""},
		{"mixed case and symbols inside", "My_app-1.x", ""},
		{"digits only", "123", ""},
		{"prefixed", "maestro.dev/role", ""},
		{"prefix with dash", "my-org.example.com/app", ""},
		{"name 63 chars", long63, ""},
		{"prefix 253 chars", strings.Repeat("a.", 126) + "a/x", ""},
		{"empty", "", `labels: invalid key "": name part must not be empty`},
		{"name 64 chars", long63 + "a", `labels: invalid key "` + long63 + `a": must be at most 63 characters, not 64`},
		{"leading dash", "-app", `labels: invalid key "-app": must start and end with a letter or digit`},
		{"trailing dot", "app.", `labels: invalid key "app.": must start and end with a letter or digit`},
		{"space", "my app", `labels: invalid key "my app": must contain only letters, digits, '-', '_' and '.', not ' ' at offset 2`},
		{"non-ascii", "äpp", `labels: invalid key "äpp": must contain only letters, digits, '-', '_' and '.', not 'ä' at offset 0`},
		{"invalid utf-8", "a\xffb", `labels: invalid key "a\xffb": must contain only letters, digits, '-', '_' and '.', not byte 0xff at offset 1`},
		{"non-ascii in prefix", "ä.io/x", `labels: invalid key "ä.io/x": prefix "ä.io" must be a DNS subdomain of lowercase letters, digits, '-' and '.', not 'ä'`},
		{"empty name", "maestro.dev/", `labels: invalid key "maestro.dev/": name part must not be empty`},
		{"empty prefix", "/app", `labels: invalid key "/app": prefix "" must not be empty (omit the "/" for an unprefixed key)`},
		{"two slashes", "a/b/c", `labels: invalid key "a/b/c": must contain at most one "/"`},
		{"uppercase prefix", "Maestro.dev/app", `labels: invalid key "Maestro.dev/app": prefix "Maestro.dev" must be a DNS subdomain of lowercase letters, digits, '-' and '.', not 'M'`},
		{"underscore in prefix", "my_org/app", `labels: invalid key "my_org/app": prefix "my_org" must be a DNS subdomain of lowercase letters, digits, '-' and '.', not '_'`},
		{"empty prefix label", "a..b/app", `labels: invalid key "a..b/app": prefix "a..b" must be a DNS subdomain: empty label between dots`},
		{"prefix label dash", "a.-b/app", `labels: invalid key "a.-b/app": prefix "a.-b" must be a DNS subdomain: label "-b" must start and end with a lowercase letter or digit`},
		{"prefix too long", strings.Repeat("a.", 127) + "a/x", `labels: invalid key "` + strings.Repeat("a.", 127) + `a/x": prefix "` + strings.Repeat("a.", 127) + `a" must be at most 253 characters, not 255`},
		{"bad name after prefix", "maestro.dev/-x", `labels: invalid key "maestro.dev/-x": name "-x" must start and end with a letter or digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateKey(tt.key)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestValidateValue(t *testing.T) {
	long63 := strings.Repeat("v", 63)
	tests := []struct {
		name    string
		value   string
		wantErr string
	}{
		{"empty", "", ""},
		{"simple", "frontend", ""},
		{"symbols inside", "v1.2_rc-3", ""},
		{"63 chars", long63, ""},
		{"64 chars", long63 + "v", `labels: invalid value "` + long63 + `v": must be at most 63 characters, not 64`},
		{"leading underscore", "_x", `labels: invalid value "_x": must start and end with a letter or digit`},
		{"single dash", "-", `labels: invalid value "-": must start and end with a letter or digit`},
		{"slash", "a/b", `labels: invalid value "a/b": must contain only letters, digits, '-', '_' and '.', not '/' at offset 1`},
		{"comma", "a,b", `labels: invalid value "a,b": must contain only letters, digits, '-', '_' and '.', not ',' at offset 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, ValidateValue(tt.value), tt.wantErr)
		})
	}
}

// checkErr fails unless err is nil and want is "", or err's message is want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("got no error, want %s", want)
	case want != "" && err.Error() != want:
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}
