package cli

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestNodePoolColumns(t *testing.T) {
	cond := func(s api.ConditionStatus, reason, msg string) []api.Condition {
		return []api.Condition{{Type: api.NodePoolReady, Status: s, Reason: reason, Message: msg}}
	}
	pool := func(size int32, st api.NodePoolStatus) *api.NodePool {
		return &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "edge"},
			Spec: api.NodePoolSpec{Provider: api.ProviderSSH, MinSize: 1, MaxSize: 5, Size: api.Ptr(size), Zones: []string{"a", "b"}}, Status: st}
	}
	tests := []struct {
		name      string
		pool      *api.NodePool
		row, wide []string // the row up to AGE, and the wide columns
	}{
		{"ready", pool(3, api.NodePoolStatus{Machines: 3, ReadyMachines: 3, UpdatedMachines: 3, Conditions: cond(api.ConditionTrue, "", "")}),
			[]string{"edge", "ssh", "3", "3", "3", "1", "5", "Ready"}, []string{"3", "<none>", "a,b", "<none>"}},
		{"rolling out", pool(3, api.NodePoolStatus{Machines: 4, ReadyMachines: 3, UpdatedMachines: 1,
			Conditions: cond(api.ConditionFalse, api.ReasonRollingOut, "replacing machine edge-x")}),
			[]string{"edge", "ssh", "3", "3", "1", "1", "5", "RollingOut"}, []string{"4", "<none>", "a,b", "replacing machine edge-x"}},
		{"failed machine, multi-line message", pool(2, api.NodePoolStatus{Machines: 2, ReadyMachines: 1,
			Conditions: cond(api.ConditionFalse, api.ReasonMachineFailed, "ssh root@10.0.0.5:22: authentication failed\nagent log...")}),
			[]string{"edge", "ssh", "2", "1", "0", "1", "5", "MachineFailed"},
			[]string{"2", "<none>", "a,b", "ssh root@10.0.0.5:22: authentication failed ..."}},
		{"not ready without a reason", pool(2, api.NodePoolStatus{Conditions: cond(api.ConditionFalse, "", "")}),
			[]string{"edge", "ssh", "2", "0", "0", "1", "5", "NotReady"}, []string{"0", "<none>", "a,b", "<none>"}},
		{"never reported", pool(0, api.NodePoolStatus{}),
			[]string{"edge", "ssh", "0", "0", "0", "1", "5", "Unknown"}, []string{"0", "<none>", "a,b", "<none>"}},
	}
	cols := columnsOf(api.MustKind("np")).withWide(api.MustKind("np"))
	if want := []string{"NAME", "PROVIDER", "SIZE", "READY", "UP-TO-DATE", "MIN", "MAX", "CONDITION", "AGE",
		"MACHINES", "MACHINE-TYPE", "ZONES", "MESSAGE"}; !slices.Equal(cols.headers, want) {
		t.Fatalf("headers %q, want %q", cols.headers, want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := cols.row(tc.pool)
			if !slices.Equal(row[:8], tc.row) || !slices.Equal(row[9:], tc.wide) {
				t.Errorf("row %q, want %q + AGE + %q", row, tc.row, tc.wide)
			}
		})
	}
}

