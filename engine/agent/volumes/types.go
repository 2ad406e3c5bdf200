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

// VolumeSource reads the Volumes pods use, as Source does.
type VolumeSource interface {
	Volume(ctx context.Context, namespace, name string) (*api.PersistentVolume, error)
}

// PersistentVolumeName is the runtime volume that holds the data of a
// Volume on a node: every pod of the namespace on that node that mounts
// the Volume sees the same data. Node names, namespaces and volume names
// cannot contain '_', so the separators keep every triple apart (local
// nodes share one Docker engine; namespaces must not share data).
func PersistentVolumeName(node, namespace, name string) string {
	return "maestro-pv-" + node + "_" + namespace + "_" + name
}

// PersistentVolumePrefix starts the names of every runtime volume of a node.
func PersistentVolumePrefix(node string) string { return "maestro-pv-" + node + "_" }

// ElsewhereError is a pod whose Volume does not live on this node (on
// another one, or on none yet): starting it here would give it an empty
// copy of its data, so the agent refuses.
type ElsewhereError struct {
	Volume string
	Node   string // where the data lives; "" when on no node (or no Volume) yet
}

func (e *ElsewhereError) Error() string {
	if e.Node == "" {
		return fmt.Sprintf("volume %q is on no node yet: waiting for it to be placed on this node before starting the pod", e.Volume)
	}
	return fmt.Sprintf("volume %q lives on node %q, not on this one: the pod will not start here on an empty copy", e.Volume, e.Node)
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
