package network

import "testing"

func TestHasNetAdmin(t *testing.T) {
	tests := []struct {
		name, status string
		want, err    bool
	}{
		{"root", "Name:\tx\nCapEff:\t000001ffffffffff\n", true, false},
		{"unprivileged", "CapInh:\t0000000000000000\nCapEff:\t0000000000000000\n", false, false},
		{"only CAP_NET_ADMIN", "CapEff:\t0000000000001000\n", true, false},
		{"CAP_NET_RAW only", "CapEff:\t0000000000002000\n", false, false},
		{"no line", "Name:\tx\n", false, true},
		{"garbage", "CapEff:\tzz\n", false, true},
	}
	for _, tc := range tests {
		got, err := hasNetAdmin(tc.status)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: hasNetAdmin = %v, %v; want %v, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}
