package nodepool

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ms builds a machine: name, zone, hash, then flags: "R" Running and
// Ready, "r" Running not Ready, "D" deleting, "F" failed, "M" marked by the
// cluster autoscaler; pods count and
// an age order follow the name (later names are newer).
func ms(name, zone, hash, flags string, pods int) MachineState {
	m := MachineState{Name: name, Zone: zone, Hash: hash, Pods: pods, Created: t0.Add(time.Duration(len(name)+int(name[len(name)-1])) * time.Second)}
	m.Running = strings.ContainsAny(flags, "Rr")
	m.Ready = strings.Contains(flags, "R")
	m.Deleting = strings.Contains(flags, "D")
	m.Failed = strings.Contains(flags, "F")
	m.Marked = strings.Contains(flags, "M")
	return m
}

func TestCompute(t *testing.T) {
	cases := []struct {
		name       string
		in         Input
		wantCreate []NewMachine
		wantDelete []string
		missing    int
	}{
		{name: "empty pool of 2: create 2",
			in:         Input{Size: 2, Hash: "h1"},
			wantCreate: []NewMachine{{}, {}}},
		{name: "at size: nothing",
			in: Input{Size: 2, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h1", "", 0)}}},
		{name: "deleting machines are not counted toward size",
			in:         Input{Size: 2, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h1", "RD", 0)}},
			wantCreate: []NewMachine{{}}},
		{name: "scale up spreads over zones, fewest first",
			in:         Input{Size: 5, Hash: "h1", Zones: []string{"z1", "z2", "z3"}, Machines: []MachineState{ms("a", "z1", "h1", "R", 0), ms("b", "z1", "h1", "R", 0)}},
			wantCreate: []NewMachine{{Zone: "z2"}, {Zone: "z3"}, {Zone: "z2"}}},
		{name: "scale down removes not-Running first, then fewest pods",
			in: Input{Size: 2, Hash: "h1", Machines: []MachineState{
				ms("a", "", "h1", "R", 5), ms("b", "", "h1", "R", 1), ms("c", "", "h1", "R", 3), ms("d", "", "h1", "", 0)}},
			wantDelete: []string{"d", "b"}},
		{name: "scale down removes the machine the cluster autoscaler marked first, even with more pods",
			in: Input{Size: 2, Hash: "h1", Machines: []MachineState{
				ms("a", "", "h1", "R", 0), ms("b", "", "h1", "RM", 4), ms("c", "", "h1", "R", 1)}},
			wantDelete: []string{"b"}},
		{name: "scale down 3 -> 1 keeps the busiest",
			in: Input{Size: 1, Hash: "h1", Machines: []MachineState{
				ms("a", "", "h1", "R", 2), ms("b", "", "h1", "R", 0), ms("c", "", "h1", "R", 4)}},
			wantDelete: []string{"b", "a"}},
		{name: "scale down keeps zones even on equal pods",
			in: Input{Size: 2, Hash: "h1", Zones: []string{"z1", "z2"}, Machines: []MachineState{
				ms("a", "z1", "h1", "R", 1), ms("b", "z2", "h1", "R", 1), ms("c", "z1", "h1", "R", 1)}},
			wantDelete: []string{"c"}},
		{name: "scale down: not Ready before Ready, even with more pods",
			in: Input{Size: 1, Hash: "h1", Machines: []MachineState{
				ms("a", "", "h1", "R", 0), ms("b", "", "h1", "r", 9)}},
			wantDelete: []string{"b"}},
		{name: "rollout surge 1: first a new machine",
			in: Input{Size: 2, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "R", 1), ms("b", "", "h1", "R", 2)}},
			wantCreate: []NewMachine{{}}},
		{name: "rollout surge 1: new one not Ready yet, nothing",
			in: Input{Size: 2, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "R", 1), ms("b", "", "h1", "R", 2), ms("n1", "", "h2", "r", 0)}}},
		{name: "rollout surge 1: new one Ready, delete the old one with fewest pods",
			in: Input{Size: 2, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "R", 1), ms("b", "", "h1", "R", 2), ms("n1", "", "h2", "R", 0)}},
			wantDelete: []string{"a"}},
		{name: "rollout surge 1: old one still draining holds the surge",
			in: Input{Size: 2, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "RD", 1), ms("b", "", "h1", "R", 2), ms("n1", "", "h2", "R", 0)}}},
		{name: "rollout surge 1: old one gone, next new one",
			in: Input{Size: 2, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("b", "", "h1", "R", 2), ms("n1", "", "h2", "R", 0)}},
			wantCreate: []NewMachine{{}}},
		{name: "rollout maxUnavailable 1, no surge: delete first",
			in: Input{Size: 2, Hash: "h2", MaxUnavailable: 1, Machines: []MachineState{
				ms("a", "", "h1", "R", 1), ms("b", "", "h1", "R", 2)}},
			wantDelete: []string{"a"}},
		{name: "rollout: old machines that are not Ready go at once",
			in: Input{Size: 3, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "r", 0), ms("b", "", "h1", "", 0), ms("c", "", "h1", "R", 0)}},
			wantCreate: []NewMachine{{}},
			wantDelete: []string{"a", "b"}},
		{name: "rollout with a scale-down: old ones go first",
			in: Input{Size: 1, Hash: "h2", MaxSurge: 1, Machines: []MachineState{
				ms("a", "", "h1", "R", 0), ms("b", "", "h1", "R", 0), ms("n", "", "h2", "R", 0)}},
			wantDelete: []string{"b", "a"}}, // newest first on a tie
		{name: "ssh: hosts not held by any machine, deleting ones included",
			in: Input{Size: 3, Hash: "h1", SSH: true, Hosts: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}, Machines: []MachineState{
				{Name: "a", Hash: "h1", Host: "10.0.0.1", Ready: true, Running: true}, {Name: "b", Hash: "h1", Host: "10.0.0.2", Deleting: true}}},
			wantCreate: []NewMachine{{Host: "10.0.0.3"}, {Host: "10.0.0.4"}}},
		{name: "ssh: more machines than hosts",
			in:         Input{Size: 3, Hash: "h1", SSH: true, Hosts: []string{"10.0.0.1", "10.0.0.2"}},
			wantCreate: []NewMachine{{Host: "10.0.0.1"}, {Host: "10.0.0.2"}},
			missing:    1},
		{name: "ssh: a host listed twice is one host",
			in:         Input{Size: 2, Hash: "h1", SSH: true, Hosts: []string{"10.0.0.1", "10.0.0.1"}},
			wantCreate: []NewMachine{{Host: "10.0.0.1"}},
			missing:    1},
		{name: "ssh rollout: no free host for the surge machine",
			in: Input{Size: 2, Hash: "h2", SSH: true, MaxSurge: 1, Hosts: []string{"10.0.0.1", "10.0.0.2"}, Machines: []MachineState{
				{Name: "a", Hash: "h1", Host: "10.0.0.1", Ready: true, Running: true}, {Name: "b", Hash: "h1", Host: "10.0.0.2", Ready: true, Running: true}}},
			missing: 1},
		{name: "ssh: a failed machine on a host no longer listed goes at once, its replacement on the new host",
			in: Input{Size: 2, Hash: "h1", SSH: true, MaxSurge: 1, Hosts: []string{"10.0.0.1", "10.0.0.3"}, Machines: []MachineState{
				{Name: "a", Hash: "h1", Host: "10.0.0.1", Ready: true, Running: true}, {Name: "g", Hash: "h1", Host: "10.0.0.2", Failed: true}}},
			wantCreate: []NewMachine{{Host: "10.0.0.3"}}, wantDelete: []string{"g"}},
		{name: "ssh: a Ready machine on a host no longer listed stays until its replacement is Ready",
			in: Input{Size: 2, Hash: "h1", SSH: true, MaxSurge: 1, Hosts: []string{"10.0.0.1", "10.0.0.3"}, Machines: []MachineState{
				{Name: "a", Hash: "h1", Host: "10.0.0.1", Ready: true, Running: true}, {Name: "b", Hash: "h1", Host: "10.0.0.2", Ready: true, Running: true}}},
			wantCreate: []NewMachine{{Host: "10.0.0.3"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Compute(tc.in)
			if !slices.Equal(p.Create, tc.wantCreate) {
				t.Errorf("Create = %+v, want %+v", p.Create, tc.wantCreate)
			}
			if !slices.Equal(p.Delete, tc.wantDelete) {
				t.Errorf("Delete = %v, want %v", p.Delete, tc.wantDelete)
			}
			if p.MissingHosts != tc.missing {
				t.Errorf("MissingHosts = %d, want %d", p.MissingHosts, tc.missing)
			}
		})
	}
}

