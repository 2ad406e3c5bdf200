package local

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"a\nb\nc\n", 10, "a\nb\nc\n"},
		{"a\nb\nc\n", 1, "c\n"},
		{"a\nb\nc\n", 0, ""},
		{"", 5, ""},
		{"\n\n", 1, "\n"},
	} {
		if got := string(tail([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestLogs: Logs returns the last lines the machine's process wrote, and
// ErrNotFound once the machine is deleted.
func TestLogs(t *testing.T) {
	c := newCloud(t, t.TempDir(), `for i in 1 2 3 4 5; do echo "line $i"; done; exec sleep 120`, time.Second)
	m, _ := mustCreate(t, c, "m1")
	var got string
	waitFor(t, "the process's output", func() bool {
		var err error
		got, err = c.Logs(t.Context(), m.ID, 2)
		return err == nil && strings.Contains(got, "line 5")
	})
	if got != "line 4\nline 5\n" {
		t.Errorf("Logs(2) = %q, want the last two lines", got)
	}
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logs(t.Context(), m.ID, 2); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs after Delete: %v, want ErrNotFound", err)
	}
}
