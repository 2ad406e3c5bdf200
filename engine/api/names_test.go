package api

import (
	"strings"
	"testing"
)

func TestNameChecks(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	cases := []struct {
		check string
		fn    func(string) string
		valid []string
		bad   []string
	}{
		{"IsDNS1123Label", IsDNS1123Label,
			[]string{"a", "web", "web-1", "1web", "0", label63},
			[]string{"", "Web", "web_1", "web.1", "-web", "web-", label63 + "a", "wéb"}},
		{"IsDNS1123Subdomain", IsDNS1123Subdomain,
			[]string{"a", "node-1.example.com", "a.b.c", label63 + "." + label63},
			[]string{"", "Node.example.com", "a..b", ".a", "a.", "a_b.c", label63 + "a.com", strings.Repeat("a.", 127) + "ab"}},
		{"IsIANASvcName", IsIANASvcName,
			[]string{"http", "h2c", "web-admin", "a", "x1", "http-alternate"},
			[]string{"", "HTTP", "8080", "web--admin", "-http", "http-", "http_alt", "http-alternative"}},
		{"IsConfigKey", IsConfigKey,
			[]string{"app.conf", ".hidden", "UPPER_lower-1", "a..b", "tls.crt"},
			[]string{"", ".", "..", "..data", "a/b", "a b", "ä", strings.Repeat("k", 254)}},
		{"IsEnvVarName", IsEnvVarName,
			[]string{"PATH", "_x", "my.var", "a-b", "A1"},
			[]string{"", "1A", "A B", "A=B", "$X"}},
		{"IsIP", IsIP,
			[]string{"10.0.0.1", "::1", "fd00::10", "255.255.255.255"},
			[]string{"", "10.0.0", "10.0.0.256", "localhost", "10.0.0.1/24"}},
	}
	for _, tc := range cases {
		t.Run(tc.check, func(t *testing.T) {
			for _, s := range tc.valid {
				if msg := tc.fn(s); msg != "" {
					t.Errorf("%s(%q) = %q, want valid", tc.check, s, msg)
				}
			}
			for _, s := range tc.bad {
				if msg := tc.fn(s); msg == "" {
					t.Errorf("%s(%q) valid, want a reason", tc.check, s)
				}
			}
		})
	}
}

func TestIsPortNumber(t *testing.T) {
	for p, valid := range map[int32]bool{-1: false, 0: false, 1: true, 80: true, 65535: true, 65536: false} {
		if got := IsPortNumber(p) == ""; got != valid {
			t.Errorf("IsPortNumber(%d) valid = %v, want %v", p, got, valid)
		}
	}
}
