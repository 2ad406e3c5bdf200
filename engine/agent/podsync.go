package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/agent/podenv"
	"github.com/maestro-dev/maestro/engine/agent/prober"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Waiting reasons the agent reports besides the API's.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonConfigError       = "CreateContainerConfigError"
	reasonCreateError       = "CreateContainerError"
	reasonSandboxError      = "SandboxError"
)

// syncPod converges one pod: level-based, from what the API wants and what
// the runtime reports.
func (a *Agent) syncPod(ctx context.Context, key string) error {
	pod, ok := a.pods.Get(key)
	if !ok {
		return a.forgetPod(ctx, key)
	}
	a.mu.Lock()
	a.known[pod.UID] = key
	a.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		return a.terminate(ctx, pod)
	}
	containers, err := a.rt.ListContainers(ctx, a.filter(pod.UID))
	if err != nil {
		return fmt.Errorf("listing containers of pod %s: %w", key, err)
	}
	if api.IsPodTerminal(pod) {
		return nil // finished for good; containers stay for their logs until deletion
	}
	sb, err := a.ensureSandbox(ctx, pod, containers)
	if err != nil {
		a.setWaitingAll(pod, reasonSandboxError, err.Error())
		return a.errorWithStatus(ctx, pod, containers, err)
	}
	mounts, err := a.volumes.Setup(ctx, pod, a.cfg.NodeName)
	if err != nil {
		a.setWaitingAll(pod, reasonConfigError, err.Error())
		return a.errorWithStatus(ctx, pod, containers, fmt.Errorf("setting up volumes: %w", err))
	}
	// App containers start only once every init container has completed.
	initialized, retryAt := a.syncInit(ctx, pod, sb, mounts, containers)
	if initialized {
		retryAt = a.syncApps(ctx, pod, sb, mounts, containers)
	}
	// Read again: the loop may have started or stopped containers.
	if containers, err = a.rt.ListContainers(ctx, a.filter(pod.UID)); err != nil {
		return fmt.Errorf("listing containers of pod %s: %w", key, err)
	}
	a.pruneDead(ctx, containers)
	if err := a.writeStatus(ctx, pod, &sb, containers); err != nil {
		return err
	}
	if !retryAt.IsZero() {
		a.queue.AddAfter(key, time.Until(retryAt))
	}
	return nil
}

// syncApps converges each app container and returns the earliest time one
// asked to be looked at again (zero: none).
func (a *Agent) syncApps(ctx context.Context, pod *api.Pod, sb runtime.Sandbox, mounts map[string][]runtime.Mount, containers []runtime.Container) time.Time {
	var retryAt time.Time
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		at, err := a.syncContainer(ctx, pod, sb, c, mounts[c.Name], latest(containers, c.Name))
		if err != nil {
			a.log.Warn("container sync failed", "pod", pod.Key(), "container", c.Name, "err", err)
		}
		if !at.IsZero() && (retryAt.IsZero() || at.Before(retryAt)) {
			retryAt = at
		}
	}
	return retryAt
}

// errorWithStatus reports a pod-level failure in its status, then returns
// err so the pod is retried with backoff.
func (a *Agent) errorWithStatus(ctx context.Context, pod *api.Pod, containers []runtime.Container, err error) error {
	if serr := a.writeStatus(ctx, pod, nil, containers); serr != nil {
		a.log.Debug("status update failed", "pod", pod.Key(), "err", serr)
	}
	return err
}

