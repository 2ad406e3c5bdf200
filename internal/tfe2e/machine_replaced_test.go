package tfe2e_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// The failure detection settings of TestMachineReplaced: short, as a
// user wanting fast failover would set them (Kubernetes' defaults are
// 40 s, 5 min and, in Cluster API's examples, 5 min).
const (
	replacedGrace       = "8s"  // --node-monitor-grace-period
	replacedEviction    = "10s" // --pod-eviction-timeout
	replacedNotReady    = "20s" // remediation.not_ready_timeout
	replacedReplicas    = 4
	replacedWithinAfter = 3 * time.Minute
	// replacedOutage is how much longer the link stays cut once the old
	// machine's delete failed; replacedReleasedWithin bounds its release
	// after the link is back (a delete retried every 10 s, one dial
	// timeout of 10 s possibly in flight, then the uninstall).
	replacedOutage         = 45 * time.Second
	replacedReleasedWithin = 30 * time.Second
)

// TestMachineReplaced (issue 12): a cluster with an ssh pool of 2 machines
// on 3 emulated hosts (real OpenSSH) and an application on its nodes; one
// host's link is cut. Its node goes NotReady, its pods are evicted and run
// Ready on the other node, and its machine is replaced by one on the spare
// host (Running, node Ready) without waiting for the unreachable host,
// while the old one waits in Deleting, saying so. Soon after the link is
// back (however long it was cut) the old machine is released: its Machine
// and Node are gone and no agent runs on the old host. The time from the
// cut to all pods Ready again is logged.
func TestMachineReplaced(t *testing.T) {
	requireOnPrem(t)
	o := newOneApply(t, "onprem-pool/main.tf")
	pause := testenv.PauseImage(t)
	o.vars["image"] = testenv.DemoImage(t)
	o.vars["ssh_size"] = "2"
	o.vars["replicas"] = fmt.Sprint(replacedReplicas)
	o.vars["not_ready_timeout"] = replacedNotReady
	o.vars["server_args"] = jsonList([]string{
		"--ssh-machine-agent-args", "--infra-image=" + pause,
		"--node-monitor-grace-period", replacedGrace, "--pod-eviction-timeout", replacedEviction,
		"--pod-cidr", testenv.PodCIDR().String(), "--service-cidr", testenv.ServiceCIDR().String(),
	})
	o.setVars()
	r := o.w.mustApply()
	t.Logf("apply from empty state took %s", r.took.Round(time.Second))
	o.connect()
	ctx := t.Context()

	ms := o.poolMachineObjects("onprem")
	if len(ms) != 2 {
		t.Fatalf("pool onprem has %d machines after the apply, want 2", len(ms))
	}
	victim := ms[0]
	cutHost, spare := o.hostOf(victim.Spec.Host), o.spareHost(ms)
	o.wantPodsReady(time.Minute, "", false)

	cut := time.Now()
	if err := cutHost.CutLink(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cutHost.RestoreLink(context.Background()) })
	t.Logf("cut the link of host %s (machine %s)", cutHost.Addr, victim.Name)

	o.wantPodsReady(replacedWithinAfter, victim.Name, true)
	t.Logf("all %d pods Ready again, none on node %s, %s after the cut (grace %s, eviction %s, not-ready timeout %s)",
		replacedReplicas, victim.Name, time.Since(cut).Round(100*time.Millisecond), replacedGrace, replacedEviction, replacedNotReady)
	repl := o.wantReplacement(victim, spare.Addr.String())
	t.Logf("machine %s replaced by %s on host %s, Running with a Ready node %s after the cut",
		victim.Name, repl, spare.Addr, time.Since(cut).Round(100*time.Millisecond))

	// The old machine waits, saying why, while its host is away; the
	// outage goes on long enough for a growing backoff to outlast it.
	o.wantReleaseWaiting(victim.Name, cutHost.Addr.String())
	time.Sleep(replacedOutage)
	if err := cutHost.RestoreLink(ctx); err != nil {
		t.Fatal(err)
	}
	restored := time.Now()
	o.wantReleased(victim.Name, cutHost, replacedReleasedWithin)
	t.Logf("old machine %s released %s after the link came back", victim.Name, time.Since(restored).Round(100*time.Millisecond))
	o.wantPodsReady(time.Minute, victim.Name, false)
	o.w.wantPlan(0)

	r = o.w.mustDestroy()
	t.Logf("destroy took %s", r.took.Round(time.Second))
	o.wantNothingLeft()
}

