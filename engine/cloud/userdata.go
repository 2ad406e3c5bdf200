package cloud

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Paths of a cloud machine bootstrapped by UserData, under $MAESTRO_ROOT
// (empty on a real machine; an emulated host's own directory in the fakes).
const (
	UserDataDir    = "/var/lib/maestro"
	UserDataBinary = "/opt/maestro/bin/maestro"
	// RootEnv, when set, is prefixed to every path the script writes: the
	// fakes' emulated hosts share one file system, so each instance gets a
	// directory of its own as its disk.
	RootEnv = "MAESTRO_ROOT"
)

// Bootstrap endpoints of the API server, served without authentication
// (nothing secret: a machine fetches them before it has credentials).
const (
	// BootstrapCAPath serves the cluster CA certificate (PEM); a machine
	// trusts it only if its SHA-256 is the one its user data names.
	BootstrapCAPath = "/v1/bootstrap/ca.crt"
	// BootstrapAgentPath, followed by <os>/<arch>, serves the maestro binary
	// the server runs (GOOS/GOARCH must match the server's).
	BootstrapAgentPath = "/v1/bootstrap/agent/"
)

// CAHash is the hex SHA-256 of a CA certificate file, as sha256sum prints it.
func CAHash(caPEM []byte) string {
	h := sha256.Sum256(caPEM)
	return hex.EncodeToString(h[:])
}

// UserData is the boot script of a cloud machine (EC2 user data, a GCE
// startup-script) for req: it fetches the cluster CA from the server and
// checks it against the hash it carries, fetches the agent binary over TLS
// with that CA, writes the single-use join token (mode 0600) and starts
// `maestro agent` joining as req.Name with req's pool, zone, machine type
// and labels, then extra agent arguments. Under systemd the agent is a
// unit that restarts; without it (or with $MAESTRO_ROOT set) the script
// execs the agent in the foreground. The script holds the join token:
// callers treat it as a secret (never logged, never in errors).
func UserData(req MachineRequest, extra ...string) ([]byte, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	b := req.Bootstrap
	args := AgentArgs(`"$bin"`, Agent{
		Name: req.Name, Pool: req.Pool, Zone: req.Zone, MachineType: req.MachineType, Labels: req.Labels,
		ServerURL: b.ServerURL, CAFile: `"$dir/ca.crt"`, TokenFile: `"$dir/join-token"`, DataDir: `"$dir/data"`,
	}, extra...)
	for i, a := range args {
		if !strings.HasPrefix(a, `"$`) { // the script's own variables stay expandable
			args[i] = shellQuote(a)
		}
	}
	var s bytes.Buffer
	fmt.Fprintf(&s, `#!/bin/sh
# maestro machine bootstrap for %s (pool %s). Holds a single-use join token.
set -eu
umask 077
root="${%s:-}"
server=%s
ca_sha256=%s
dir="$root%s"
bin="$root%s"
mkdir -p "$dir/data" "$(dirname "$bin")"
fetch() { curl -fsS --retry 30 --retry-delay 2 --retry-connrefused --connect-timeout 5 "$@"; }
fetch -k -o "$dir/ca.crt.new" "$server%s"
got=$(sha256sum "$dir/ca.crt.new" | cut -d' ' -f1)
if [ "$got" != "$ca_sha256" ]; then
	echo "maestro bootstrap: the CA served by $server has SHA-256 $got, want $ca_sha256: refusing it" >&2
	exit 1
fi
mv "$dir/ca.crt.new" "$dir/ca.crt"
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
fetch --cacert "$dir/ca.crt" -o "$bin.new" "$server%slinux/$arch"
chmod 0755 "$bin.new" && mv "$bin.new" "$bin"
printf '%%s' %s > "$dir/join-token"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	cat > /etc/systemd/system/maestro-agent.service <<UNIT
[Unit]
Description=maestro agent
After=network-online.target docker.service
Wants=network-online.target
[Service]
ExecStart=%s
Restart=always
RestartSec=2
[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	systemctl enable --now maestro-agent.service
	exit 0
fi
exec %s
`, req.Name, req.Pool, RootEnv, shellQuote(b.ServerURL), CAHash(b.CAPEM), UserDataDir, UserDataBinary,
		BootstrapCAPath, BootstrapAgentPath, shellQuote(b.JoinToken.Reveal()),
		strings.Join(args, " "), strings.Join(args, " "))
	return s.Bytes(), nil
}

// shellQuote quotes s for sh: single quotes, with each ' as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