// TestComputeRolloutOneAtATime simulates a whole rollout with surge 1: there are
// never more than size+1 machines, never fewer than size Ready, and every
// old machine is replaced.
func TestComputeRolloutOneAtATime(t *testing.T) {
	in := Input{Size: 3, Hash: "h2", MaxSurge: 1}
	for _, n := range []string{"o1", "o2", "o3"} {
		in.Machines = append(in.Machines, ms(n, "", "h1", "R", 1))
	}
	seq := 0
	for step := 0; step < 30; step++ {
		p := Compute(in)
		if len(p.Create) == 0 && len(p.Delete) == 0 && !hasDeleting(in.Machines) && !hasUnready(in.Machines) {
			break
		}
		// Deleting machines finish; unready ones become Ready; then the plan acts.
		in.Machines = slices.DeleteFunc(in.Machines, func(m MachineState) bool { return m.Deleting })
		for i := range in.Machines {
			in.Machines[i].Running, in.Machines[i].Ready = true, true
		}
		for _, name := range p.Delete {
			i := slices.IndexFunc(in.Machines, func(m MachineState) bool { return m.Name == name })
			in.Machines[i].Deleting = true
		}
		for range p.Create {
			seq++
			in.Machines = append(in.Machines, MachineState{Name: "n" + string(rune('0'+seq)), Hash: "h2"})
		}
		total, ready := 0, 0
		for _, m := range in.Machines {
			total++
			if m.Ready && !m.Deleting {
				ready++
			}
		}
		if total > in.Size+in.MaxSurge {
			t.Fatalf("step %d: %d machines, more than size+surge %d", step, total, in.Size+in.MaxSurge)
		}
		if ready < in.Size {
			t.Fatalf("step %d: %d Ready machines, fewer than size %d", step, ready, in.Size)
		}
		if len(p.Delete) > 1 || len(p.Create) > 1 {
			t.Fatalf("step %d: %d deletes and %d creates at once, want one at a time", step, len(p.Delete), len(p.Create))
		}
	}
	for _, m := range in.Machines {
		if m.Hash != "h2" {
			t.Fatalf("rollout left old machine %s: %+v", m.Name, in.Machines)
		}
	}
	if len(in.Machines) != 3 || seq != 3 {
		t.Fatalf("after the rollout: %d machines, %d created; want 3 and 3", len(in.Machines), seq)
	}
}

