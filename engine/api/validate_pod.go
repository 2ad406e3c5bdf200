package api

import (
	"path"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

// DNS policies.
const (
	DNSClusterFirst = "ClusterFirst"
	DNSDefault      = "Default"
	DNSNone         = "None"
)

func validatePodSpec(s *PodSpec, p Path) ErrorList {
	var errs ErrorList
	volumes, verrs := validateVolumes(s.Volumes, p.Child("volumes"))
	errs = append(errs, verrs...)
	if len(s.Containers) == 0 {
		errs = append(errs, Required(p.Child("containers"), "a pod needs at least one container"))
	}
	names := map[string]bool{}
	portNames := map[string]bool{}
	errs = append(errs, validateContainers(s, s.InitContainers, p.Child("initContainers"), volumes, names, portNames, true)...)
	errs = append(errs, validateContainers(s, s.Containers, p.Child("containers"), volumes, names, portNames, false)...)
	errs = append(errs, validatePodSecurityContext(s.SecurityContext, p.Child("securityContext"))...)
	errs = append(errs, validatePullSecrets(s.ImagePullSecrets, p.Child("imagePullSecrets"))...)
	switch s.RestartPolicy {
	case RestartAlways, RestartOnFailure, RestartNever:
	default:
		errs = append(errs, NotSupported(p.Child("restartPolicy"), s.RestartPolicy, RestartAlways, RestartOnFailure, RestartNever))
	}
	switch s.DNSPolicy {
	case DNSClusterFirst, DNSDefault, DNSNone:
	default:
		errs = append(errs, NotSupported(p.Child("dnsPolicy"), s.DNSPolicy, DNSClusterFirst, DNSDefault, DNSNone))
	}
	errs = append(errs, validateOptionalSeconds(s.TerminationGracePeriodSeconds, 0, p.Child("terminationGracePeriodSeconds"))...)
	errs = append(errs, validateOptionalSeconds(s.ActiveDeadlineSeconds, 1, p.Child("activeDeadlineSeconds"))...)
	errs = append(errs, ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	if s.NodeName != "" {
		if msg := IsDNS1123Subdomain(s.NodeName); msg != "" {
			errs = append(errs, Invalid(p.Child("nodeName"), s.NodeName, msg))
		}
	}
	if s.Hostname != "" {
		if msg := IsDNS1123Label(s.Hostname); msg != "" {
			errs = append(errs, Invalid(p.Child("hostname"), s.Hostname, msg))
		}
	}
	errs = append(errs, validateAffinity(s.Affinity, p.Child("affinity"))...)
	errs = append(errs, validateTolerations(s.Tolerations, p.Child("tolerations"))...)
	errs = append(errs, validateTopologySpread(s.TopologySpreadConstraints, p.Child("topologySpreadConstraints"))...)
	return errs
}

func validateContainers(pod *PodSpec, cs []Container, p Path, volumes map[string]bool, names, portNames map[string]bool, init bool) ErrorList {
	var errs ErrorList
	for i := range cs {
		c := &cs[i]
		cp := p.Index(i)
		if c.Name == "" {
			errs = append(errs, Required(cp.Child("name"), ""))
		} else if msg := IsDNS1123Label(c.Name); msg != "" {
			errs = append(errs, Invalid(cp.Child("name"), c.Name, msg))
		} else if names[c.Name] {
			errs = append(errs, Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		if c.Image == "" && len(c.Command) == 0 {
			errs = append(errs, Required(cp.Child("image"), "set an image, or a command for the process runtime"))
		}
		switch c.ImagePullPolicy {
		case PullAlways, PullIfNotPresent, PullNever:
		default:
			errs = append(errs, NotSupported(cp.Child("imagePullPolicy"), c.ImagePullPolicy, PullAlways, PullIfNotPresent, PullNever))
		}
		errs = append(errs, validateContainerPorts(c.Ports, cp.Child("ports"), portNames)...)
		errs = append(errs, validateEnv(c.Env, cp.Child("env"))...)
		errs = append(errs, validateEnvFrom(c.EnvFrom, cp.Child("envFrom"))...)
		errs = append(errs, validateResources(&c.Resources, cp.Child("resources"))...)
		errs = append(errs, validateVolumeMounts(c.VolumeMounts, cp.Child("volumeMounts"), volumes)...)
		errs = append(errs, validateSecurityContext(pod, c, cp.Child("securityContext"))...)
		if init {
			// Report each probe at its own path, so the error names the field the user set.
			for _, pr := range []struct {
				name  string
				probe *Probe
			}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
				if pr.probe != nil {
					errs = append(errs, Forbidden(cp.Child(pr.name), "init containers may not have probes"))
				}
			}
			continue
		}
		errs = append(errs, validateProbe(c.LivenessProbe, cp.Child("livenessProbe"), true)...)
		errs = append(errs, validateProbe(c.ReadinessProbe, cp.Child("readinessProbe"), false)...)
		errs = append(errs, validateProbe(c.StartupProbe, cp.Child("startupProbe"), true)...)
	}
	return errs
}

func validateContainerPorts(ports []ContainerPort, p Path, names map[string]bool) ErrorList {
	var errs ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			if msg := IsIANASvcName(port.Name); msg != "" {
				errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
			} else if names[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		errs = append(errs, validatePort(port.ContainerPort, pp.Child("containerPort"))...)
		if port.HostPort != 0 {
			errs = append(errs, validatePort(port.HostPort, pp.Child("hostPort"))...)
		}
		if port.HostIP != "" {
			if msg := IsIP(port.HostIP); msg != "" {
				errs = append(errs, Invalid(pp.Child("hostIP"), port.HostIP, msg))
			}
		}
		errs = append(errs, validateProtocol(port.Protocol, pp.Child("protocol"))...)
	}
	return errs
}

func validateEnv(env []EnvVar, p Path) ErrorList {
	var errs ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, Required(ep.Child("name"), ""))
		} else if msg := IsEnvVarName(e.Name); msg != "" {
			errs = append(errs, Invalid(ep.Child("name"), e.Name, msg))
		}
		if e.ValueFrom == nil {
			continue
		}
		if e.Value != "" {
			errs = append(errs, Forbidden(ep.Child("valueFrom"), "may not be set together with value"))
		}
		vp := ep.Child("valueFrom")
		set := 0
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			set++
			errs = append(errs, validateKeySelector(r, vp.Child("configMapKeyRef"))...)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			set++
			errs = append(errs, validateKeySelector(r, vp.Child("secretKeyRef"))...)
		}
		if r := e.ValueFrom.FieldRef; r != nil {
			set++
			if !supportedFieldRefs[r.FieldPath] {
				errs = append(errs, NotSupported(vp.Child("fieldRef").Child("fieldPath"), r.FieldPath, sortedKeys(supportedFieldRefs)...))
			}
		}
		if set != 1 {
			errs = append(errs, Invalid(vp, "", "must set exactly one of configMapKeyRef, secretKeyRef or fieldRef"))
		}
	}
	return errs
}

