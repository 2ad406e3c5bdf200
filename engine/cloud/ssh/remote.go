package ssh

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// record is a machine's machine.json on its host. It holds no secret.
type record struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Cluster     string            `json:"cluster"`
	Pool        string            `json:"pool"`
	Zone        string            `json:"zone,omitempty"`
	MachineType string            `json:"machineType,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Host        string            `json:"host"`
	KeyHash     string            `json:"keyHash"`
	CreatedAt   time.Time         `json:"createdAt"`
	Binary      string            `json:"binary"`
}

// status is a record and what the host says of its agent.
type status struct {
	record
	dir      string // the machine's directory name
	running  bool   // its unit is active, or its supervisor process lives
	started  bool   // its unit or supervisor was started (unit or pid file)
	deleting bool   // a Delete began
}

// pendingTimeout is how long a machine may be recorded without its agent
// started before it counts as terminated (its Create died in between).
const pendingTimeout = time.Minute

func (s status) state() cloud.State {
	switch {
	case s.deleting:
		return cloud.StateStopping
	case s.running:
		return cloud.StateRunning
	case !s.started && time.Since(s.CreatedAt) < pendingTimeout:
		return cloud.StatePending
	}
	return cloud.StateTerminated
}

func (s status) machine(t target) cloud.Machine {
	return cloud.Machine{
		ID: s.ID, Name: s.Name, Cluster: s.Cluster, Pool: s.Pool, Zone: s.Zone,
		MachineType: s.MachineType, State: s.state(), Addresses: []string{t.address()},
		CreatedAt: s.CreatedAt,
	}
}

// layout is where things are on a host, under Options.InstallDir:
//
//	bin/maestro-<sha256 prefix>       the maestro binary, shared by the host's machines
//	hosts/<host>                      the ID of the machine the host is (one per host)
//	machines/<dir>/machine.json       the record
//	machines/<dir>/join-token         mode 0600
//	machines/<dir>/ca.crt, data/      the cluster CA, the agent's --data-dir
//	machines/<dir>/agent.log          the agent's output
//	machines/<dir>/run.sh, agent.pid  the supervisor (no systemd): its pid and start time
//	machines/<dir>/unit               the systemd unit's name (systemd)
//	machines/<dir>/deleting           a Delete began
type layout struct{ root string }

func (l layout) machines() string             { return path.Join(l.root, "machines") }
func (l layout) machineDir(dir string) string { return path.Join(l.root, "machines", dir) }
func (l layout) claim(host string) string {
	return path.Join(l.root, "hosts", strings.ReplaceAll(host, "/", "_"))
}
func (l layout) binary(sum string) string { return path.Join(l.root, "bin", "maestro-"+sum[:16]) }

// shellFuncs are the helpers the status and delete scripts share: alive
// PID START holds while PID is the process that started at START (clock
// ticks since boot, from /proc/PID/stat: a reused PID is not it);
// group_alive PGID while a process of group PGID lives (zombies, which
// their reaper may take a while to collect, do not count); show DIR prints
// a machine's status.
const shellFuncs = `alive() {
	[ -r /proc/$1/stat ] || return 1
	set -- "$1" "$2" "$(sed 's/.*) //' /proc/$1/stat)"
	[ "${3%% *}" != Z ] && [ "$(printf '%s\n' "$3" | cut -d' ' -f20)" = "$2" ]
}
group_alive() {
	pg=$1
	for f in /proc/[0-9]*/stat; do
		read -r s < "$f" 2>/dev/null || continue
		s=${s##*) }
		case $s in Z*|X*) continue ;; esac
		set -- $s
		[ "$3" = "$pg" ] && return 0
	done
	return 1
}
show() {
	d=$M/$1
	[ -f "$d/machine.json" ] || return 0
	st=stopped started=no
	if [ -f "$d/unit" ]; then
		started=yes
		systemctl is-active --quiet "$(cat "$d/unit")" && st=running
	elif [ -f "$d/agent.pid" ]; then
		started=yes
		read pid start < "$d/agent.pid" && alive "$pid" "$start" && st=running
	fi
	del=no
	[ -e "$d/deleting" ] && del=yes
	printf -- '--- %s %s %s %s\n' "$1" "$st" "$started" "$del"
	tr -d '\n' < "$d/machine.json"
	printf '\n'
}
`

// statusScript prints the status of the machines in dirs, or of every
// machine on the host when dirs is empty.
func (l layout) statusScript(dirs ...string) string {
	s := "M=" + quote(l.machines()) + "\n" + shellFuncs
	if len(dirs) == 0 {
		return s + `[ -d "$M" ] || exit 0
