//go:build !unix

package localserver

import (
	"errors"
	"os/exec"
	"time"
)

// A local cluster needs sessions and process groups: Unix only.
func detach(*exec.Cmd) error {
	return errors.New("maestro_cluster local runs only on Linux and other Unix hosts")
}

func alive(int, string) bool { return false }

func stopGroup(int, <-chan struct{}, time.Duration) error {
	return errors.New("maestro_cluster local runs only on Linux and other Unix hosts")
}