// ensureSandbox returns the pod's ready sandbox, creating it if needed. A
// new sandbox means a new network namespace: containers of an old one are
// stopped so they are re-created inside the new one.
func (a *Agent) ensureSandbox(ctx context.Context, pod *api.Pod, containers []runtime.Container) (runtime.Sandbox, error) {
	sbs, err := a.rt.ListSandboxes(ctx, a.filter(pod.UID))
	if err != nil {
		return runtime.Sandbox{}, fmt.Errorf("listing sandboxes: %w", err)
	}
	var ready *runtime.Sandbox
	for i := range sbs {
		if sbs[i].State == runtime.SandboxReady && (ready == nil || sbs[i].CreatedAt.After(ready.CreatedAt)) {
			ready = &sbs[i]
		}
	}
	for _, sb := range sbs {
		if ready == nil || sb.ID != ready.ID {
			_ = a.rt.RemoveSandbox(ctx, sb.ID)
		}
	}
	if ready != nil {
		return *ready, nil
	}
	for _, c := range containers {
		if c.State == runtime.ContainerRunning {
			_ = a.rt.StopContainer(ctx, c.ID, gracePeriod(pod))
		}
	}
	sb, err := a.rt.RunSandbox(ctx, a.sandboxConfig(pod))
	if err != nil {
		return runtime.Sandbox{}, fmt.Errorf("starting sandbox: %w", err)
	}
	a.log.Info("pod sandbox started", "pod", pod.Key(), "ip", sb.IP)
	return sb, nil
}

func (a *Agent) sandboxConfig(pod *api.Pod) runtime.SandboxConfig {
	cfg := runtime.SandboxConfig{Cluster: a.cluster, PodUID: pod.UID, Namespace: pod.Namespace, Name: pod.Name, Node: a.cfg.NodeName,
		Hostname: pod.Name, HostNetwork: pod.Spec.HostNetwork}
	if pod.Spec.Hostname != "" {
		cfg.Hostname = pod.Spec.Hostname
	}
	if len(cfg.Hostname) > 63 {
		cfg.Hostname = cfg.Hostname[:63]
	}
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				cfg.Ports = append(cfg.Ports, runtime.PortMapping{HostIP: a.hostIP(p.HostIP), HostPort: p.HostPort,
					ContainerPort: p.ContainerPort, Protocol: p.Protocol})
			}
		}
	}
	if pod.Spec.DNSPolicy == api.DNSClusterFirst && a.cfg.DNS != nil && !pod.Spec.HostNetwork {
		dns := *a.cfg.DNS
		dns.Searches = append([]string{pod.Namespace + ".svc.cluster.local"}, dns.Searches...)
		cfg.DNS = &dns
	}
	return cfg
}

// hostIP publishes host ports on the node's address unless the pod names one.
func (a *Agent) hostIP(ip string) string {
	if ip != "" && ip != "0.0.0.0" {
		return ip
	}
	return a.cfg.Address
}

// syncContainer converges one container and returns when the pod should be
// looked at again (a backoff ending), or zero.
func (a *Agent) syncContainer(ctx context.Context, pod *api.Pod, sb runtime.Sandbox, c *api.Container, mounts []runtime.Mount, cur *runtime.Container) (time.Time, error) {
	key := pod.UID + "/" + c.Name
	hash := containerHash(&pod.Spec, c)
	now := time.Now()
	if cur != nil && cur.State == runtime.ContainerRunning {
		switch {
		case cur.SandboxID != "" && cur.SandboxID != sb.ID:
			return time.Time{}, a.kill(ctx, pod, cur, "its sandbox was replaced")
		case cur.Hash != hash:
			return time.Time{}, a.kill(ctx, pod, cur, "its spec changed")
		case a.prober.Result(pod.UID, c.Name, prober.Liveness) == prober.Failure:
			a.recorder.Eventf(pod, api.EventWarning, "Unhealthy", "Liveness probe of container %s failed; restarting it", c.Name)
			a.prober.Remove(pod.UID, c.Name)
			return time.Time{}, a.kill(ctx, pod, cur, "its liveness probe failed")
		}
		a.ensureProbes(pod, c, cur, sb)
		a.clearWaiting(key)
		return time.Time{}, nil
	}
	if cur != nil && !shouldRestart(pod.Spec.RestartPolicy, cur) {
		return time.Time{}, nil
	}
	if cur != nil && cur.State == runtime.ContainerExited {
		if until := a.crashBackoff(pod, c.Name, cur, now); !until.IsZero() {
			return until, nil
		}
	}
	return a.startContainer(ctx, pod, sb, c, mounts, cur, hash)
}

