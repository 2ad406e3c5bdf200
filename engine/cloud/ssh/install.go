package ssh

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
)

// unitName is the systemd unit of machine name.
func unitName(name string) string { return "maestro-agent-" + name + ".service" }

// unitDir is where installScript puts systemd units.
const unitDir = "/etc/systemd/system"

// unitFile is the systemd unit running argv: restarted whenever it exits,
// its output appended to logPath, stopped with SIGTERM then SIGKILL after
// grace.
func unitFile(machine string, argv []string, logPath string, grace time.Duration) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = systemdQuote(a)
	}
	return strings.Join([]string{
		"[Unit]",
		"Description=maestro agent of machine " + machine,
		"After=network-online.target",
		"Wants=network-online.target",
		"",
		"[Service]",
		"ExecStart=" + strings.Join(q, " "),
		"Restart=always",
		"RestartSec=2",
		"KillMode=mixed",
		fmt.Sprintf("TimeoutStopSec=%d", max(1, int(grace.Seconds()))),
		"StandardOutput=append:" + logPath,
		"StandardError=append:" + logPath,
		"",
		"[Install]",
		"WantedBy=multi-user.target",
		"",
	}, "\n")
}

// systemdQuote quotes a word of ExecStart (double quotes, with \ " and the
// specifier and variable characters % and $ escaped).
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`)
	return `"` + r.Replace(s) + `"`
}

// supervisorScript is run.sh: it records its own pid and start time, then
// runs argv, restarting it 2 s after it exits, until it is killed (Delete
// signals its whole process group).
func supervisorScript(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quote(a)
	}
	return `#!/bin/sh
# maestro: runs this machine's agent, restarting it when it exits.
cd "$(dirname "$0")" || exit 1
start=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)
echo "$$ $start" > agent.pid.tmp && mv agent.pid.tmp agent.pid
while :; do
	` + strings.Join(q, " ") + `
	echo "maestro: agent exited with status $?; restarting in 2s"
	sleep 2
done
`
}

// installInput is what installScript reads on its standard input, in order:
// the join token, the CA, the record, then (no systemd) run.sh and (systemd)
// the unit file. Only the lengths are on the command line.
type installInput struct {
	token, ca, record, supervisor, unit []byte
}

func (in installInput) stdin() []byte {
	var b []byte
	for _, p := range [][]byte{in.token, in.ca, in.record, in.supervisor, in.unit} {
		b = append(b, p...)
	}
	return b
}

// installScript writes the machine's files from its standard input (the
// token to a 0600 file: never on a command line) and starts its agent: as
// a systemd unit where systemd runs and the user is root, else as a
// supervisor process in its own session. It prints "systemd" or "process".
func (l layout) installScript(dir, machine string, in installInput) string {
	d := quote(l.machineDir(dir))
	unit := quote(unitName(machine))
	read := func(n int, file string) string {
		return fmt.Sprintf("head -c %d > %s\n", n, file)
	}
	return `set -eu
umask 077
D=` + d + `
mkdir -p "$D/data"
cd "$D"
` + read(len(in.token), "join-token") + read(len(in.ca), "ca.crt") +
		read(len(in.record), ".machine.json") + `mv .machine.json machine.json
` + read(len(in.supervisor), "run.sh") + `chmod 700 run.sh
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then
	` + read(len(in.unit), unitDir+"/"+unitName(machine)) + `	chmod 644 ` + unitDir + `/` + unit + `
	printf '%s\n' ` + unit + ` > unit
	systemctl daemon-reload
	systemctl enable --now --quiet ` + unit + `
	echo systemd
	exit 0
fi
# The log stays private; the agent gets the usual umask (a unit's
# default), not the one that kept its files private here.
: >> agent.log
umask 022
setsid sh ./run.sh >> agent.log 2>&1 < /dev/null &
i=0
while [ ! -f agent.pid ]; do
	i=$((i+1))
	[ $i -le 100 ] || { echo "the supervisor did not start" >&2; exit 1; }
	sleep 0.05
