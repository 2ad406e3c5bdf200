//go:build linux

package process

import (
	"context"
	"os"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Stats sums the usage of the container's processes (its process group,
// without the shim) from /proc: cpu time, their reaped children's
// included, and resident memory. An exited container uses nothing.
func (r *Runtime) Stats(ctx context.Context, id string) (runtime.Usage, error) {
	c, err := r.loadContainer(id)
	if err != nil {
		return runtime.Usage{}, err
	}
	u := runtime.Usage{Timestamp: time.Now()}
	if !c.running() {
		return u, nil
	}
	page := uint64(os.Getpagesize())
	var ticks uint64
	for pid, st := range groupMembers(c.state.Pid) {
		if pid == c.state.Pid || st.startTicks < c.state.StartTicks {
			continue
		}
		ticks += st.utime + st.stime + st.cutime + st.cstime
		u.MemoryBytes += st.rssPages * page
	}
	u.CPUUsageNanos = ticks * uint64(time.Second/clockTicks)
	return u, nil
}