func TestMachineColumns(t *testing.T) {
	machine := func(spec api.MachineSpec, st api.MachineStatus) *api.Machine {
		return &api.Machine{ObjectMeta: api.ObjectMeta{Name: "edge-1", Labels: map[string]string{api.LabelTemplateHash: "5d8f"}}, Spec: spec, Status: st}
	}
	addrs := []api.NodeAddress{{Type: api.NodeHostName, Address: "host-1"}, {Type: api.NodeInternalIP, Address: "10.0.0.9"}}
	tests := []struct {
		name      string
		machine   *api.Machine
		row, wide []string
	}{
		{"ssh machine shows its host", machine(api.MachineSpec{Pool: "edge", Provider: "ssh", Host: "10.0.0.5", Zone: "rack-1"},
			api.MachineStatus{Phase: api.MachineRunning, NodeName: "edge-1", Addresses: addrs, ProviderID: "ssh://10.0.0.5"}),
			[]string{"edge-1", "edge", "ssh", "Running", "edge-1", "10.0.0.5", "rack-1"}, []string{"<none>", "ssh://10.0.0.5", "5d8f", "<none>"}},
		{"cloud machine shows its internal address", machine(api.MachineSpec{Pool: "edge", Provider: "local", MachineType: "small"},
			api.MachineStatus{Phase: api.MachineProvisioning, Addresses: addrs}),
			[]string{"edge-1", "edge", "local", "Provisioning", "<none>", "10.0.0.9", "<none>"}, []string{"small", "<none>", "5d8f", "<none>"}},
		{"failing condition is the message", machine(api.MachineSpec{Pool: "edge", Provider: "ssh", Host: "10.0.0.6"},
			api.MachineStatus{Phase: api.MachineFailed, Conditions: []api.Condition{
				{Type: api.MachineProvisioned, Status: api.ConditionFalse, Reason: api.ReasonCloudError, Message: "ssh root@10.0.0.6:22: unreachable"}}}),
			[]string{"edge-1", "edge", "ssh", "Failed", "<none>", "10.0.0.6", "<none>"},
			[]string{"<none>", "<none>", "5d8f", "CloudError: ssh root@10.0.0.6:22: unreachable"}},
		{"pending", machine(api.MachineSpec{Pool: "edge", Provider: "local"}, api.MachineStatus{}),
			[]string{"edge-1", "edge", "local", "<none>", "<none>", "<none>", "<none>"}, []string{"<none>", "<none>", "5d8f", "<none>"}},
	}
	cols := columnsOf(api.MustKind("ma")).withWide(api.MustKind("ma"))
	if want := []string{"NAME", "POOL", "PROVIDER", "PHASE", "NODE", "ADDRESS", "ZONE", "AGE",
		"MACHINE-TYPE", "PROVIDER-ID", "TEMPLATE", "MESSAGE"}; !slices.Equal(cols.headers, want) {
		t.Fatalf("headers %q, want %q", cols.headers, want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := cols.row(tc.machine)
			if !slices.Equal(row[:7], tc.row) || !slices.Equal(row[8:], tc.wide) {
				t.Errorf("row %q, want %q + AGE + %q", row, tc.row, tc.wide)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	for in, want := range map[string]string{
		"":              "",
		"  short  ":     "short",
		"first\nsecond": "first ...",
		long:            long,
		long + "\nmore": long + " ...",
		"héllo wörld\n": "héllo wörld",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// Against a real API server: the pool and machine tables a user reads
// while a pool scales, in plain and wide form.
func TestGetNodePoolsAndMachines(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	c := env.Client
	pool, err := c.NodePools().Create(ctx, &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "edge"},
		Spec: api.NodePoolSpec{Provider: api.ProviderSSH, MinSize: 1, MaxSize: 4, Size: api.Ptr[int32](3), MachineType: "small",
			SSH: &api.SSHPoolConfig{Hosts: []string{"10.0.0.5", "10.0.0.6", "10.0.0.7"}, InsecureIgnoreHostKey: true, PrivateKeySecretRef: "edge-key"}}})
	if err != nil {
		t.Fatal(err)
	}
	pool.Status = api.NodePoolStatus{Machines: 3, ReadyMachines: 2, UpdatedMachines: 3, Conditions: []api.Condition{{
		Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonScalingUp, Message: "2 of 3 machines ready"}}}
	if _, err := c.NodePools().UpdateStatus(ctx, pool); err != nil {
		t.Fatal(err)
	}
	m, err := c.Machines().Create(ctx, &api.Machine{ObjectMeta: api.ObjectMeta{Name: "edge-abc12", Labels: map[string]string{api.LabelTemplateHash: "7f9"}},
		Spec: api.MachineSpec{Pool: "edge", Provider: api.ProviderSSH, Host: "10.0.0.7", MachineType: "small", Zone: "rack-2"}})
	if err != nil {
		t.Fatal(err)
	}
	m.Status = api.MachineStatus{Phase: api.MachineProvisioning, Conditions: []api.Condition{{Type: api.MachineNodeReady, Status: api.ConditionFalse,
		Reason: api.ReasonNodeNotJoined, Message: "node has not joined after 10m0s\nagent: connection refused"}}}
	if _, err := c.Machines().UpdateStatus(ctx, m); err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, cfg, "get", "np")
	if err != nil || !regexp.MustCompile(`(?m)^NAME\s+PROVIDER\s+SIZE\s+READY\s+UP-TO-DATE\s+MIN\s+MAX\s+CONDITION\s+AGE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^edge\s+ssh\s+3\s+2\s+3\s+1\s+4\s+ScalingUp\s+\d+s$`).MatchString(out) {
		t.Errorf("get np: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "get", "nodepools", "edge", "-o", "wide")
	if err != nil || !regexp.MustCompile(`(?m)^edge\s+ssh\s+3\s+2\s+3\s+1\s+4\s+ScalingUp\s+\d+s\s+3\s+small\s+<none>\s+2 of 3 machines ready$`).MatchString(out) {
		t.Errorf("get nodepools edge -o wide: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "get", "ma")
	if err != nil || !regexp.MustCompile(`(?m)^edge-abc12\s+edge\s+ssh\s+Provisioning\s+<none>\s+10\.0\.0\.7\s+rack-2\s+\d+s$`).MatchString(out) {
		t.Errorf("get ma: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "get", "machines", "-o", "wide")
	if err != nil || !strings.Contains(out, "MESSAGE") ||
		!regexp.MustCompile(`(?m)^edge-abc12\s.*\s7f9\s+NodeNotJoined: node has not joined after 10m0s \.\.\.$`).MatchString(out) {
		t.Errorf("get machines -o wide: %v\n%s", err, out)
	}
	if _, _, err := run(t, cfg, "get", "ma", "-o", "xml"); err == nil || !strings.Contains(err.Error(), "wide") {
		t.Errorf("-o xml: %v; want the formats named", err)
	}
}
