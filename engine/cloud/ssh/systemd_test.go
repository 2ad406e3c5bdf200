//go:build linux

package ssh

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testbed"
)

// TestSystemdUnit: on a host where systemd runs, the agent is the unit
// maestro-agent-<name>.service: written, reloaded, enabled and started
// (no supervisor); the machine runs while the unit is active; Delete
// disables it and removes the unit file. Systemd is emulated: sshd runs in
// a mount namespace where /run/systemd/system exists and systemctl is
// testdata/systemctl, which runs the unit's ExecStart; so this checks the
// cloud's side (files, calls, unit text), not systemd's.
func TestSystemdUnit(t *testing.T) {
	systemctl, err := filepath.Abs("testdata/systemctl")
	if err != nil {
		t.Fatal(err)
	}
	b := newBed(t, 1, testbed.SSHDOptions{Systemctl: systemctl})
	c := b.newCloud(t, b.options(t, standIn(t, "")))
	remote := func(script string) string {
		t.Helper()
		cn, err := c.dial(t.Context(), "test", b.host(0))
		if err != nil {
			t.Fatal(err)
		}
		defer cn.Close()
		out, err := cn.run(t.Context(), "test", "test", script, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	const unit = "maestro-agent-m1.service"
	m := mustCreate(t, c, "m1", b.host(0))
	dir := c.machineDirOf(t, m.ID)
	if got, _ := os.ReadFile(filepath.Join(dir, "unit")); strings.TrimSpace(string(got)) != unit {
		t.Errorf("machine's unit file names %q, want %s", got, unit)
	}
	if _, err := os.Stat(filepath.Join(dir, "agent.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a supervisor started on a systemd host (agent.pid: %v)", err)
	}
	waitFor(t, "the unit's agent to read the token", 10*time.Second, func() bool {
		seen, _ := os.ReadFile(filepath.Join(dir, "data", "token-seen"))
		return string(seen) == cloudtest.Token
	})
	unitText := remote("cat /etc/systemd/system/" + unit)
	for _, want := range []string{`ExecStart="` + c.layout.binary(c.binSum) + `" "agent"`, `"--node-name" "m1"`,
		"StandardOutput=append:" + filepath.Join(dir, "agent.log"), "Restart=always"} {
		if !strings.Contains(unitText, want) {
			t.Errorf("unit lacks %q:\n%s", want, unitText)
		}
	}
	if calls := remote("cat /run/systemd/fake/calls"); !strings.Contains(calls, "daemon-reload\nenable --now --quiet "+unit+"\n") {
		t.Errorf("systemctl calls:\n%s\nwant daemon-reload, then enable --now of the unit", calls)
	}
	if got, err := c.Get(t.Context(), m.ID); err != nil || got.State != cloud.StateRunning {
		t.Errorf("Get while the unit is active: %+v, %v; want running", got, err)
	}
	if logs, err := c.Logs(t.Context(), m.ID, 5); err != nil || !strings.Contains(logs, "stand-in agent: started") {
		t.Errorf("Logs = %q, %v; want the unit's output", logs, err)
	}
	if err := c.Delete(t.Context(), m.ID); err != nil {
		t.Fatal(err)
	}
	if calls := remote("cat /run/systemd/fake/calls"); !strings.Contains(calls, "disable --now --quiet "+unit+"\ndaemon-reload\n") {
		t.Errorf("systemctl calls:\n%s\nwant disable --now of the unit, then daemon-reload", calls)
	}
	if left := remote("ls -A /etc/systemd/system"); left != "" {
		t.Errorf("unit files left after Delete: %q", left)
	}
	b.waitOnlySSHD(t, 0)
	if _, err := os.Stat("/etc/systemd/system/" + unit); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unit reached this machine's /etc/systemd/system (%v): the emulation leaked", err)
	}
}