done
echo process
`
}

// jsonString is s as encoding/json writes it.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// deleteScript stops machine dir's agent (its unit, or its supervisor's
// process group: SIGTERM, then SIGKILL after grace) and removes its files,
// its unit and its claim on the host; the binary and the install dir go
// with the last machine. A machine already gone is no error.
func (l layout) deleteScript(host, dir, id string, grace time.Duration) string {
	tenths := max(1, int(grace/(100*time.Millisecond)))
	return "set -u\nM=" + quote(l.machines()) + "\n" + shellFuncs + `D="$M"/` + quote(dir) + `
C=` + quote(l.claim(host)) + `
# Another host's machine (hosts sharing a filesystem) is left alone.
if [ -f "$D/machine.json" ] && ! grep -qF ` + quote(`"id":`+jsonString(id)) + ` "$D/machine.json"; then exit 0; fi
if [ -d "$D" ]; then
	touch "$D/deleting" 2>/dev/null || true
	if [ -f "$D/unit" ]; then
		u=$(cat "$D/unit")
		systemctl disable --now --quiet "$u" || true
		rm -f ` + unitDir + `/"$u"
		systemctl daemon-reload || true
	fi
	# The supervisor's group (the agent and its children) is signalled only
	# while the supervisor still is the process recorded: a PID or group
	# number reused by someone else is never signalled.
	if [ -f "$D/agent.pid" ] && read pid start < "$D/agent.pid" && alive "$pid" "$start"; then
		kill -TERM -"$pid" 2>/dev/null || true
		i=0
		while group_alive "$pid" && [ $i -lt ` + fmt.Sprint(tenths) + ` ]; do sleep 0.1; i=$((i+1)); done
		if group_alive "$pid"; then
			kill -KILL -"$pid" 2>/dev/null || true
			i=0
			while group_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
			if group_alive "$pid"; then echo "agent process group $pid still runs after SIGKILL" >&2; exit 1; fi
		fi
	fi
	# The agent leaves its pods' containers and pod network for a restarted
	# agent to adopt; an uninstall removes them (maestro node-cleanup).
	if [ -f "$D/machine.json" ]; then
		nc=$(sed -n ` + quote(cleanupArgsSed) + ` "$D/machine.json")
		set -- $nc
		if [ $# -eq 5 ] && [ -x "$1" ]; then timeout 120 "$1" node-cleanup "$2" "$3" "$4" "$5" >/dev/null 2>&1 || echo "node-cleanup failed on this host" >&2; fi
	fi
	rm -rf "$D"
fi
if [ -f "$C" ] && read owner < "$C" && [ "$owner" = ` + quote(dir) + ` ]; then rm -f "$C"; fi
if [ -d "$M" ] && [ -z "$(ls -A "$M")" ]; then
	rm -rf ` + quote(path.Join(l.root, "bin")) + `
	rmdir "$M" ` + quote(path.Join(l.root, "hosts")) + ` ` + quote(l.root) + ` 2>/dev/null || true
fi
exit 0
`
}

// cleanupArgsSed turns a machine.json (json.Marshal of a record: id, name
// and cluster first, binary last) into "<binary> --cluster-id <cluster>
// --node-name <name>" for the delete script's node-cleanup.
const cleanupArgsSed = `s/^{"id":"[^"]*","name":"\([^"]*\)","cluster":"\([^"]*\)".*"binary":"\([^"]*\)"}$/\3 --cluster-id \2 --node-name \1/p`

// logsScript prints the last lines of machine dir's agent log, or exits 3
// when the machine is gone.
func (l layout) logsScript(dir string, lines int) string {
	d := quote(l.machineDir(dir))
	return `[ -f ` + d + `/machine.json ] || exit 3
[ -f ` + d + `/agent.log ] || exit 0
tail -n ` + fmt.Sprint(lines) + ` ` + d + `/agent.log
`
}
