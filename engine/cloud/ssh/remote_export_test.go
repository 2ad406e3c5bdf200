package ssh

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSystemdUnitDescription(t *testing.T) {
	u := SystemdUnit("maestro server of the control plane on h1", []string{"/opt/m", "server", "--data-dir", "/d 1"}, "/l/server.log", 5*time.Second)
	for _, want := range []string{
		"Description=maestro server of the control plane on h1\n",
		`ExecStart="/opt/m" "server" "--data-dir" "/d 1"` + "\n",
		"StandardOutput=append:/l/server.log\n",
		"TimeoutStopSec=5\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("unit lacks %q:\n%s", want, u)
		}
	}
	if strings.Contains(u, "agent") {
		t.Errorf("unit still describes an agent:\n%s", u)
	}
}

func TestExitStatus(t *testing.T) {
	if got := ExitStatus(nil); got != -1 {
		t.Errorf("ExitStatus(nil) = %d", got)
	}
	if got := ExitStatus(errors.New("connection lost")); got != -1 {
		t.Errorf("ExitStatus(other error) = %d", got)
	}
}