// supportedFieldRefs are the pod fields containers can read through env.
var supportedFieldRefs = map[string]bool{
	"metadata.name": true, "metadata.namespace": true, "metadata.uid": true,
	"spec.nodeName": true, "status.podIP": true, "status.hostIP": true,
}

func validateKeySelector(r *KeySelector, p Path) ErrorList {
	errs := validateSubdomainRef(r.Name, p.Child("name"))
	if r.Key == "" {
		errs = append(errs, Required(p.Child("key"), ""))
	} else if msg := IsConfigKey(r.Key); msg != "" {
		errs = append(errs, Invalid(p.Child("key"), r.Key, msg))
	}
	return errs
}

func validateEnvFrom(env []EnvFromSource, p Path) ErrorList {
	var errs ErrorList
	for i, e := range env {
		ep := p.Index(i)
		switch {
		case e.ConfigMapRef != nil && e.SecretRef == nil:
			errs = append(errs, validateSubdomainRef(e.ConfigMapRef.Name, ep.Child("configMapRef").Child("name"))...)
		case e.SecretRef != nil && e.ConfigMapRef == nil:
			errs = append(errs, validateSubdomainRef(e.SecretRef.Name, ep.Child("secretRef").Child("name"))...)
		default:
			errs = append(errs, Invalid(ep, "", "must set exactly one of configMapRef or secretRef"))
		}
		if e.Prefix != "" {
			if msg := IsEnvVarName(e.Prefix); msg != "" {
				errs = append(errs, Invalid(ep.Child("prefix"), e.Prefix, msg))
			}
		}
	}
	return errs
}

