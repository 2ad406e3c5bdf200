package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// containerMounts turns each container's volumeMounts into runtime mounts.
func containerMounts(pod *api.Pod, vols map[string]prepared) (map[string][]runtime.Mount, error) {
	out := map[string][]runtime.Mount{}
	var errs []error
	for _, cs := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			for _, vm := range c.VolumeMounts {
				mnt, err := containerMount(vm, vols)
				if err != nil {
					errs = append(errs, fmt.Errorf("container %q: mount of volume %q at %s: %w", c.Name, vm.Name, vm.MountPath, err))
					continue
				}
				out[c.Name] = append(out[c.Name], mnt)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func containerMount(vm api.VolumeMount, vols map[string]prepared) (runtime.Mount, error) {
	v, ok := vols[vm.Name]
	if !ok {
		return runtime.Mount{}, errors.New("no such volume in the pod")
	}
	mnt := runtime.Mount{ContainerPath: vm.MountPath, ReadOnly: vm.ReadOnly || v.readOnly}
	switch {
	case v.volumeName != "" && vm.SubPath != "":
		return runtime.Mount{}, errors.New("subPath is not supported on persistent volumes")
	case v.volumeName != "":
		mnt.VolumeName = v.volumeName
	case vm.SubPath != "":
		p, err := resolveSubPath(v.hostPath, vm.SubPath, v.create, v.perm)
		if err != nil {
			return runtime.Mount{}, err
		}
		mnt.HostPath = p
	default:
		mnt.HostPath = v.hostPath
	}
	return mnt, nil
}

// resolveSubPath finds sub inside base one element at a time, following
// symlinks only while they stay inside base, so a container that planted
// a symlink in its volume cannot have the agent mount (or create) anything
// outside it. Missing elements are created as directories when create is
// set. A config map key resolves to its file in the current version dir:
// the mount pins that version, as in Kubernetes.
func resolveSubPath(base, sub string, create bool, perm fs.FileMode) (string, error) {
	if !filepath.IsLocal(sub) {
		return "", fmt.Errorf("subPath %q must be a relative path inside the volume", sub)
	}
	root, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", err
	}
	cur := root
	for _, elem := range strings.Split(filepath.Clean(sub), string(filepath.Separator)) {
		next := filepath.Join(cur, elem)
		info, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			if err := os.Mkdir(next, perm); err != nil {
				return "", err
			}
			if err := os.Chmod(next, perm); err != nil {
				return "", err
			}
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("subPath %q does not exist in the volume", sub)
		case err != nil:
			return "", err
		case info.Mode()&fs.ModeSymlink != 0:
			if next, err = filepath.EvalSymlinks(next); err != nil {
				return "", fmt.Errorf("subPath %q: %w", sub, err)
			}
			if !within(root, next) {
				return "", fmt.Errorf("subPath %q leads outside the volume", sub)
			}
		}
		cur = next
	}
	return cur, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && filepath.IsLocal(rel)
}
