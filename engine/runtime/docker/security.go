package docker

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// applySecurity sets the container's user, read-only root, privileges and
// capabilities from sec, as the kubelet asks of a CRI runtime. A user that
// runAsNonRoot refuses is an error wrapping runtime.ErrConfig.
func (r *Runtime) applySecurity(ctx context.Context, image string, sec runtime.Security, conf *container.Config, hc *container.HostConfig) error {
	if sec.IsZero() {
		return nil
	}
	user, err := r.containerUser(ctx, image, sec)
	if err != nil {
		return err
	}
	conf.User = user
	hc.ReadonlyRootfs = sec.ReadOnlyRootFilesystem
	hc.Privileged = sec.Privileged
	if sec.NoNewPrivileges {
		hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges:true")
	}
	hc.CapAdd = append(hc.CapAdd, sec.CapAdd...)
	hc.CapDrop = append(hc.CapDrop, sec.CapDrop...)
	return nil
}

// containerUser is the engine's "uid[:gid]" for sec: empty keeps the
// image's user. With only a group, or runAsNonRoot without a uid, the
// image's user is read.
func (r *Runtime) containerUser(ctx context.Context, image string, sec runtime.Security) (string, error) {
	if sec.RunAsUser != nil {
		user := strconv.FormatInt(*sec.RunAsUser, 10)
		if sec.RunAsNonRoot && *sec.RunAsUser == 0 {
			return "", fmt.Errorf("%w: runAsNonRoot is set and runAsUser is 0 (root)", runtime.ErrConfig)
		}
		if sec.RunAsGroup != nil {
			user += ":" + strconv.FormatInt(*sec.RunAsGroup, 10)
		}
		return user, nil
	}
	if sec.RunAsGroup == nil && !sec.RunAsNonRoot {
		return "", nil
	}
	info, err := r.c.ImageInspect(ctx, image)
	if err != nil {
		return "", fmt.Errorf("docker runtime: reading the user of image %q: %w", image, err)
	}
	imageUser := ""
	if info.Config != nil {
		imageUser = info.Config.User
	}
	name, _, _ := strings.Cut(imageUser, ":")
	if sec.RunAsNonRoot {
		if err := checkNonRoot(image, name); err != nil {
			return "", err
		}
	}
	if sec.RunAsGroup == nil {
		return "", nil
	}
	return ownerOr(name) + ":" + strconv.FormatInt(*sec.RunAsGroup, 10), nil
}

// checkNonRoot refuses an image user that is root or cannot be known to
// be anything else without reading the image's /etc/passwd (a name), as
// the kubelet does.
func checkNonRoot(image, user string) error {
	switch uid, err := strconv.ParseInt(user, 10, 64); {
	case user == "" || user == "root" || err == nil && uid == 0:
		return fmt.Errorf("%w: runAsNonRoot is set and image %q runs as root; set runAsUser", runtime.ErrConfig, image)
	case err != nil:
		return fmt.Errorf("%w: runAsNonRoot is set and image %q runs as user %q, which is not numeric, so it cannot be verified as non-root; set runAsUser",
			runtime.ErrConfig, image, user)
	}
	return nil
}

func ownerOr(name string) string {
	if name == "" {
		return "0"
	}
	return name
}
