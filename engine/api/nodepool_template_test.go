package api

import "testing"

func TestTemplateHash(t *testing.T) {
	base := func() *NodePoolSpec {
		return &NodePoolSpec{Provider: ProviderSSH, MinSize: 1, MaxSize: 3, Size: Ptr[int32](2),
			Labels: map[string]string{"a": "1", "b": "2"}, SSH: &SSHPoolConfig{Hosts: []string{"h1", "h2"}, User: "root"}}
	}
	h := base().TemplateHash()
	for _, tc := range []struct {
		name    string
		edit    func(*NodePoolSpec)
		changes bool
	}{
		{"size", func(s *NodePoolSpec) { s.Size = Ptr[int32](3) }, false},
		{"hosts added", func(s *NodePoolSpec) { s.SSH.Hosts = append(s.SSH.Hosts, "h3") }, false},
		{"drain timeout", func(s *NodePoolSpec) { s.DrainTimeoutSeconds = Ptr[int64](5) }, false},
		{"labels", func(s *NodePoolSpec) { s.Labels["a"] = "x" }, true},
		{"taints", func(s *NodePoolSpec) { s.Taints = []Taint{{Key: "k", Effect: TaintNoSchedule}} }, true},
		{"machine type", func(s *NodePoolSpec) { s.MachineType = "large" }, true},
		{"zones", func(s *NodePoolSpec) { s.Zones = []string{"z1"} }, true},
		{"spot", func(s *NodePoolSpec) { s.Spot = true }, true},
		{"ssh user", func(s *NodePoolSpec) { s.SSH.User = "admin" }, true},
	} {
		s := base()
		tc.edit(s)
		if got := s.TemplateHash(); (got != h) != tc.changes {
			t.Errorf("%s: hash %s -> %s, want changed=%v", tc.name, h, got, tc.changes)
		}
	}
	if len(h) != 10 || base().TemplateHash() != h {
		t.Errorf("hash %q: want 10 stable hex digits", h)
	}
	// Machines carry the hash they were made from: a new value for the same
	// template would replace every machine of every pool on upgrade.
	if h != "70d58cc611" {
		t.Errorf("hash %s, want 70d58cc611, as the node pool controller computed it before the hash moved to api", h)
	}
}
