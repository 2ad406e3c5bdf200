package simnode

import (
	"reflect"

	"github.com/maestro-dev/maestro/engine/api"
)

func findContainerStatus(list []api.ContainerStatus, name string) *api.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func deepCopyStatus(s *api.PodStatus) *api.PodStatus {
	c := *s
	c.Conditions = append([]api.Condition(nil), s.Conditions...)
	c.ContainerStatuses = append([]api.ContainerStatus(nil), s.ContainerStatuses...)
	return &c
}

// statusEqual compares what the fleet reports, ignoring condition times, so
// an unchanged pod is never written again.
func statusEqual(a, b *api.PodStatus) bool {
	if a.Phase != b.Phase || a.PodIP != b.PodIP || a.HostIP != b.HostIP || len(a.Conditions) != len(b.Conditions) ||
		len(a.ContainerStatuses) != len(b.ContainerStatuses) {
		return false
	}
	for _, c := range b.Conditions {
		if have := api.FindCondition(a.Conditions, c.Type); have == nil || have.Status != c.Status {
			return false
		}
	}
	for i := range a.ContainerStatuses {
		x, y := a.ContainerStatuses[i], b.ContainerStatuses[i]
		if x.Name != y.Name || x.Ready != y.Ready || x.Image != y.Image || !reflect.DeepEqual(x.State.Running != nil, y.State.Running != nil) {
			return false
		}
	}
	return true
}
