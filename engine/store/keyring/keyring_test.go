package keyring

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	good := make([]byte, KeySize)
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := NewKeyring(Key{ID: "k1", Secret: make([]byte, n)}); err == nil {
			t.Errorf("NewKeyring accepted a %d-byte key", n)
		} else if !strings.Contains(err.Error(), "32") {
			t.Errorf("error for a %d-byte key does not say what is needed: %v", n, err)
		}
	}
	for name, keys := range map[string][]Key{
		"no keys":      nil,
		"empty id":     {{ID: "", Secret: good}},
		"id with ':'":  {{ID: "a:b", Secret: good}},
		"upper case":   {{ID: "K1", Secret: good}},
		"duplicate id": {{ID: "k1", Secret: good}, {ID: "k1", Secret: good}},
	} {
		if _, err := NewKeyring(keys...); err == nil {
			t.Errorf("NewKeyring accepted %s", name)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "store.key")
	ring, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.IDs()) != 1 || ring.Primary() == "" {
		t.Fatalf("new key file has keys %v", ring.IDs())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreate(path)
	if err != nil || again.Primary() != ring.Primary() {
		t.Fatalf("reloaded key file: %v (%v), want primary %s", again, err, ring.Primary())
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "keys", ".key-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	// Racing creators agree on one key.
	racePath := filepath.Join(dir, "race.key")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			k, err := LoadOrCreate(racePath)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.Primary()
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatal("racing LoadOrCreate calls returned different keys")
		}
	}

	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    string
	}{
		{name: "too short", content: make([]byte, 16), mode: 0o600, want: "16 bytes"},
		{name: "too long", content: make([]byte, 33), mode: 0o600, want: "33 bytes"},
		{name: "empty", content: nil, mode: 0o600, want: "0 bytes"},
		{name: "group readable", content: make([]byte, 32), mode: 0o640, want: "chmod 600"},
		{name: "world readable", content: make([]byte, 32), mode: 0o644, want: "chmod 600"},
		{name: "bad JSON", content: []byte(`{"keys": [`), mode: 0o600, want: "unexpected EOF"},
		{name: "unknown field", content: []byte(`{"keys": [], "primary": "x"}`), mode: 0o600, want: "primary"},
		{name: "no keys", content: []byte(`{"keys": []}`), mode: 0o600, want: "no keys"},
		{name: "short key", content: []byte(`{"keys": [{"id": "k1", "secret": "AAAA"}]}`), mode: 0o600, want: "3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.key")
			if err := os.WriteFile(p, tt.content, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("LoadOrCreate: %v, want an error naming %s and saying %q", err, p, tt.want)
			}
			// The bad file is left alone, not replaced by a new key.
			if b, _ := os.ReadFile(p); len(b) != len(tt.content) {
				t.Fatalf("bad key file rewritten to %d bytes", len(b))
			}
		})
	}
}
