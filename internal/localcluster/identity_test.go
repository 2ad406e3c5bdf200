package localcluster

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/internal/testenv"
)

type fakeMachine struct {
	slots map[int]bool
	ports map[int]bool // busy
}

func (f fakeMachine) SlotTaken(slot int) bool { return f.slots[slot] }
func (f fakeMachine) PortFree(port int) bool  { return !f.ports[port] }

func TestPlan(t *testing.T) {
	free := func() (int, error) { return 40001, nil }
	home := ForSlot("b", int(hashName("b")%MaxSlot)+1)
	next := home.Slot%MaxSlot + 1
	allTaken := map[int]bool{}
	for s := 1; s <= MaxSlot; s++ {
		allTaken[s] = true
	}
	tests := []struct {
		name     string
		cluster  string
		machine  fakeMachine
		slot     int
		listen   string
		errorHas string
	}{
		{"the default cluster keeps the addresses it always had", DefaultName, fakeMachine{slots: map[int]bool{0: true}}, 0, "127.0.0.1:6443", ""},
		{"a named cluster takes the slot of its name", "b", fakeMachine{}, home.Slot, home.Listen, ""},
		{"or the next free one", "b", fakeMachine{slots: map[int]bool{home.Slot: true}}, next, ForSlot("b", next).Listen, ""},
		{"a busy API port: a free one", "b", fakeMachine{ports: map[int]bool{DefaultAPIPort + home.Slot: true}}, home.Slot, "127.0.0.1:40001", ""},
		{"every slot taken", "b", fakeMachine{slots: allTaken}, 0, "", "no free slot"},
		{"a bad name", "B_1", fakeMachine{}, 0, "", `--name "B_1"`},
		{"too long", strings.Repeat("a", 21), fakeMachine{}, 0, "", "--name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := Plan(tc.cluster, tc.machine, free)
			if tc.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) {
					t.Fatalf("Plan(%q) = %+v, %v; want an error saying %q", tc.cluster, id, err, tc.errorHas)
				}
				return
			}
			if err != nil || id.Slot != tc.slot || id.Listen != tc.listen || id.Name != tc.cluster {
				t.Fatalf("Plan(%q) = %+v, %v; want slot %d listening on %s", tc.cluster, id, err, tc.slot, tc.listen)
			}
		})
	}
}

// Every slot's host resources are its own: no two slots share a service
// range, pod range, node address range or API port, and none overlaps the
// ranges tests use (testenv.ServiceCIDR's services, 127.0.x.x node
// addresses) or the emulated hosts (10.213.0.0/16).
func TestSlotsDoNotOverlap(t *testing.T) {
	tests := netip.MustParsePrefix("10.95.0.0/16")
	if r := testenv.ServiceCIDR(); !tests.Contains(r.Addr()) {
		t.Fatalf("testenv.ServiceCIDR() = %s, outside %s", r, tests)
	}
	reserved := []netip.Prefix{tests, netip.MustParsePrefix("10.213.0.0/16")}
	seen := map[string]int{}
	var ranges []netip.Prefix
	for slot := 0; slot <= MaxSlot; slot++ {
		id := ForSlot("x", slot)
		for _, key := range []string{id.Listen, id.AddressPrefix} {
			if prev, ok := seen[key]; ok {
				t.Errorf("slots %d and %d share %s", prev, slot, key)
			}
			seen[key] = slot
		}
		if slot > 0 && strings.HasPrefix(id.AddressPrefix, "127.0.") {
			t.Errorf("slot %d: node addresses %sN are in 127.0.0.0/16, where tests put theirs", slot, id.AddressPrefix)
		}
		if dns := allocator.DNSAddress(id.ServiceCIDR); !id.ServiceCIDR.Contains(dns) {
			t.Errorf("slot %d: DNS address %s outside %s", slot, dns, id.ServiceCIDR)
		}
		for _, p := range []netip.Prefix{id.ServiceCIDR, id.PodCIDR} {
			for _, other := range append(ranges, reserved...) {
				if p.Overlaps(other) {
					t.Errorf("slot %d: %s overlaps %s", slot, p, other)
				}
			}
			ranges = append(ranges, p)
		}
	}
}

func TestResolveIdentityIsRecorded(t *testing.T) {
	home := t.TempDir()
	a, err := ResolveIdentity(home, DataDir(home, "a"), "a")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := ResolveIdentity(home, DataDir(home, "a"), "a"); err != nil || again != a {
		t.Fatalf("second resolve = %+v, %v; want the recorded %+v", again, err, a)
	}
	// A second cluster never takes a recorded slot, even one whose name
	// hashes there.
	for _, name := range []string{"b", "c", "d", "e", "f"} {
		id, err := ResolveIdentity(home, DataDir(home, name), name)
		if err != nil {
			t.Fatal(err)
		}
		if id.Slot == a.Slot || id.ServiceCIDR == a.ServiceCIDR {
			t.Fatalf("cluster %s took slot %d of cluster a", name, id.Slot)
		}
	}
	if _, err := ResolveIdentity(home, DataDir(home, "a"), "z"); err == nil || !strings.Contains(err.Error(), `belongs to the cluster "a"`) {
		t.Fatalf("another name on a's data directory: %v", err)
	}
	if _, err := LoadIdentity(filepath.Join(home, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadIdentity of nothing: %v", err)
	}
}
