package client_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/maestro-dev/maestro/engine/client"
)

// testCA is a self-signed CA certificate (no key is kept anywhere).
const testCA = `-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUXshJbLZc8/M2q5QnOdQmFCp2AgEwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKbWFlc3Ryby1jYTAeFw0yNjEyMDIxMTE1NThaFw0zNjExMjkx
MTE1NThaMBUxEzARBgNVBAMMCm1hZXN0cm8tY2EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ9Td5ssOdEHh7KJu+FL5sKfTeDkSOWq8ZRkVdIdf7afZHDhLGlaYQZ
50VMzfIbZf1EoFJcXUWjJmM7WFjHtAjno1MwUTAdBgNVHQ4EFgQUkWmxANHn0vJY
QsFeVhC2OPmJcYUwHwYDVR0jBBgwFoAUkWmxANHn0vJYQsFeVhC2OPmJcYUwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAdWhxDWXcO0FYI+/4QJ59r
RbFiE6ii7CjlpnmgNcWYvAIhAKk4LqgMxqhGnetmsmWCg2qVg0RNcjiui8HHlbZr
Pbvz
-----END CERTIFICATE-----
`

const testToken = "mae_0123456789abcdef0123456789abcdef"

func TestParseConfig(t *testing.T) {
	good := func(extra string) string {
		return "server: https://127.0.0.1:6443\ntoken: " + testToken + "\n" + extra
	}
	cases := []struct {
		name    string
		in      string
		wantErr string // a substring of the error; "" for none
	}{
		{"minimal", good(""), ""},
		{"with CA data", good("certificateAuthorityData: |\n" + indent(testCA)), ""},
		{"with CA path", good("certificateAuthority: /etc/maestro/ca.pem\n"), ""},
		{"json", `{"server":"http://localhost:8080","token":"` + testToken + `"}`, ""},
		{"no server", "token: " + testToken, "server: required"},
		{"no token", "server: https://h:1", "token: required"},
		{"unknown field", good("tokn: x\n"), `unknown field "tokn"`},
		{"wrong type", "server: [1]\ntoken: " + testToken, "server"},
		{"not a URL scheme", good("")[:8] + "ftp" + good("")[13:], "server:"},
		{"no host", "server: https://\ntoken: " + testToken, "server: the URL has no host"},
		{"query", "server: https://h:1/?x=1\ntoken: " + testToken, "server: "},
		{"user in URL", "server: https://u:p@h:1\ntoken: " + testToken, "server: must not carry a user"},
		// Quoting the server value put a token pasted there in the error.
		{"token in the server field", "server: " + testToken + "\ntoken: " + testToken, "server: must be an http(s) URL"},
		{"token with a newline", "server: https://h:1\ntoken: \"abc\\ndef\"", "token: must be printable"},
		{"CA data without PEM", good("certificateAuthorityData: hello\n"), "certificateAuthorityData: no PEM certificate found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.ParseConfig([]byte(tc.in))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Fatalf("the error carries the token: %v", err)
			}
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// TestLoadConfigNamesTheFile: LoadConfig's errors say which file.
func TestLoadConfigNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("server: https://h:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := client.LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "token: required") {
		t.Fatalf("error %v, want one naming %s and the token", err, path)
	}
}

// FuzzParseConfig: any config file contents either give an error that
// says what is wrong (and never carries the token), or a config that a
// client can be built from, and that WriteConfig's encoding reads back as
// the same config.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"server: https://127.0.0.1:6443\ntoken: " + testToken + "\ncertificateAuthorityData: |\n" + indent(testCA),
		"server: https://127.0.0.1:6443\ntoken: " + testToken + "\ncertificateAuthority: ca.pem\n",
		`{"server":"http://localhost:8080","token":"` + testToken + `"}`,
		"server: https://[::1]:6443/\ntoken: t\n", "server: https://\ntoken: t", "server: https://h?x\ntoken: t",
		"server: 1\ntoken: 2", "token: \"a b\"\nserver: http://h", "server: http://h\ntoken: t\ntoken: u",
		"", "{}", "- a", "server: &a http://h\ntoken: *a", "certificateAuthorityData: !!binary aGVsbG8=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := client.ParseConfig(data)
		if err != nil {
			var loose client.Config
			_ = yaml.Unmarshal(data, &loose)
			if len(loose.Token) >= 8 && strings.Contains(err.Error(), loose.Token) {
				t.Fatalf("the error carries the token: %v", err)
			}
			return
		}
		if cfg.CertificateAuthorityData != "" || cfg.CertificateAuthority == "" {
			if _, err := client.New(cfg); err != nil {
				t.Fatalf("ParseConfig accepts %q, but New refuses it: %v", data, err)
			}
		}
		b, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("encoding %+v: %v", cfg, err)
		}
		again, err := client.ParseConfig(b)
		if err != nil {
			t.Fatalf("written as %q, the config does not read back: %v", b, err)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("written as %q, the config reads back differently:\n%+v\n%+v", b, cfg, again)
		}
	})
}
