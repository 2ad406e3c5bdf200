//go:build linux

package testbed

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestSSHD logs in to a real sshd inside a host with the test key, pinning
// the host key StartSSHD returned, and runs a command there: it runs in the
// host's network namespace. Another key is refused.
func TestSSHD(t *testing.T) {
	tb := New(t, Options{StopGrace: time.Second})
	h := tb.AddHost(tb.AddSite("a"), "h1")
	key := NewSSHKey(t)
	sshd := h.StartSSHD(SSHDOptions{AuthorizedKeys: []string{key.Authorized}})
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(sshd.HostKey))
	if err != nil {
		t.Fatalf("host key %q: %v", sshd.HostKey, err)
	}
	dial := func(k SSHKey) (*ssh.Client, error) {
		signer, err := ssh.ParsePrivateKey(k.PrivatePEM)
		if err != nil {
			t.Fatal(err)
		}
		return ssh.Dial("tcp", sshd.Addr.String(), &ssh.ClientConfig{User: "root",
			Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: ssh.FixedHostKey(pinned),
			HostKeyAlgorithms: []string{pinned.Type()}, // the host has an ECDSA key too
			Timeout:           5 * time.Second})
	}
	c, err := dial(key)
	if err != nil {
		t.Fatalf("ssh root@%s with the authorized key: %v\n%s", sshd.Addr, err, sshd.Log())
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output("ip -4 -o addr show eth0")
	if err != nil || !strings.Contains(string(out), h.Addr.String()) {
		t.Errorf("ip addr over ssh = %q, %v; want the host's address %s (the session runs in the host)", out, err, h.Addr)
	}
	if _, err := dial(NewSSHKey(t)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("ssh with a key not authorized: err = %v, want unable to authenticate", err)
	}
	if _, err := net.DialTimeout("tcp", tb.UplinkAddr().String()+":22", 500*time.Millisecond); err == nil {
		t.Errorf("something listens on port 22 of the test process's uplink: sshd must listen only inside the host")
	}
}
