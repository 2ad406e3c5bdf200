package network

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestIPAM(t *testing.T) {
	type step struct {
		op    string // alloc, release, retain, reopen, reopenCIDR
		owner string
		keep  []string
		cidr  string
		want  string // address, or "exhausted"
	}
	tests := []struct {
		name  string
		cidr  string
		steps []step
	}{
		{"first address after the gateway", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "alloc", owner: "b", want: "10.244.1.3"},
		}},
		{"same owner same address", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "alloc", owner: "a", want: "10.244.1.2"},
		}},
		{"a freed address is not reused at once", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "release", owner: "a"},
			{op: "alloc", owner: "b", want: "10.244.1.3"},
		}},
		{"exhausted, then freed and wrapped round", "10.0.0.0/29", []step{ // .2-.6 usable
			{op: "alloc", owner: "a", want: "10.0.0.2"},
			{op: "alloc", owner: "b", want: "10.0.0.3"},
			{op: "alloc", owner: "c", want: "10.0.0.4"},
			{op: "alloc", owner: "d", want: "10.0.0.5"},
			{op: "alloc", owner: "e", want: "10.0.0.6"},
			{op: "alloc", owner: "f", want: "exhausted"},
			{op: "release", owner: "b"},
			{op: "alloc", owner: "f", want: "10.0.0.3"},
		}},
		{"restart keeps the addresses of running pods", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "alloc", owner: "b", want: "10.244.1.3"},
			{op: "reopen"},
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "alloc", owner: "c", want: "10.244.1.4"},
		}},
		{"reconcile frees what is not live", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "alloc", owner: "b", want: "10.244.1.3"},
			{op: "alloc", owner: "c", want: "10.244.1.4"},
			{op: "reopen"},
			{op: "retain", keep: []string{"b"}},
			{op: "alloc", owner: "b", want: "10.244.1.3"},
			{op: "alloc", owner: "d", want: "10.244.1.5"},
			{op: "alloc", owner: "e", want: "10.244.1.6"},
		}},
		{"a new CIDR voids the old state", "10.244.1.0/24", []step{
			{op: "alloc", owner: "a", want: "10.244.1.2"},
			{op: "reopenCIDR", cidr: "10.244.7.0/24"},
			{op: "alloc", owner: "a", want: "10.244.7.2"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ipam.json")
			open := func(cidr string) *IPAM {
				m, err := OpenIPAM(path, netip.MustParsePrefix(cidr))
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			m := open(tc.cidr)
			for i, s := range tc.steps {
				switch s.op {
				case "alloc":
					ip, err := m.Allocate(s.owner)
					got := ip.String()
					if errors.Is(err, ErrExhausted) {
						got = "exhausted"
					} else if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if got != s.want {
						t.Fatalf("step %d: Allocate(%s) = %s, want %s", i, s.owner, got, s.want)
					}
				case "release":
					if err := m.Release(s.owner); err != nil {
						t.Fatal(err)
					}
					if _, ok := m.Lookup(s.owner); ok {
						t.Fatalf("step %d: %s still has an address after Release", i, s.owner)
					}
				case "retain":
					if err := m.Retain(func(o string) bool { return slices.Contains(s.keep, o) }); err != nil {
						t.Fatal(err)
					}
					if got := m.Owners(); !slices.Equal(got, s.keep) {
						t.Fatalf("step %d: owners after Retain = %v, want %v", i, got, s.keep)
					}
				case "reopen":
					m = open(tc.cidr)
				case "reopenCIDR":
					m = open(s.cidr)
				}
			}
		})
	}
}

func TestIPAMBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenIPAM(filepath.Join(dir, "a.json"), netip.MustParsePrefix("10.0.0.0/31")); err == nil {
		t.Error("a /31 was accepted; it has no room for a gateway and a pod")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenIPAM(bad, netip.MustParsePrefix("10.0.0.0/24")); err == nil {
		t.Error("a corrupt state file was accepted")
	}
	m, err := OpenIPAM(filepath.Join(dir, "ok.json"), netip.MustParsePrefix("10.0.0.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Allocate(""); err == nil {
		t.Error("an empty owner was given an address")
	}
	// A state that cannot be written leaves the state as it was.
	m.path = filepath.Join(dir, "missing", "\x00", "x.json")
	if _, err := m.Allocate("a"); err == nil {
		t.Fatal("Allocate succeeded without writing its state")
	}
	if _, ok := m.Lookup("a"); ok {
		t.Error("a failed Allocate left an allocation in memory")
	}
}

func TestNames(t *testing.T) {
	a, b := BridgeName("c1", "node-1"), BridgeName("c1", "node-2")
	if a == b || BridgeName("c2", "node-1") == a || len(a) > 15 || a != BridgeName("c1", "node-1") {
		t.Errorf("bridge names %q %q: want distinct, stable, at most 15 bytes", a, b)
	}
	if v := hostVethName("0123456789abcdef0123456789abcdef"); len(v) > 15 {
		t.Errorf("veth name %q longer than 15 bytes", v)
	}
}

// A state file whose owners are not addresses of the CIDR (edited by hand,
// or corrupt) is an error naming the file, not a crash of every agent
// start at the first lookup.
func TestIPAMCorruptOwners(t *testing.T) {
	cidr := netip.MustParsePrefix("10.0.0.0/24")
	for _, owners := range []string{
		`{"not-an-ip": "sb1"}`,
		`{"10.0.1.5": "sb1"}`,        // outside the CIDR
		`{"::ffff:10.0.0.5": "sb1"}`, // not canonical: lookups would miss it
		`{"10.0.0.5": ""}`,
	} {
		path := filepath.Join(t.TempDir(), "ipam.json")
		if err := os.WriteFile(path, []byte(`{"cidr": "10.0.0.0/24", "owners": `+owners+`}`), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := OpenIPAM(path, cidr)
		if err == nil {
			m.Lookup("sb1") // what crashed
			t.Errorf("owners %s accepted", owners)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("owners %s: error %q does not name the file", owners, err)
		}
	}
	path := filepath.Join(t.TempDir(), "ipam.json")
	if err := os.WriteFile(path, []byte(`{"cidr": "10.0.0.0/24", "owners": {"10.0.0.5": "sb1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if m, err := OpenIPAM(path, cidr); err != nil {
		t.Errorf("a good state file: %v", err)
	} else if ip, ok := m.Lookup("sb1"); !ok || ip.String() != "10.0.0.5" {
		t.Errorf("Lookup(sb1) = %v, %v; want 10.0.0.5", ip, ok)
	}
}
