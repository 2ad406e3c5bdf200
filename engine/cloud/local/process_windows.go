package local

import (
	"context"
	"errors"
	"time"
)

// errUnsupported: local machines are processes in sessions of their own,
// signalled as groups, which Windows does not have.
var errUnsupported = errors.New("local machines need a Unix host")

func start(argv, env []string, dir, logPath string) (int, uint64, error) { return 0, 0, errUnsupported }

func alive(pid int, st uint64) bool { return false }

func stop(ctx context.Context, pid int, st uint64, grace time.Duration) error { return nil }

func killAll(pids []int) {}
