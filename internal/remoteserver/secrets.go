package remoteserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/store/keyring"
)

// shareSecrets makes every HA host hold the same secretFiles: those of the
// first host holding them all (a control plane made before), else new
// ones made here. A host holding different ones belongs to another control
// plane, which is refused. Existing files are never replaced.
func (in *Installer) shareSecrets(ctx context.Context, hs []*hostConn) (map[string][]byte, error) {
	have := make([]map[string][]byte, len(hs))
	err := forEach(hs, func(h *hostConn) error {
		out, err := h.s.Run(ctx, "create", "reading the cluster keys", readFilesScript(h.l.root, secretFiles), nil)
		if err != nil {
			return err
		}
		if have[indexOf(hs, h)], err = parseFiles(out); err != nil {
			return fmt.Errorf("ssh %s: reading the cluster keys: %w", h.s, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	src, from := chooseSecrets(have)
	if src == nil {
		if src, err = newSecrets(); err != nil {
			return nil, err
		}
	}
	for i, h := range hs {
		for name, data := range have[i] {
			if !bytes.Equal(data, src[name]) {
				return nil, fmt.Errorf("ssh %s: %s differs from %s's: the hosts hold different control planes; destroy them first",
					h.s, h.l.join(name), hs[from].s)
			}
		}
	}
	files := make([]file, len(secretFiles))
	for i, name := range secretFiles {
		files[i] = file{name: name, data: src[name]}
	}
	err = forEach(hs, func(h *hostConn) error {
		_, err := h.s.Run(ctx, "create", "writing the cluster keys", writeFilesScript(h.l.root, files, false), filesInput(files))
		return err
	})
	return src, err
}

// chooseSecrets picks the first complete set of secretFiles, or nil.
func chooseSecrets(have []map[string][]byte) (map[string][]byte, int) {
	for i, m := range have {
		if len(m) == len(secretFiles) {
			return m, i
		}
	}
	return nil, 0
}

// newSecrets makes an encryption key, the cluster and node CAs and an etcd
// CA, in a private temporary directory removed afterwards.
func newSecrets() (map[string][]byte, error) {
	dir, err := os.MkdirTemp("", "maestro-cp-keys-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	now := time.Now()
	if _, err := keyring.LoadOrCreate(filepath.Join(dir, "encryption.key")); err != nil {
		return nil, err
	}
	if _, err := pki.Ensure(filepath.Join(dir, "data", "pki"), nil, now); err != nil {
		return nil, err
	}
	if _, err := pki.EnsureEtcd(filepath.Join(dir, "etcd-pki"), now); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, name := range secretFiles {
		if out[name], err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// memberCerts issues, from the etcd CA in secrets, the certificates of the
// etcd member at addr (serving and peer, for addr and loopback) and of its
// API server's etcd client.
func memberCerts(secrets map[string][]byte, addr string) ([]file, error) {
	dir, err := os.MkdirTemp("", "maestro-etcd-member-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"etcd-pki/etcd-ca.crt", "etcd-pki/etcd-ca.key"} {
		if err := os.WriteFile(filepath.Join(dir, path.Base(name)), secrets[name], 0o600); err != nil {
			return nil, err
		}
	}
	if _, err := pki.EnsureEtcdMember(dir, []string{addr}, time.Now()); err != nil {
		return nil, err
	}
	files := make([]file, len(memberFiles))
	for i, name := range memberFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		files[i] = file{name: "etcd-pki/" + name, data: data}
	}
	return files, nil
}