// crashBackoff counts an exited container toward its restart back-off and,
// while the back-off lasts, reports CrashLoopBackOff and returns when it
// ends (zero: restart it now).
func (a *Agent) crashBackoff(pod *api.Pod, name string, cur *runtime.Container, now time.Time) time.Time {
	key := pod.UID + "/" + name
	if d, first := a.countExit(key, cur); first && d > 0 {
		a.recorder.Eventf(pod, api.EventWarning, "BackOff", "Back-off %s restarting failed container %s", d, name)
	}
	until := a.restarts.until(key)
	if !now.Before(until) {
		return time.Time{}
	}
	a.setWaiting(key, api.ReasonCrashLoopBackOff,
		fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", until.Sub(cur.FinishedAt).Round(time.Second), name, pod.Name))
	return until
}

// startContainer pulls the image if needed, then creates and starts the
// container.
func (a *Agent) startContainer(ctx context.Context, pod *api.Pod, sb runtime.Sandbox, c *api.Container, mounts []runtime.Mount, cur *runtime.Container, hash string) (time.Time, error) {
	key := pod.UID + "/" + c.Name
	now := time.Now()
	if c.Image != "" {
		if until := a.pulls.until(key); now.Before(until) {
			return until, nil // ImagePullBackOff is already reported
		}
		auths, err := a.pullAuths(ctx, pod)
		if err != nil {
			return now.Add(a.cfg.RestartBackoffBase), fmt.Errorf("reading the image pull secrets of container %s: %w", c.Name, err)
		}
		pctx, cancel := context.WithTimeout(ctx, a.cfg.ImagePullTimeout)
		err = a.rt.EnsureImage(pctx, c.Image, c.ImagePullPolicy, auths)
		cancel()
		var ierr *runtime.ImageError
		if errors.As(err, &ierr) {
			first := a.pulls.until(key).IsZero()
			d := a.pulls.next(key, now)
			reason := api.ReasonImagePullBackOff
			if first || d == 0 {
				reason = ierr.Reason
			}
			a.setWaiting(key, reason, ierr.Message)
			a.recorder.Eventf(pod, api.EventWarning, api.EventReasonFailedPull, "%s", api.PullFailedMessage(c.Image, ierr.Message))
			if d == 0 {
				d = a.cfg.RestartBackoffBase
				a.pulls.next(key, now)
			}
			return now.Add(d), nil
		}
		if err != nil {
			return time.Time{}, err
		}
		a.pulls.forget(key)
	}
	// fieldRef status.podIP and status.hostIP read the pod: give them the
	// sandbox's address even before the status says it.
	withIPs := *pod
	withIPs.Status.PodIP, withIPs.Status.HostIP = sb.IP, a.cfg.Address
	if pod.Spec.HostNetwork {
		withIPs.Status.PodIP = a.cfg.Address
	}
	env, err := podenv.Build(ctx, &withIPs, c, a.config, a.serviceEnv(pod))
	if err != nil {
		a.setWaiting(key, reasonConfigError, err.Error())
		return now.Add(a.cfg.RestartBackoffBase), nil
	}
	attempt := 0
	if cur != nil {
		attempt = cur.Attempt + 1
	}
	a.setWaiting(key, reasonContainerCreating, "")
	id, err := a.rt.CreateContainer(ctx, sb, runtime.ContainerConfig{
		Name: c.Name, Image: c.Image, Command: podenv.ExpandCommand(c.Command, env), Args: podenv.ExpandCommand(c.Args, env), WorkingDir: c.WorkingDir,
		Env: env, Mounts: mounts, Resources: resources(c), Security: security(&pod.Spec, c), Attempt: attempt, Hash: hash,
	})
	if errors.Is(err, runtime.ErrConfig) {
		a.setWaiting(key, reasonConfigError, err.Error())
		a.recorder.Eventf(pod, api.EventWarning, "Failed", "Error: %v", err)
		return now.Add(a.cfg.RestartBackoffBase), nil
	}
	if err != nil {
		a.setWaiting(key, reasonCreateError, err.Error())
		return now.Add(a.cfg.RestartBackoffBase), fmt.Errorf("creating container %s: %w", c.Name, err)
	}
	if err := a.rt.StartContainer(ctx, id); err != nil {
		a.setWaiting(key, reasonCreateError, err.Error())
		return now.Add(a.cfg.RestartBackoffBase), fmt.Errorf("starting container %s: %w", c.Name, err)
	}
	a.clearWaiting(key)
	verb := "Started"
	if attempt > 0 {
		verb = "Restarted"
	}
	a.recorder.Eventf(pod, api.EventNormal, verb, "%s container %s", verb, c.Name)
	a.log.Info("container started", "pod", pod.Key(), "container", c.Name, "attempt", attempt)
	return time.Time{}, nil
}

func (a *Agent) ensureProbes(pod *api.Pod, c *api.Container, cur *runtime.Container, sb runtime.Sandbox) {
	target := prober.Target{PodIP: sb.IP, ContainerID: cur.ID, NamedPorts: map[string]int32{}}
	for _, p := range c.Ports {
		if p.Name != "" {
			target.NamedPorts[p.Name] = p.ContainerPort
		}
	}
	for _, pr := range []struct {
		kind  prober.Kind
		probe *api.Probe
	}{{prober.Startup, c.StartupProbe}, {prober.Liveness, c.LivenessProbe}, {prober.Readiness, c.ReadinessProbe}} {
		if pr.probe == nil {
			continue
		}
		// Liveness and readiness wait for the startup probe, as in Kubernetes.
		if pr.kind != prober.Startup && c.StartupProbe != nil && a.prober.Result(pod.UID, c.Name, prober.Startup) != prober.Success {
			continue
		}
		a.prober.Ensure(pod.UID, c.Name, pr.kind, pr.probe, target, cur.StartedAt)
	}
}

// kill stops a container within the pod's grace period.
func (a *Agent) kill(ctx context.Context, pod *api.Pod, c *runtime.Container, why string) error {
	a.log.Info("stopping container", "pod", pod.Key(), "container", c.Name, "reason", why)
	a.recorder.Eventf(pod, api.EventNormal, "Killing", "Stopping container %s: %s", c.Name, why)
	return a.rt.StopContainer(ctx, c.ID, gracePeriod(pod))
}

// terminate stops a pod being deleted, gracefully, then deletes it.
func (a *Agent) terminate(ctx context.Context, pod *api.Pod) error {
	grace := gracePeriod(pod)
	if pod.DeletionTimestamp != nil {
		if left := time.Until(*pod.DeletionTimestamp); left < grace {
			grace = max(left, 0)
		}
	}
	if err := a.killPod(ctx, pod.UID, grace); err != nil {
		return err
	}
	err := a.cfg.Client.Pods(pod.Namespace).Delete(ctx, pod.Name, client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](0)})
	if err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("deleting terminated pod %s: %w", pod.Key(), err)
	}
	a.log.Info("pod terminated", "pod", pod.Key())
	return nil
}

