package controlplane_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/store/keyring"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestRotateEncryptionKey rotates the secret key on one of two servers
// sharing an etcd and a key file, while clients of both read every secret
// and write one: every read succeeds throughout, no write is lost, every
// secret in etcd is sealed with the new key afterwards, the old key is gone
// from the file (a server holding only it reads nothing), and a server
// restarted with the new key file reads everything.
func TestRotateEncryptionKey(t *testing.T) {
	t.Parallel()
	url := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "keys", "shared.key")
	dirA, dirB := t.TempDir(), t.TempDir()
	cfg := func(dir, key string) controlplane.Config {
		return controlplane.Config{DataDir: dir, EtcdEndpoints: []string{url}, EncryptionKeyFile: key,
			KeyFilePollInterval: 200 * time.Millisecond}
	}
	a := start(t, cfg(dirA, keyFile))
	defer a.Close()
	b := start(t, cfg(dirB, keyFile))
	ctx := t.Context()
	ca, cb := clientFor(t, a), clientFor(t, b)
	want := map[string]string{}
	for i := range 20 {
		name := fmt.Sprintf("s%02d", i)
		want[name] = fmt.Sprintf("value %d", i)
		if _, err := ca.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: name},
			StringData: map[string]string{"v": want[name]}}); err != nil {
			t.Fatal(err)
		}
	}
	oldKeys, err := keyring.Read(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	// Clients of both servers read every secret, and one writes, all along.
	load := startSecretLoad(t, want, map[string]*client.Client{"a": ca, "b": cb})
	rot, err := ca.RotateEncryptionKey(ctx)
	lastWritten := load.stop(t)
	if err != nil {
		t.Fatalf("rotating: %v", err)
	}
	if rot.Reencrypted < len(want) || rot.KeyID == "" || slices.Contains(oldKeys.IDs(), rot.KeyID) ||
		!slices.Equal(rot.RemovedKeyIDs, oldKeys.IDs()) {
		t.Fatalf("rotation %+v; old keys %v", rot, oldKeys.IDs())
	}
	if s, err := cb.Secrets("default").Get(ctx, "busy"); err != nil || string(s.Data["v"]) != lastWritten {
		t.Fatalf("busy = %q (%v), last write %q: a write was lost", s.Data["v"], err, lastWritten)
	}
	ring, err := keyring.Read(keyFile)
	if err != nil || !slices.Equal(ring.IDs(), []string{rot.KeyID}) {
		t.Fatalf("key file after the rotation holds %v (%v), want only %s", ring.IDs(), err, rot.KeyID)
	}
	checkSealedWith(t, a, rot.KeyID, len(want)+1)

	// A server restarted with the key file reads everything; one that has
	// only the old key reads nothing.
	b.Close()
	b = start(t, cfg(dirB, keyFile))
	defer b.Close()
	checkSecrets(t, clientFor(t, b), want)
	oldFile := filepath.Join(t.TempDir(), "old.key")
	if err := keyring.Write(oldFile, oldKeys); err != nil {
		t.Fatal(err)
	}
	stale := start(t, cfg(t.TempDir(), oldFile))
	defer stale.Close()
	if _, err := clientFor(t, stale).Secrets("default").Get(ctx, "s00"); err == nil {
		t.Fatal("a server with only the old key read a secret after the rotation")
	}
}

// secretLoad reads every secret through several clients and updates one
// ("busy") through the last of them, until stopped.
type secretLoad struct {
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	failures []string
	last     string // the last value written to busy
}

