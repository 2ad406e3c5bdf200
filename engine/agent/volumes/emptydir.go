package volumes

import (
	"github.com/maestro-dev/maestro/engine/api"
)

// setupEmptyDir makes a pod's scratch dir, 0777 so containers running as
// any user can write. medium: Memory puts a tmpfs on it (sized by
// sizeLimit) when the agent can mount one, else it stays on disk.
func (m *Manager) setupEmptyDir(pod *api.Pod, v *api.Volume) (string, error) {
	dir := m.volumeDir(pod.UID, dirEmptyDir, v.Name)
	if err := mkdirMode(dir, 0o777); err != nil {
		return "", err
	}
	if v.EmptyDir.Medium != "Memory" {
		return dir, nil
	}
	var size int64
	if q := v.EmptyDir.SizeLimit; q != nil {
		size = q.Value()
	}
	if !m.mountable {
		m.warnOnce(pod, v, dir, "agent is not root: memory emptyDir is on disk")
		return dir, nil
	}
	if err := mountTmpfs(dir, 0o777, size); err != nil {
		m.warnOnce(pod, v, dir, "memory emptyDir is on disk", "err", err)
	}
	return dir, nil
}
