package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadJoinToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, empty := write("good", "abc123.secretpart\n"), write("empty", "  \n")
	for _, tc := range []struct {
		name, token, file, want, err string
	}{
		{name: "flag only", token: "abc.def", want: "abc.def"},
		{name: "file, trimmed", file: good, want: "abc123.secretpart"},
		{name: "both", token: "abc.def", file: good, err: "give one, not both"},
		{name: "missing file", file: filepath.Join(dir, "nope"), err: "--join-token-file: open"},
		{name: "empty file", file: empty, err: "the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readJoinToken(tc.token, tc.file)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secretpart") {
					t.Fatalf("err %v, want one containing %q and never the token", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