func hasDeleting(ms []MachineState) bool {
	return slices.ContainsFunc(ms, func(m MachineState) bool { return m.Deleting })
}
func hasUnready(ms []MachineState) bool {
	return slices.ContainsFunc(ms, func(m MachineState) bool { return !m.Ready })
}

func TestComputeStatus(t *testing.T) {
	cases := []struct {
		name        string
		in          Input
		wantReason  string
		wantMessage string
		counts      [3]int // machines, ready, updated
	}{
		{"ready", Input{Size: 2, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h1", "R", 0)}},
			api.ReasonPoolReady, "2 machines Ready", [3]int{2, 2, 2}},
		{"scaling up", Input{Size: 2, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h1", "", 0)}},
			api.ReasonScalingUp, "1 of 2 machines Ready", [3]int{2, 1, 2}},
		{"scaling down: a machine still draining", Input{Size: 1, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h1", "RD", 0)}},
			api.ReasonScalingDown, "being deleted", [3]int{1, 1, 1}},
		{"rolling out", Input{Size: 2, Hash: "h2", Machines: []MachineState{ms("a", "", "h1", "R", 0), ms("b", "", "h2", "R", 0)}},
			api.ReasonRollingOut, "1 of 2 machines on the current template, 1 old left", [3]int{2, 2, 1}},
		{"failed machine", Input{Size: 2, Hash: "h1", Machines: []MachineState{ms("a", "", "h1", "R", 0),
			{Name: "b", Hash: "h1", Failed: true, Message: "ssh root@10.0.0.2:22: authentication failed"}}},
			api.ReasonMachineFailed, "machine b: ssh root@10.0.0.2:22: authentication failed", [3]int{2, 1, 2}},
		{"not enough hosts", Input{Size: 3, Hash: "h1", SSH: true, Hosts: []string{"10.0.0.1"}},
			api.ReasonNotEnoughHosts, "needs 2 more host(s)", [3]int{0, 0, 0}},
		{"a failed machine being replaced is no failure", Input{Size: 2, Hash: "h1", SSH: true, MaxSurge: 1, Hosts: []string{"10.0.0.1", "10.0.0.3"},
			Machines: []MachineState{{Name: "a", Hash: "h1", Host: "10.0.0.1", Ready: true, Running: true},
				{Name: "g", Hash: "h1", Host: "10.0.0.2", Failed: true, Message: "ssh root@10.0.0.2:22: unreachable"}}},
			api.ReasonRollingOut, "1 of 2 machines on the current template, 1 old left", [3]int{2, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ComputeStatus(tc.in, Compute(tc.in))
			if s.Condition.Reason != tc.wantReason || !strings.Contains(s.Condition.Message, tc.wantMessage) {
				t.Errorf("condition %+v, want reason %s with %q", s.Condition, tc.wantReason, tc.wantMessage)
			}
			if want := tc.wantReason == api.ReasonPoolReady; (s.Condition.Status == api.ConditionTrue) != want {
				t.Errorf("status %s, want True only when ready", s.Condition.Status)
			}
			if got := [3]int{s.Machines, s.Ready, s.Updated}; got != tc.counts {
				t.Errorf("machines/ready/updated = %v, want %v", got, tc.counts)
			}
		})
	}
}
