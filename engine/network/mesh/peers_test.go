package mesh

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestPeerChanges(t *testing.T) {
	ep := netip.MustParseAddrPort("10.9.0.3:51820")
	c := Peer{Node: "c", PublicKey: keyC, Endpoint: ep, AllowedIPs: []netip.Prefix{pfx("10.244.3.0/24")}}
	b := Peer{Node: "b", PublicKey: keyB, Endpoint: netip.MustParseAddrPort("10.9.0.2:51820"), AllowedIPs: []netip.Prefix{pfx("10.244.2.0/24")}}
	moved := c
	moved.Endpoint = netip.MustParseAddrPort("10.9.0.33:51820")
	cases := []struct {
		name string
		have map[string]Peer
		want []Peer
		// set and removed are the base64 keys changed.
		set, removed []string
	}{
		{name: "unchanged peers are left alone (their sessions live on)", have: map[string]Peer{keyC: c}, want: []Peer{c}},
		{name: "new peer", have: map[string]Peer{keyC: c}, want: []Peer{c, b}, set: []string{keyB}},
		{name: "endpoint changed", have: map[string]Peer{keyC: c}, want: []Peer{moved}, set: []string{keyC}},
		{name: "gone peer removed", have: map[string]Peer{keyC: c, keyB: b}, want: []Peer{b}, removed: []string{keyC}},
		{name: "all gone", have: map[string]Peer{keyC: c, keyB: b}, removed: []string{keyC, keyB}}, // sorted by base64 key,
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := peerChanges(tc.have, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			var set, removed []string
			for _, ch := range changes {
				if ch.Remove {
					removed = append(removed, ch.PublicKey.String())
					continue
				}
				if !ch.ReplaceAllowedIPs || ch.Endpoint == nil || len(ch.AllowedIPs) == 0 {
					t.Errorf("incomplete peer change %+v", ch)
				}
				set = append(set, ch.PublicKey.String())
			}
			if strings.Join(set, ",") != strings.Join(tc.set, ",") || strings.Join(removed, ",") != strings.Join(tc.removed, ",") {
				t.Errorf("set %v removed %v; want set %v removed %v", set, removed, tc.set, tc.removed)
			}
		})
	}
}

// What uapiPeers writes, wireguard-go's "get" answers in the same form:
// a round trip through parseUAPIPeers gives the peers back, and the
// device's own private key line is not taken for a peer.
func TestUAPIRoundTrip(t *testing.T) {
	want := []Peer{{PublicKey: keyC, Endpoint: netip.MustParseAddrPort("10.9.0.3:51820"), AllowedIPs: []netip.Prefix{pfx("10.244.3.0/24")}}}
	changes, err := peerChanges(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	removeKey, _ := wgtypes.ParseKey(keyB)
	text := uapiPeers(append(changes, wgtypes.PeerConfig{PublicKey: removeKey, Remove: true}))
	if !strings.Contains(text, "public_key="+hex.EncodeToString(removeKey[:])+"\nremove=true\n") {
		t.Errorf("removal not written:\n%s", text)
	}
	get := "private_key=" + strings.Repeat("ab", 32) + "\nlisten_port=51820\n" + strings.Split(text, "public_key="+hex.EncodeToString(removeKey[:]))[0]
	got, err := parseUAPIPeers(get)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[keyC].Endpoint != want[0].Endpoint || len(got[keyC].AllowedIPs) != 1 || got[keyC].AllowedIPs[0] != want[0].AllowedIPs[0] {
		t.Fatalf("round trip: %+v", got)
	}
}
