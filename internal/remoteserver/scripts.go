package remoteserver

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/ssh"
)

var q = ssh.Quote

// The processes Create runs on a host.
const (
	procServer = "server"
	procEtcd   = "etcd"
)

// stateFunc prints the state of process $1 of the host: running, stopped
// (installed, not running) or absent.
const stateFunc = ssh.ProcessShellFuncs + `state() {
	if [ -f "$R/$1.unit" ]; then
		if systemctl is-active --quiet "$(cat "$R/$1.unit")"; then echo running; else echo stopped; fi
	elif [ -f "$R/$1.pid" ]; then
		if read pid start < "$R/$1.pid" && alive "$pid" "$start"; then echo running; else echo stopped; fi
	else echo absent
	fi
}
`

// preflightScript prints what runs on the host, whether systemd does, where
// etcd is, and the install record.
func (l layout) preflightScript(etcd string) string {
	return "R=" + q(l.root) + "\nE=" + q(etcd) + "\nM=/nonexistent\n" + stateFunc + `printf 'server %s\n' "$(state server)"
printf 'etcd %s\n' "$(state etcd)"
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then echo 'systemd yes'; else echo 'systemd no'; fi
e=$(command -v "$E" 2>/dev/null || true)
[ -n "$e" ] || [ ! -x /usr/bin/"$E" ] || e=/usr/bin/"$E"
printf 'etcdbin %s\n' "${e:--}"
if [ -f "$R/install.json" ]; then printf 'record '; tr -d '\n' < "$R/install.json"; echo; fi
exit 0
`
}

// hostState is what preflightScript printed.
type hostState struct {
	server, etcd string // running, stopped, absent
	systemd      bool
	etcdBin      string // "" when the host has none
	record       string // install.json, "" when absent
}

func parsePreflight(out []byte) (hostState, error) {
	var st hostState
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "server":
			st.server = v
		case "etcd":
			st.etcd = v
		case "systemd":
			st.systemd = v == "yes"
		case "etcdbin":
			if v != "-" {
				st.etcdBin = v
			}
		case "record":
			st.record = v
		}
	}
	if st.server == "" || st.etcd == "" {
		return st, fmt.Errorf("unexpected output %q", out)
	}
	return st, nil
}

// file is a file to write on a host, relative to its directory.
type file struct {
	name string
	data []byte
}

// writeFilesScript writes files (read from its standard input in order,
// mode 0600) under root; an existing file is kept unless replace.
func writeFilesScript(root string, files []file, replace bool) string {
	var b strings.Builder
	b.WriteString("set -eu\numask 077\nR=" + q(root) + "\n")
	for _, f := range files {
		p := `"$R"/` + q(f.name)
		fmt.Fprintf(&b, "mkdir -p \"$(dirname %s)\"\nhead -c %d > %s.tmp\n", p, len(f.data), p)
		if replace {
			fmt.Fprintf(&b, "mv -f %s.tmp %s\n", p, p)
		} else {
			fmt.Fprintf(&b, "if [ -e %s ]; then rm -f %s.tmp; else mv %s.tmp %s; fi\n", p, p, p, p)
		}
	}
	return b.String()
}

func filesInput(files []file) io.Reader {
	var b bytes.Buffer
	for _, f := range files {
		b.Write(f.data)
	}
	return &b
}

// readFilesScript prints each of names that exists under root as
// "file NAME SIZE\n" and its content.
func readFilesScript(root string, names []string) string {
	var b strings.Builder
	b.WriteString("set -eu\nR=" + q(root) + "\n")
	for _, n := range names {
		p := `"$R"/` + q(n)
		fmt.Fprintf(&b, "if [ -f %s ]; then printf 'file %%s %%s\\n' %s \"$(wc -c < %s)\"; cat %s; fi\n", p, q(n), p, p)
	}
	return b.String()
}