func validateResources(r *ResourceRequirements, p Path) ErrorList {
	var errs ErrorList
	for _, set := range []struct {
		name string
		list ResourceList
	}{{"requests", r.Requests}, {"limits", r.Limits}} {
		for _, name := range sortedKeys(set.list) {
			q := set.list[name]
			rp := p.Child(set.name).Key(string(name))
			switch name {
			case ResourceCPU, ResourceMemory:
			default:
				errs = append(errs, NotSupported(rp, name, ResourceCPU, ResourceMemory))
				continue
			}
			if q.Sign() < 0 {
				errs = append(errs, Invalid(rp, q.String(), "must be greater than or equal to 0"))
			}
			if name == ResourceMemory && q.MilliValue()%1000 != 0 {
				errs = append(errs, Invalid(rp, q.String(), "memory must be a whole number of bytes"))
			}
		}
	}
	for _, name := range sortedKeys(r.Requests) {
		if limit, ok := r.Limits[name]; ok && r.Requests[name].Cmp(limit) > 0 {
			errs = append(errs, Invalid(p.Child("requests").Key(string(name)), r.Requests[name].String(),
				"must be less than or equal to the "+string(name)+" limit of "+limit.String()))
		}
	}
	return errs
}

func validateVolumes(vs []Volume, p Path) (map[string]bool, ErrorList) {
	var errs ErrorList
	names := map[string]bool{}
	for i, v := range vs {
		vp := p.Index(i)
		if msg := IsDNS1123Label(v.Name); v.Name == "" {
			errs = append(errs, Required(vp.Child("name"), ""))
		} else if msg != "" {
			errs = append(errs, Invalid(vp.Child("name"), v.Name, msg))
		} else if names[v.Name] {
			errs = append(errs, Duplicate(vp.Child("name"), v.Name))
		}
		names[v.Name] = true
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

func validateVolumeSource(s *VolumeSource, p Path) ErrorList {
	var errs ErrorList
	set := 0
	if s.EmptyDir != nil {
		set++
		if s.EmptyDir.Medium != "" && s.EmptyDir.Medium != "Memory" {
			errs = append(errs, NotSupported(p.Child("emptyDir").Child("medium"), s.EmptyDir.Medium, "", "Memory"))
		}
		if q := s.EmptyDir.SizeLimit; q != nil && q.Sign() < 0 {
			errs = append(errs, Invalid(p.Child("emptyDir").Child("sizeLimit"), q.String(), "must be greater than or equal to 0"))
		}
	}
	if s.HostPath != nil {
		set++
		if !path.IsAbs(s.HostPath.Path) {
			errs = append(errs, Invalid(p.Child("hostPath").Child("path"), s.HostPath.Path, "must be an absolute path"))
		}
		switch s.HostPath.Type {
		case "", "Directory", "DirectoryOrCreate", "File", "FileOrCreate":
		default:
			errs = append(errs, NotSupported(p.Child("hostPath").Child("type"), s.HostPath.Type, "", "Directory", "DirectoryOrCreate", "File", "FileOrCreate"))
		}
	}
	if s.ConfigMap != nil {
		set++
		cp := p.Child("configMap")
		errs = append(errs, validateSubdomainRef(s.ConfigMap.Name, cp.Child("name"))...)
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, s.ConfigMap.DefaultMode, cp)...)
	}
	if s.Secret != nil {
		set++
		sp := p.Child("secret")
		errs = append(errs, validateSubdomainRef(s.Secret.SecretName, sp.Child("secretName"))...)
		errs = append(errs, validateKeyToPaths(s.Secret.Items, s.Secret.DefaultMode, sp)...)
	}
	if s.Persistent != nil {
		set++
		errs = append(errs, validateDNSLabelRef(s.Persistent.Name, p.Child("persistent").Child("name"))...)
	}
	if set != 1 {
		errs = append(errs, Invalid(p, "", "must set exactly one of emptyDir, hostPath, configMap, secret or persistent"))
	}
	return errs
}