func startSecretLoad(t *testing.T, want map[string]string, clients map[string]*client.Client) *secretLoad {
	t.Helper()
	ctx := t.Context()
	l := &secretLoad{done: make(chan struct{}), last: "0"}
	var writer *client.Client
	for name, c := range clients {
		writer = c
		l.wg.Go(func() {
			for l.running() {
				list, _, err := c.Secrets("default").List(ctx, client.ListOptions{})
				if err != nil {
					l.fail("list through %s: %v", name, err)
					continue
				}
				for _, s := range list {
					if w, ok := want[s.Name]; ok && string(s.Data["v"]) != w {
						l.fail("%s through %s = %q, want %q", s.Name, name, s.Data["v"], w)
					}
				}
			}
		})
	}
	if _, err := writer.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "busy"},
		StringData: map[string]string{"v": "0"}}); err != nil {
		t.Fatal(err)
	}
	l.wg.Go(func() {
		for i := 1; l.running(); i++ {
			time.Sleep(20 * time.Millisecond)
			s, err := writer.Secrets("default").Get(ctx, "busy")
			if err != nil {
				l.fail("get busy: %v", err)
				continue
			}
			s.StringData, s.Data = map[string]string{"v": fmt.Sprint(i)}, nil
			if _, err := writer.Secrets("default").Update(ctx, s); err == nil {
				l.mu.Lock()
				l.last = fmt.Sprint(i)
				l.mu.Unlock()
			} else if !api.IsConflict(err) {
				l.fail("update busy: %v", err)
			}
		}
	})
	return l
}

func (l *secretLoad) running() bool {
	select {
	case <-l.done:
		return false
	default:
		return true
	}
}

func (l *secretLoad) fail(format string, args ...any) {
	l.mu.Lock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// stop ends the load, fails the test if any read or write failed, and
// returns the last value written to busy.
func (l *secretLoad) stop(t *testing.T) string {
	t.Helper()
	close(l.done)
	l.wg.Wait()
	if n := len(l.failures); n > 0 {
		t.Fatalf("during the rotation (%d failures): %v", n, l.failures[:min(5, n)])
	}
	return l.last
}

// checkSealedWith reads the secrets' raw values in etcd: n of them, each
// sealed with key id.
func checkSealedWith(t *testing.T, cp *controlplane.ControlPlane, id string, n int) {
	t.Helper()
	resp, err := cp.EtcdClient().Get(t.Context(), controlplane.DefaultEtcdPrefix+"/secrets/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != n {
		t.Fatalf("raw secrets: %v (%d, want %d)", err, len(resp.Kvs), n)
	}
	for _, kv := range resp.Kvs {
		if !bytes.HasPrefix(kv.Value, []byte(keyring.SealedPrefix+id+":")) {
			t.Errorf("%s is not sealed with key %s: %q", kv.Key, id, kv.Value[:min(40, len(kv.Value))])
		}
	}
}

// checkSecrets reads every secret of want through c.
func checkSecrets(t *testing.T, c *client.Client, want map[string]string) {
	t.Helper()
	for name, v := range want {
		s, err := c.Secrets("default").Get(t.Context(), name)
		if err != nil || string(s.Data["v"]) != v {
			t.Fatalf("%s = %q (%v), want %q", name, s.Data["v"], err, v)
		}
	}
}

// TestWarnsWhenKeyInsideDataDir: the default key file sits beside the data
// it protects, which the server says at start; a key file elsewhere is not
// warned about.
func TestWarnsWhenKeyInsideDataDir(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		keyFile func(dataDir string) string
		warn    bool
	}{
		"default":                {func(string) string { return "" }, true},
		"inside, named":          {func(d string) string { return filepath.Join(d, "keys", "k") }, true},
		"outside":                {func(string) string { return filepath.Join(t.TempDir(), "k") }, false},
		"sibling w/ same prefix": {func(d string) string { return d + "-keys/k" }, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf testenv.SyncBuffer
			dir := t.TempDir()
			cp, err := controlplane.Start(t.Context(), controlplane.Config{DataDir: dir, Listen: "127.0.0.1:0", ClientConfigPath: "-",
				UnsafeNoFsync: true, EncryptionKeyFile: tc.keyFile(dir), Log: slog.New(slog.NewTextHandler(&buf, nil))})
			if err != nil {
				t.Fatal(err)
			}
			cp.Close()
			if got := strings.Contains(buf.String(), "encryption key is inside the data directory"); got != tc.warn {
				t.Fatalf("warned: %v, want %v\n%s", got, tc.warn, buf.String())
			}
		})
	}
}