// parseFiles reads readFilesScript's output.
func parseFiles(out []byte) (map[string][]byte, error) {
	files := map[string][]byte{}
	for len(out) > 0 {
		line, rest, ok := bytes.Cut(out, []byte("\n"))
		f := strings.Fields(string(line))
		if !ok || len(f) != 3 || f[0] != "file" {
			return nil, fmt.Errorf("unexpected output %q", line)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 0 || n > len(rest) {
			return nil, fmt.Errorf("file %s: bad size %q", f[1], f[2])
		}
		files[f[1]] = rest[:n]
		out = rest[n:]
	}
	return files, nil
}

// runScript is <name>-run.sh: it records its pid and start time, then
// becomes `maestro supervise -- argv` (which restarts argv when it exits).
func (l layout) runScript(name string, argv []string) string {
	w := make([]string, len(argv))
	for i, a := range argv {
		w[i] = q(a)
	}
	return `#!/bin/sh
# maestro: runs ` + name + ` under maestro supervise.
cd "$(dirname "$0")" || exit 1
start=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)
echo "$$ $start" > ` + name + `.pid.tmp && mv ` + name + `.pid.tmp ` + name + `.pid
exec ` + q(l.binary()) + ` supervise -- ` + strings.Join(w, " ") + `
`
}

// unitName is the systemd unit of process name on host.
func unitName(name, host string) string { return "maestro-" + name + "-" + tag(host) + ".service" }

// startScript starts process name from its run script and unit file (on
// its standard input, in that order): as the unit where systemd runs and
// the user is root, else as a supervisor in its own session. It prints
// "systemd" or "process".
func (l layout) startScript(name, unit string, runLen, unitLen int) string {
	return `set -eu
umask 077
cd ` + q(l.root) + `
head -c ` + strconv.Itoa(runLen) + ` > ` + name + `-run.sh
chmod 700 ` + name + `-run.sh
if [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then
	head -c ` + strconv.Itoa(unitLen) + ` > /etc/systemd/system/` + unit + `
	chmod 644 /etc/systemd/system/` + unit + `
	printf '%s\n' ` + q(unit) + ` > ` + name + `.unit
	systemctl daemon-reload
	systemctl enable --now --quiet ` + q(unit) + `
	echo systemd
	exit 0
fi
rm -f ` + name + `.pid
umask 022
setsid sh ./` + name + `-run.sh >> ` + name + `.log 2>&1 < /dev/null &
i=0
while [ ! -f ` + name + `.pid ]; do
	i=$((i+1))
	[ $i -le 100 ] || { echo "the supervisor of ` + name + ` did not start" >&2; exit 1; }
	sleep 0.05
done
echo process
`
}

// readConfigScript prints the admin client config, or exits 3 while there
// is none.
func (l layout) readConfigScript() string {
	c := q(l.join("admin.conf"))
	return "[ -f " + c + " ] || exit 3\ncat " + c + "\n"
}

// logTailScript prints the last lines of process name's log.
func (l layout) logTailScript(name string, lines int) string {
	return "tail -n " + strconv.Itoa(lines) + " " + q(l.join(name+".log")) + " 2>/dev/null || true\n"
}

// uninstallScript stops the server, then etcd (their units, or their
// supervisors' process groups: SIGTERM, SIGKILL after grace), and removes
// the host's directory, its units, and installDir when that leaves it
// empty. What is already gone is no error.
func (l layout) uninstallScript(installDir string, grace time.Duration) string {
	tenths := strconv.Itoa(max(1, int(grace/(100*time.Millisecond))))
	return "set -u\nR=" + q(l.root) + "\nM=/nonexistent\n" + ssh.ProcessShellFuncs + `stop() {
	if [ -f "$R/$1.unit" ]; then
		u=$(cat "$R/$1.unit")
		systemctl disable --now --quiet "$u" || true
		rm -f /etc/systemd/system/"$u"
		systemctl daemon-reload || true
	fi
	if [ -f "$R/$1.pid" ] && read pid start < "$R/$1.pid" && alive "$pid" "$start"; then
		kill -TERM -"$pid" 2>/dev/null || true
		i=0
		while group_alive "$pid" && [ $i -lt ` + tenths + ` ]; do sleep 0.1; i=$((i+1)); done
		if group_alive "$pid"; then
			kill -KILL -"$pid" 2>/dev/null || true
			i=0
			while group_alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
			if group_alive "$pid"; then echo "$1 (process group $pid) still runs after SIGKILL" >&2; exit 1; fi
		fi
	fi
}
if [ -d "$R" ]; then
	stop server
	stop etcd
	rm -rf "$R"
fi
rmdir ` + q(installDir) + ` 2>/dev/null || true
exit 0
`
}

// recordJSON is install.json.
func recordJSON(s Spec) string {
	hosts := make([]string, len(s.Hosts))
	for i, h := range s.Hosts {
		hosts[i] = strconv.Quote(h)
	}
	return `{"hosts":[` + strings.Join(hosts, ",") + `],"apiPort":` + strconv.Itoa(s.APIPort) + `}`
}

// logPath is process name's log on l's host.
func (l layout) logPath(name string) string { return path.Join(l.root, name+".log") }