// killPod stops and removes every container and the sandbox of a pod,
// containers first (they share the sandbox's network), and its volumes.
func (a *Agent) killPod(ctx context.Context, uid string, grace time.Duration) error {
	a.prober.RemovePod(uid)
	cs, err := a.rt.ListContainers(ctx, a.filter(uid))
	if err != nil {
		return err
	}
	errs := make(chan error, len(cs))
	for _, c := range cs {
		go func() {
			if c.State == runtime.ContainerRunning {
				if err := a.rt.StopContainer(ctx, c.ID, grace); err != nil {
					errs <- err
					return
				}
			}
			errs <- a.rt.RemoveContainer(ctx, c.ID)
		}()
	}
	for range cs {
		if err := <-errs; err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("stopping containers of pod %s: %w", uid, err)
		}
	}
	sbs, err := a.rt.ListSandboxes(ctx, a.filter(uid))
	if err != nil {
		return err
	}
	for _, sb := range sbs {
		_ = a.rt.StopSandbox(ctx, sb.ID, time.Second)
		if err := a.rt.RemoveSandbox(ctx, sb.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("removing sandbox of pod %s: %w", uid, err)
		}
	}
	a.restarts.forget(uid + "/")
	a.pulls.forget(uid + "/")
	a.forgetWaiting(uid)
	a.mu.Lock()
	for k := range a.exits {
		if len(k) > len(uid) && k[:len(uid)+1] == uid+"/" {
			delete(a.exits, k)
		}
	}
	a.mu.Unlock()
	return a.volumes.Cleanup(uid)
}

