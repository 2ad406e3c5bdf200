package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys decides which host keys the cloud accepts.
type hostKeys struct {
	any      []ssh.PublicKey     // authorized_keys lines: accepted from every host
	known    ssh.HostKeyCallback // known_hosts lines: accepted from the hosts they name
	insecure bool                // accept every key (Options.InsecureIgnoreHostKey)
	// algorithms are the host key algorithms of the pinned keys: the
	// handshake asks for those only, so a host with several host keys
	// presents a pinned one (nil: the library's default, when insecure).
	algorithms []string
}

// parseHostKeys reads Options.HostKeys: each line is either a public key in
// authorized_keys form ("ssh-ed25519 AAAA... comment"), pinned for every
// host, or a known_hosts line ("10.0.0.5 ssh-ed25519 AAAA...", hashed host
// names, patterns and markers as OpenSSH reads them), pinned for the hosts
// it names. Blank lines and # comments are skipped.
func parseHostKeys(lines []string, insecure bool) (hostKeys, error) {
	h := hostKeys{insecure: insecure}
	var known []string
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil && len(opts) == 0 {
			h.any = append(h.any, k)
			h.algorithms = appendAlgorithms(h.algorithms, k.Type())
			continue
		}
		marker, _, k, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil {
			return h, fmt.Errorf("ssh: Options.HostKeys[%d]: neither an authorized_keys line (ssh-ed25519 AAAA...) nor a known_hosts line (host ssh-ed25519 AAAA...): %v", i, err)
		}
		if marker == "" {
			h.algorithms = appendAlgorithms(h.algorithms, k.Type())
		}
		known = append(known, line)
	}
	if insecure {
		h.algorithms = nil
	}
	if len(h.any) == 0 && len(known) == 0 && !insecure {
		return h, errors.New("ssh: Options.HostKeys: required: pin the hosts' keys, or set InsecureIgnoreHostKey to accept any key")
	}
	if len(known) > 0 {
		cb, err := knownHostsCallback(known)
		if err != nil {
			return h, err
		}
		h.known = cb
	}
	return h, nil
}

// knownHostsCallback matches keys as OpenSSH's known_hosts does
// (knownhosts reads files only: the lines go through a temporary one).
func knownHostsCallback(lines []string) (ssh.HostKeyCallback, error) {
	f, err := os.CreateTemp("", "maestro-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("ssh: Options.HostKeys: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(strings.Join(lines, "\n") + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("ssh: Options.HostKeys: %w", err)
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, fmt.Errorf("ssh: Options.HostKeys: %w", err)
	}
	return cb, nil
}

// hostKeyError is a host key the cloud does not accept.
type hostKeyError struct {
	got    string // the presented key's type and SHA256 fingerprint
	reason string
}

func (e *hostKeyError) Error() string {
	return fmt.Sprintf("the host presented %s, %s", e.got, e.reason)
}

// check is the ssh.HostKeyCallback.
func (h hostKeys) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	if h.insecure {
		return nil
	}
	for _, k := range h.any {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return nil
		}
	}
	got := key.Type() + " " + ssh.FingerprintSHA256(key)
	if h.known != nil {
		err := h.known(hostname, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &re):
			return &hostKeyError{got: got, reason: "which is revoked"}
		case errors.As(err, &ke) && len(ke.Want) > 0:
			return &hostKeyError{got: got, reason: "not the key pinned for it"}
		case !errors.As(err, &ke):
			return &hostKeyError{got: got, reason: err.Error()}
		}
	}
	return &hostKeyError{got: got, reason: "which is not among the pinned host keys"}
}

// appendAlgorithms adds the host key algorithms that present a key of
// type keyType (an RSA key signs with SHA-2 or, in old servers, SHA-1).
func appendAlgorithms(algs []string, keyType string) []string {
	add := []string{keyType}
	if keyType == ssh.KeyAlgoRSA {
		add = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	for _, a := range add {
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs
}