for d in "$M"/*/; do [ -d "$d" ] && show "$(basename "$d")"; done
exit 0
`
	}
	for _, d := range dirs {
		s += "show " + quote(d) + "\n"
	}
	return s + "exit 0\n"
}

// parseStatus reads statusScript's output.
func parseStatus(out []byte) ([]status, error) {
	var sts []status
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[0] != "---" {
			return nil, fmt.Errorf("unexpected status line %q", sc.Text())
		}
		if !sc.Scan() {
			return nil, fmt.Errorf("status of %s: no record", f[1])
		}
		s := status{dir: f[1], running: f[2] == "running", started: f[3] == "yes", deleting: f[4] == "yes"}
		if err := json.Unmarshal(sc.Bytes(), &s.record); err != nil {
			return nil, fmt.Errorf("machine %s: corrupt machine.json: %w", f[1], err)
		}
		sts = append(sts, s)
	}
	return sts, sc.Err()
}

// claimScript makes the host machine dir's, unless the host already is a
// machine: it claims hosts/<host> (created exclusively, so racing Creates
// from any number of processes make one machine) and prints "claimed", or
// prints "owner <dir>" and the owner's status. A claim whose machine was
// never recorded (its Create died) is released after pendingTimeout. It
// then prints the sha256 of the binary at bin, if there is one.
func (l layout) claimScript(host, dir, bin string) string {
	claim := quote(l.claim(host))
	return "set -u\nM=" + quote(l.machines()) + "\n" + shellFuncs + `mkdir -p "$M" ` + quote(path.Dir(l.claim(host))) + ` || exit 1
C=` + claim + `
claim() { ( set -C; printf '%s\n' ` + quote(dir) + ` > "$C" ) 2>/dev/null; }
if claim; then echo claimed
else
	read owner < "$C" || owner=
	if [ ! -f "$M/$owner/machine.json" ] && [ -n "$(find "$C" -mmin +` + fmt.Sprint(int(pendingTimeout/time.Minute)) + `)" ]; then
		rm -f "$C"
		if claim; then echo claimed; else read owner < "$C" || owner=; fi
	fi
	[ -n "$owner" ] && printf 'owner %s\n' "$owner" && show "$owner"
fi
if [ -f ` + quote(bin) + ` ]; then printf 'binary '; sha256sum < ` + quote(bin) + `; fi
exit 0
`
}

// claimResult is what claimScript printed.
type claimResult struct {
	claimed bool
	owner   string  // the machine dir holding the host, when not claimed
	status  *status // the owner's status, when it is recorded
	binSum  string  // sha256 of the installed binary, "" when missing
}

func parseClaim(out []byte) (claimResult, error) {
	var r claimResult
	var rest []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		switch f := strings.Fields(line); {
		case line == "claimed":
			r.claimed = true
		case len(f) >= 2 && f[0] == "owner":
			r.owner = f[1]
		case len(f) >= 2 && f[0] == "binary":
			r.binSum = f[1]
		case line != "":
			rest = append(rest, line)
		}
	}
	if !r.claimed && r.owner == "" {
		return r, fmt.Errorf("unexpected output %q", out)
	}
	if len(rest) > 0 {
		sts, err := parseStatus([]byte(strings.Join(rest, "\n") + "\n"))
		if err != nil {
			return r, err
		}
		if len(sts) == 1 {
			r.status = &sts[0]
		}
	}
	return r, nil
}

// uploadScript writes its standard input to bin when its sha256 is sum.
func uploadScript(bin, sum string) string {
	tmp := quote(bin+".upload.") + "$$" // one per upload: two Clouds may race
	return `set -e
mkdir -p ` + quote(path.Dir(bin)) + `
trap 'rm -f ` + tmp + `' EXIT
cat > ` + tmp + `
got=$(sha256sum < ` + tmp + ` | cut -d' ' -f1)
if [ "$got" != ` + quote(sum) + ` ]; then echo "uploaded binary has sha256 $got, want ` + sum + `" >&2; exit 1; fi
chmod 755 ` + tmp + `
mv -f ` + tmp + ` ` + quote(bin) + `
`
}
