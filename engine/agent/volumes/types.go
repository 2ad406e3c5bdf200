package volumes

import (
	"context"
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
)

// Source reads the config maps and secrets pods use (in the agent, its API
// client, under the node's credential). A missing object is an error for
// which api.IsNotFound is true.
type Source interface {
	ConfigMap(ctx context.Context, namespace, name string) (*api.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*api.Secret, error)
}

// PersistentVolumeName is the runtime volume that backs a pod's persistent
// volume name on a node: every pod on that node that mounts the name sees
// the same data. Node names cannot contain '_', so the separator keeps
// node "a-b", volume "c" apart from node "a", volume "b-c" (local nodes
// share one Docker engine).
func PersistentVolumeName(node, name string) string {
	return "maestro-pv-" + node + "_" + name
}

// NotFoundError is a config map or secret a pod needs that does not exist.
// It unwraps to the Source's error, so api.IsNotFound holds for it.
type NotFoundError struct {
	Kind string // "configmap" or "secret"
	Name string
	Err  error
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Name) }

func (e *NotFoundError) Unwrap() error { return e.Err }

// Directory names under <root>/<podUID>/volumes.
const (
	dirEmptyDir  = "emptydir"
	dirConfigMap = "configmap"
	dirSecret    = "secret"
)