func validateKeyToPaths(items []KeyToPath, defaultMode *int32, p Path) ErrorList {
	var errs ErrorList
	errs = append(errs, validateFileMode(defaultMode, p.Child("defaultMode"))...)
	for i, it := range items {
		ip := p.Child("items").Index(i)
		if msg := IsConfigKey(it.Key); msg != "" {
			errs = append(errs, Invalid(ip.Child("key"), it.Key, msg))
		}
		if it.Path == "" || path.IsAbs(it.Path) || path.Clean(it.Path) != it.Path || it.Path == ".." || len(it.Path) > 2 && it.Path[:3] == "../" {
			errs = append(errs, Invalid(ip.Child("path"), it.Path, "must be a relative path without '..'"))
		}
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

func validateFileMode(mode *int32, p Path) ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return ErrorList{Invalid(p, strconv.FormatInt(int64(*mode), 8), "must be a file mode between 0 and 0777 (octal)")}
	}
	return nil
}

func validateVolumeMounts(ms []VolumeMount, p Path, volumes map[string]bool) ErrorList {
	var errs ErrorList
	paths := map[string]bool{}
	for i, m := range ms {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, Required(mp.Child("name"), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, Invalid(mp.Child("name"), m.Name, "no volume of that name in spec.volumes"))
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, Required(mp.Child("mountPath"), ""))
		case !path.IsAbs(m.MountPath):
			errs = append(errs, Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		case paths[path.Clean(m.MountPath)]:
			errs = append(errs, Duplicate(mp.Child("mountPath"), m.MountPath))
		}
		paths[path.Clean(m.MountPath)] = true
		if m.SubPath != "" && (path.IsAbs(m.SubPath) || path.Clean(m.SubPath) != m.SubPath || m.SubPath == ".." || len(m.SubPath) > 2 && m.SubPath[:3] == "../") {
			errs = append(errs, Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
		}
	}
	return errs
}

func validateProbe(pr *Probe, p Path, successMustBeOne bool) ErrorList {
	if pr == nil {
		return nil
	}
	var errs ErrorList
	set := 0
	if pr.Exec != nil {
		set++
		if len(pr.Exec.Command) == 0 {
			errs = append(errs, Required(p.Child("exec").Child("command"), ""))
		}
	}
	if h := pr.HTTPGet; h != nil {
		set++
		hp := p.Child("httpGet")
		errs = append(errs, validateTargetPort(h.Port, hp.Child("port"))...)
		if h.Scheme != "HTTP" && h.Scheme != "HTTPS" {
			errs = append(errs, NotSupported(hp.Child("scheme"), h.Scheme, "HTTP", "HTTPS"))
		}
		if h.Path != "" && h.Path[0] != '/' {
			errs = append(errs, Invalid(hp.Child("path"), h.Path, "must start with '/'"))
		}
	}
	if t := pr.TCPSocket; t != nil {
		set++
		errs = append(errs, validateTargetPort(t.Port, p.Child("tcpSocket").Child("port"))...)
	}
	if set != 1 {
		errs = append(errs, Invalid(p, "", "must set exactly one of exec, httpGet or tcpSocket"))
	}
	errs = append(errs, validateNonNegative(pr.InitialDelaySeconds, p.Child("initialDelaySeconds"))...)
	errs = append(errs, validateAtLeast(pr.TimeoutSeconds, 1, p.Child("timeoutSeconds"))...)
	errs = append(errs, validateAtLeast(pr.PeriodSeconds, 1, p.Child("periodSeconds"))...)
	errs = append(errs, validateAtLeast(pr.SuccessThreshold, 1, p.Child("successThreshold"))...)
	errs = append(errs, validateAtLeast(pr.FailureThreshold, 1, p.Child("failureThreshold"))...)
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1 for liveness and startup probes"))
	}
	return errs
}

// validateQuantityPositive is shared by autoscaler targets and limits.
func validateQuantityPositive(q *resource.Quantity, p Path) ErrorList {
	if q != nil && q.Sign() <= 0 {
		return ErrorList{Invalid(p, q.String(), "must be greater than 0")}
	}
	return nil
}
