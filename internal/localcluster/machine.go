package localcluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
)

// IdentityFile records a cluster's identity in its data directory.
const IdentityFile = "cluster.json"

// DataDir is where cluster name keeps its state under the maestro home
// (~/.maestro): up for the default cluster (where it always was),
// up-<name> for the others.
func DataDir(home, name string) string {
	if name == DefaultName {
		return filepath.Join(home, "up")
	}
	return filepath.Join(home, "up-"+name)
}

// ClientConfigPath is where `maestro up` writes the admin client config of
// a named cluster by default: config-<name> beside the default cluster's
// config, so starting one never overwrites another's.
func ClientConfigPath(home, name string) string {
	return filepath.Join(home, "config-"+name)
}

// LoadIdentity reads the identity recorded in dataDir (an error wrapping
// os.ErrNotExist when none is).
func LoadIdentity(dataDir string) (Identity, error) {
	var id Identity
	b, err := os.ReadFile(filepath.Join(dataDir, IdentityFile))
	if err != nil {
		return id, err
	}
	if err := json.Unmarshal(b, &id); err != nil {
		return id, fmt.Errorf("%s: %w", filepath.Join(dataDir, IdentityFile), err)
	}
	return id, nil
}

// SaveIdentity records id in dataDir (written to a temporary file, then
// renamed, so a crash never leaves half a record).
func SaveIdentity(dataDir string, id Identity) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dataDir, err)
	}
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dataDir, IdentityFile)
	if err := os.WriteFile(path+".tmp", append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("recording the cluster identity: %w", err)
	}
	return os.Rename(path+".tmp", path)
}

// ResolveIdentity is the identity of cluster name with state in dataDir:
// the recorded one, or on the first start one planned against what the
// other clusters under home hold and what runs on this host, recorded
// before it is used.
func ResolveIdentity(home, dataDir, name string) (Identity, error) {
	if err := ValidateName(name); err != nil {
		return Identity{}, err
	}
	id, err := LoadIdentity(dataDir)
	if err == nil {
		if id.Name != name {
			return Identity{}, fmt.Errorf("--name %q: the data directory %s belongs to the cluster %q", name, dataDir, id.Name)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return Identity{}, err
	}
	id, err = Plan(name, hostOccupied{home: home, self: dataDir}, freePort)
	if err != nil {
		return Identity{}, err
	}
	return id, SaveIdentity(dataDir, id)
}

// hostOccupied looks at the clusters recorded under the maestro home and
// at this host's addresses and ports.
type hostOccupied struct{ home, self string }

func (h hostOccupied) SlotTaken(slot int) bool {
	dirs, _ := filepath.Glob(filepath.Join(h.home, "up-*"))
	for _, dir := range append(dirs, filepath.Join(h.home, "up")) {
		if filepath.Clean(dir) == filepath.Clean(h.self) {
			continue
		}
		if id, err := LoadIdentity(dir); err == nil && id.Slot == slot {
			return true
		}
	}
	// A running cluster's proxy holds its DNS address on lo (a cluster
	// whose data directory lives elsewhere, like make demo's).
	return hostHasAddress(allocator.DNSAddress(ForSlot("", slot).ServiceCIDR))
}

func (hostOccupied) PortFree(port int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

func hostHasAddress(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == ip {
			return true
		}
	}
	return false
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
