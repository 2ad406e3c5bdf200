//go:build !linux

package process

import (
	"errors"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// Runtime is not available off Linux: containers as host processes need
// cgroups, namespaces and Linux process control.
type Runtime struct{ runtime.Runtime }

// New reports that the process runtime needs Linux.
func New(Options) (*Runtime, error) {
	return nil, errors.New("the process runtime needs Linux (cgroups, process groups); run nodes on Linux")
}
