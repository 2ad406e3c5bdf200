package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// record is a machine's machine.json. It holds no secret.
type record struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Cluster      string            `json:"cluster"`
	Pool         string            `json:"pool"`
	Zone         string            `json:"zone,omitempty"`
	MachineType  string            `json:"machineType,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	KeyHash      string            `json:"keyHash"`
	CreatedAt    time.Time         `json:"createdAt"`
	PID          int               `json:"pid,omitempty"`
	ProcessStart uint64            `json:"processStart,omitempty"` // /proc/<pid>/stat starttime
	Deleting     bool              `json:"deleting,omitempty"`
	// Address is the machine's own address (Options.Network), or empty
	// when it shares this host's network.
	Address string `json:"address,omitempty"`
}

func (c *Cloud) machineDir(id string) string { return filepath.Join(c.opts.Root, "machines", id) }
func (c *Cloud) keyPath(hash string) string  { return filepath.Join(c.opts.Root, "keys", hash) }

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// load reads a machine's record; a missing one is cloud.ErrNotFound.
func (c *Cloud) load(op, id string) (record, error) {
	var r record
	if !validID(id) {
		return r, cloud.Errorf(cloud.ErrNotFound, provider, op, "machine %q", id)
	}
	b, err := os.ReadFile(filepath.Join(c.machineDir(id), "machine.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return r, cloud.Errorf(cloud.ErrNotFound, provider, op, "machine %q", id)
	}
	if err != nil {
		return r, cloud.Wrap(cloud.ErrTransient, provider, op, err, fmt.Sprintf("reading machine %q", id))
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("local: machine %q: corrupt record: %w", id, err)
	}
	return r, nil
}

// save writes r atomically (temp file and rename), so a reader never sees
// half a record.
func (c *Cloud) save(r record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	dir := c.machineDir(r.ID)
	tmp, err := os.CreateTemp(dir, ".machine-*.json")
	if err != nil {
		return fmt.Errorf("saving machine %q: %w", r.ID, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("saving machine %q: %w", r.ID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving machine %q: %w", r.ID, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "machine.json")); err != nil {
		return fmt.Errorf("saving machine %q: %w", r.ID, err)
	}
	return nil
}

// claimKey records key hash -> id unless the key is taken; it returns the ID
// the key belongs to. link(2) makes the claim atomic across processes.
func (c *Cloud) claimKey(hash, id string) (owner string, err error) {
	owner, err = c.claimFile(c.keyPath(hash), id)
	if err != nil {
		return "", fmt.Errorf("claiming idempotency key: %w", err)
	}
	return owner, nil
}

// claimFile creates path holding id unless it exists; it returns the ID the
// file holds. link(2) makes the claim atomic across processes.
func (c *Cloud) claimFile(path, id string) (owner string, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".claim-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(id)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return "", errors.Join(werr, cerr)
	}
	err = os.Link(tmp.Name(), path)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (r record) machine(state cloud.State) cloud.Machine {
	return cloud.Machine{
		ID: r.ID, Name: r.Name, Cluster: r.Cluster, Pool: r.Pool, Zone: r.Zone,
		MachineType: r.MachineType, State: state, Addresses: []string{r.address()},
		CreatedAt: r.CreatedAt,
	}
}

func (r record) address() string {
	if r.Address != "" {
		return r.Address
	}
	return "127.0.0.1"
}

func validID(id string) bool {
	if id == "" || len(id) > 300 {
		return false
	}
	for _, ch := range id {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			return false
		}
	}
	return id[0] != '.'
}