// forgetPod handles a pod that left the API (or this node) while the agent
// may still run its containers.
func (a *Agent) forgetPod(ctx context.Context, key string) error {
	a.mu.Lock()
	var uids []string
	for uid, k := range a.known {
		if k == key {
			uids = append(uids, uid)
		}
	}
	a.mu.Unlock()
	for _, uid := range uids {
		if err := a.killPod(ctx, uid, 0); err != nil {
			return err
		}
		a.mu.Lock()
		delete(a.known, uid)
		a.mu.Unlock()
	}
	return nil
}

func (a *Agent) serviceEnv(pod *api.Pod) []string {
	if a.cfg.ServiceEnv == nil {
		return nil
	}
	return a.cfg.ServiceEnv(pod.Namespace)
}

// shouldRestart applies the restart policy to a container that is not running.
func shouldRestart(policy api.RestartPolicy, c *runtime.Container) bool {
	if c.State != runtime.ContainerExited {
		return true // created but never started, or unknown: start it
	}
	switch policy {
	case api.RestartNever:
		return false
	case api.RestartOnFailure:
		return c.ExitCode != 0
	}
	return true
}

// latest returns the newest attempt of a container.
func latest(cs []runtime.Container, name string) *runtime.Container {
	var out *runtime.Container
	for i := range cs {
		if cs[i].Name == name && (out == nil || cs[i].Attempt > out.Attempt) {
			out = &cs[i]
		}
	}
	return out
}

// containerHash identifies a container spec, with the pod's security
// context where it applies; a change means a new container. A container
// without a security context hashes as it did before they existed, so
// upgrading the agent restarts nothing.
func containerHash(spec *api.PodSpec, c *api.Container) string {
	b, _ := json.Marshal(c)
	if eff := api.EffectiveSecurityContext(spec, c); eff != nil && (c.SecurityContext == nil || *eff != *c.SecurityContext) {
		sc, _ := json.Marshal(eff)
		b = append(b, sc...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func resources(c *api.Container) runtime.Resources {
	var r runtime.Resources
	if q, ok := c.Resources.Requests[api.ResourceCPU]; ok {
		r.CPURequestMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Limits[api.ResourceCPU]; ok {
		r.CPULimitMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Limits[api.ResourceMemory]; ok {
		r.MemoryLimit = q.Value()
	}
	return r
}

func gracePeriod(pod *api.Pod) time.Duration {
	if g := pod.DeletionGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return time.Duration(api.Deref(pod.Spec.TerminationGracePeriodSeconds, api.DefaultTerminationGracePeriodSeconds)) * time.Second
}

// countExit counts an exited container toward its restart backoff, once:
// the delay runs from when it finished.
func (a *Agent) countExit(key string, c *runtime.Container) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.exits[key] == c.ID {
		return 0, false
	}
	a.exits[key] = c.ID
	finished := c.FinishedAt
	if finished.IsZero() {
		finished = time.Now()
	}
	return a.restarts.next(key, finished), true
}

func (a *Agent) setWaiting(key, reason, message string) {
	a.mu.Lock()
	a.waiting[key] = api.ContainerStateWaiting{Reason: reason, Message: message}
	a.mu.Unlock()
}

func (a *Agent) setWaitingAll(pod *api.Pod, reason, message string) {
	for _, cs := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			a.setWaiting(pod.UID+"/"+c.Name, reason, message)
		}
	}
}

func (a *Agent) clearWaiting(key string) {
	a.mu.Lock()
	delete(a.waiting, key)
	a.mu.Unlock()
}

func (a *Agent) waitingFor(key string) (api.ContainerStateWaiting, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.waiting[key]
	return w, ok
}

func (a *Agent) forgetWaiting(uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k := range a.waiting {
		if len(k) > len(uid) && k[:len(uid)+1] == uid+"/" {
			delete(a.waiting, k)
		}
	}
}
