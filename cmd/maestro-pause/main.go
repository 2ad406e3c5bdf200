// Command maestro-pause is the pod infrastructure ("pause") process: the
// first container of every pod, which holds the pod's network namespace
// while the pod's real containers come and go.
//
// It does nothing but wait: SIGTERM or SIGINT ends it with status 0, and
// when it runs as pid 1 of a pid namespace it reaps the zombies that are
// reparented to it. It is built with the standard library only
// (CGO_ENABLED=0) and kept small because one runs per pod: no fmt, no
// flags, the garbage collector off (nothing here allocates after start),
// and no goroutine but main and the one os/signal needs to deliver signals.
package main

import (
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

func main() {
	// One P is enough to wait for signals; fewer Ps mean fewer threads and
	// per-P caches. The GC would only wake up to find nothing to collect.
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	os.Exit(run(os.Getpid() == 1, nil))
}

// run waits for SIGTERM or SIGINT and returns the exit status. As pid 1
// (reap) it also collects every child that exits. ready, when not nil, is
// called once the signals are caught (tests wait for it).
func run(reap bool, ready func()) int {
	signals := make(chan os.Signal, 4)
	if reap {
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
		// Children that exited before the handler was installed sent their
		// SIGCHLD to nobody.
		reapChildren()
	} else {
		signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	}
	if ready != nil {
		ready()
	}
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		writeStderr("maestro-pause: shutting down on " + sig.String() + "\n")
		return 0
	}
	return 0
}

// reapChildren collects every exited child. SIGCHLD is not queued: one
// signal may stand for many exits, so wait until none is left.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

// writeStderr writes without fmt or os.File buffering; a failed write
// (stderr closed) is of no consequence.
func writeStderr(s string) {
	_, _ = syscall.Write(2, []byte(s))
}