func (o *oneApply) poolMachineObjects(pool string) []*api.Machine {
	o.t.Helper()
	ms, _, err := o.c.Machines().List(o.t.Context(), client.ListOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	return slices.DeleteFunc(ms, func(m *api.Machine) bool { return m.Spec.Pool != pool })
}

func (o *oneApply) hostOf(addr string) *testbed.Host {
	o.t.Helper()
	for _, h := range o.hosts {
		if h.Addr.String() == addr {
			return h
		}
	}
	o.t.Fatalf("no emulated host has address %q", addr)
	return nil
}

// spareHost is the host no machine of ms is on.
func (o *oneApply) spareHost(ms []*api.Machine) *testbed.Host {
	o.t.Helper()
	for _, h := range o.hosts {
		if !slices.ContainsFunc(ms, func(m *api.Machine) bool { return m.Spec.Host == h.Addr.String() }) {
			return h
		}
	}
	o.t.Fatal("every host holds a machine")
	return nil
}

// wantPodsReady waits until the application has all its replicas Ready,
// none on node avoid. Pods being deleted are left out while terminating
// is true (evicted from an unreachable node, they stay Terminating until
// their node is gone, as in Kubernetes); otherwise none may be left.
func (o *oneApply) wantPodsReady(within time.Duration, avoid string, terminating bool) {
	o.t.Helper()
	what := fmt.Sprintf("%d pods of app/web Ready, none on node %q", replacedReplicas, avoid)
	eventually(o.t, within, what, o.logChanges(func() (bool, string) {
		pods, _, err := o.c.Pods("app").List(o.t.Context(), client.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			return false, err.Error()
		}
		live, ready := 0, 0
		var state []string
		for _, p := range pods {
			deleting := p.DeletionTimestamp != nil
			state = append(state, fmt.Sprintf("%s on %s ready=%v deleting=%v", p.Name, p.Spec.NodeName, api.IsPodReady(p), deleting))
			if deleting && terminating {
				continue
			}
			live++
			if api.IsPodReady(p) && !deleting && p.Spec.NodeName != avoid {
				ready++
			}
		}
		return ready == replacedReplicas && live == replacedReplicas, strings.Join(state, "; ")
	}))
}

// logChanges logs cond's state whenever it changes (at most every 2 s),
// so a failure shows how things went, not only where they ended.
func (o *oneApply) logChanges(cond func() (bool, string)) func() (bool, string) {
	var last string
	var at time.Time
	return func() (bool, string) {
		ok, state := cond()
		if state != last && time.Since(at) >= 2*time.Second {
			o.t.Logf("%s", state)
			last, at = state, time.Now()
		}
		return ok, state
	}
}

// wantReplacement waits for the machine replacing old: another machine
// of the pool on host, Running with a Ready node; it returns its name.
func (o *oneApply) wantReplacement(old *api.Machine, host string) string {
	o.t.Helper()
	var name string
	eventually(o.t, replacedWithinAfter, "a replacement machine Running on host "+host, o.logChanges(func() (bool, string) {
		var state []string
		for _, m := range o.poolMachineObjects(old.Spec.Pool) {
			state = append(state, fmt.Sprintf("%s host=%s phase=%s deleting=%v: %s", m.Name, m.Spec.Host, m.Status.Phase, m.DeletionTimestamp != nil, m.Status.Message))
			if m.Name == old.Name || m.Spec.Host != host || m.Status.Phase != api.MachineRunning {
				continue
			}
			if n, err := o.c.Nodes().Get(o.t.Context(), m.Name); err == nil && api.IsNodeReady(n) {
				name = m.Name
			}
		}
		return name != "", strings.Join(state, "; ")
	}))
	return name
}

// wantReleaseWaiting waits until the deleted machine's message says its
// release waits for its unreachable host.
func (o *oneApply) wantReleaseWaiting(machine, host string) {
	o.t.Helper()
	eventually(o.t, time.Minute, "machine "+machine+" waiting for host "+host, func() (bool, string) {
		m, err := o.c.Machines().Get(o.t.Context(), machine)
		if err != nil {
			return false, err.Error()
		}
		msg := m.Status.Message
		return m.DeletionTimestamp != nil && strings.Contains(msg, "waiting for its cloud to release it") &&
			strings.Contains(msg, host+":22: unreachable"), fmt.Sprintf("phase %s: %s", m.Status.Phase, msg)
	})
}

// wantReleased waits until the machine and its node are gone and no
// agent runs on host h.
func (o *oneApply) wantReleased(machine string, h *testbed.Host, within time.Duration) {
	o.t.Helper()
	eventually(o.t, within, "machine "+machine+" released", o.logChanges(func() (bool, string) {
		if m, err := o.c.Machines().Get(o.t.Context(), machine); !api.IsNotFound(err) {
			if err != nil {
				return false, err.Error()
			}
			return false, fmt.Sprintf("machine %s: phase %s: %s", machine, m.Status.Phase, m.Status.Message)
		}
		if _, err := o.c.Nodes().Get(o.t.Context(), machine); !api.IsNotFound(err) {
			return false, fmt.Sprintf("node %s still there (%v)", machine, err)
		}
		if agents := agentsOn(o.t.Context(), h); len(agents) > 0 {
			return false, "agents still running on the host: " + strings.Join(agents, "; ")
		}
		return true, ""
	}))
}

// agentsOn lists the command lines of `maestro agent` processes, and of
// the ssh cloud's supervisor of one, in host h's network namespace.
func agentsOn(ctx context.Context, h *testbed.Host) []string {
	pids, err := h.Pids(ctx)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue // gone
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		agent := len(args) > 1 && strings.Contains(args[0], "maestro") && args[1] == "agent"
		if agent || slices.Contains(args, "./run.sh") { // the agent or its supervisor
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}
