package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// startWatch runs a get --watch until the returned stop is called; stop
// returns the command's error.
func startWatch(t *testing.T, cfg string, args ...string) (*testenv.SyncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := NewRoot()
	out := &testenv.SyncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs(append([]string{"--config", cfg}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("get --watch did not stop when its context ended")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return out, stop
}

// waitFor waits until the output matches re.
func waitFor(t *testing.T, out *testenv.SyncBuffer, re string) {
	t.Helper()
	r := regexp.MustCompile(re)
	cluster.Eventually(t, 10*time.Second, "get --watch printing "+re, func() (bool, string) {
		s := out.String()
		return r.MatchString(s), "\n" + s
	})
}

func TestGetWatchMachines(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	machines := env.Client.Machines()
	mk := func(name, pool string) *api.Machine {
		t.Helper()
		m, err := machines.Create(ctx, &api.Machine{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.MachineSpec{Pool: pool, Provider: api.ProviderLocal}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mk("edge-1", "edge")

	out, stop := startWatch(t, cfg, "get", "machines", "--watch", "--field-selector", "spec.pool=edge")
	waitFor(t, out, `(?m)^edge-1\s+edge\s+local\s+<none>`)
	mk("core-1", "core") // another pool: not shown
	m := mk("edge-longer-name-2", "edge")
	m.Status = api.MachineStatus{Phase: api.MachineRunning, NodeName: "edge-longer-name-2",
		Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: "127.0.5.2"}}}
	if _, err := machines.UpdateStatus(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, `(?m)^edge-longer-name-2\s+edge\s+local\s+Running\s+edge-longer-name-2\s+127\.0\.5\.2\s`)
	if err := stop(); err != nil {
		t.Fatalf("get --watch ended with %v", err)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{`^NAME\s+POOL\s+PROVIDER\s+PHASE\s+NODE\s+ADDRESS\s+ZONE\s+AGE$`, `^edge-1\s+edge\s+local\s+<none>\s`,
		`^edge-longer-name-2\s+edge\s+local\s+<none>\s`, `^edge-longer-name-2\s+edge\s+local\s+Running\s`}
	if len(lines) != len(want) {
		t.Fatalf("watch printed %d lines, want %d (the list, then each change of the edge pool):\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i, lines[i], w)
		}
	}
	// The first table's columns stay where they were for later rows.
	if strings.Index(lines[0], "PROVIDER") != strings.Index(lines[1], "local") {
		t.Errorf("PROVIDER column not aligned with the list's rows:\n%s", out)
	}

	// A named object that does not exist is an error, not an empty watch.
	if _, _, err := run(t, cfg, "get", "machine", "nope", "--watch"); err == nil || !api.IsNotFound(err) {
		t.Errorf("get machine nope --watch: %v, want not found", err)
	}
}

func TestWatchPrinterWidens(t *testing.T) {
	var b bytes.Buffer
	cols := columns{[]string{"NAME", "PHASE"}, func(o api.Object) []string {
		m := o.(*api.Machine)
		return []string{m.Name, m.Status.Phase}
	}}
	p := &watchPrinter{w: &b, output: "table", cols: cols}
	if err := p.start([]api.Object{&api.Machine{ObjectMeta: api.ObjectMeta{Name: "a"}, Status: api.MachineStatus{Phase: "Running"}}}); err != nil {
		t.Fatal(err)
	}
	if err := p.print(&api.Machine{ObjectMeta: api.ObjectMeta{Name: "much-longer"}, Status: api.MachineStatus{Phase: "Pending"}}); err != nil {
		t.Fatal(err)
	}
	want := "NAME   PHASE\na      Running\nmuch-longer   Pending\n"
	if b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
}
