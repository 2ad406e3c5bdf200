package cli

import (
	"fmt"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// volumeColumns renders Volumes: where each lives, what happens to its
// data when deleted, its phase, and the pods using it.
var volumeColumns = columns{[]string{"NAME", "NODE", "RECLAIM", "STATUS", "USED BY", "AGE"}, func(o api.Object) []string {
	v := o.(*api.PersistentVolume)
	status := v.Status.Phase
	if v.DeletionTimestamp != nil {
		status = "Terminating"
	}
	return []string{v.Name, dash(v.Node()), v.Spec.ReclaimPolicy, dash(status), dash(truncateList(v.Status.UsedBy, 2)), age(v.CreationTimestamp)}
}}

// volumeDeleteNote says what deleting v does, from v as read just before
// the delete: it waits for the pods using it, and its data is removed or
// stays on its node as the reclaim policy says.
func volumeDeleteNote(v *api.PersistentVolume) string {
	var notes []string
	if len(v.Status.UsedBy) > 0 {
		notes = append(notes, fmt.Sprintf("in use by %s %s, so it goes once no pod uses it",
			plural(len(v.Status.UsedBy), "pod", "pods"), strings.Join(v.Status.UsedBy, ", ")))
	}
	switch {
	case v.Node() == "":
		// Never placed: no data was written anywhere.
	case v.Spec.ReclaimPolicy == api.ReclaimDelete:
		notes = append(notes, fmt.Sprintf("its data on node %s is removed (reclaim policy Delete)", v.Node()))
	default:
		notes = append(notes, fmt.Sprintf("its data stays on node %s (reclaim policy Retain)", v.Node()))
	}
	return strings.Join(notes, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
