package api

// Security settings of pods and containers, as Kubernetes names them. The
// pod's apply to every container that does not set its own (the
// container's win); EffectiveSecurityContext merges them once, for the
// agent and the runtime.

// PodSecurityContext holds the identity a pod's containers run as unless
// a container says otherwise.
type PodSecurityContext struct {
	// RunAsUser is the uid of the containers' processes (default: the
	// image's user).
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is their primary gid (default: the image's, or 0).
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot refuses to start a container that would run as uid 0.
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
}

// SecurityContext holds one container's identity and privileges.
type SecurityContext struct {
	RunAsUser    *int64 `json:"runAsUser,omitempty"`
	RunAsGroup   *int64 `json:"runAsGroup,omitempty"`
	RunAsNonRoot *bool  `json:"runAsNonRoot,omitempty"`
	// ReadOnlyRootFilesystem mounts the image's file system read-only;
	// volumes stay as they are mounted.
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
	// Privileged gives the container every capability and the host's
	// devices.
	Privileged *bool `json:"privileged,omitempty"`
	// AllowPrivilegeEscalation false sets no_new_privs: setuid binaries
	// and file capabilities grant nothing.
	AllowPrivilegeEscalation *bool         `json:"allowPrivilegeEscalation,omitempty"`
	Capabilities             *Capabilities `json:"capabilities,omitempty"`
}

// Capability is a Linux capability, without the CAP_ prefix ("NET_ADMIN"),
// or ALL.
type Capability string

// CapabilityAll names every capability (to drop them all, say).
const CapabilityAll Capability = "ALL"

// Capabilities adds to and drops from the runtime's default set.
type Capabilities struct {
	Add  []Capability `json:"add,omitempty"`
	Drop []Capability `json:"drop,omitempty"`
}

// EffectiveSecurityContext is the container's security context with the
// pod's identity filled in where the container sets none; nil when
// neither sets anything.
func EffectiveSecurityContext(pod *PodSpec, c *Container) *SecurityContext {
	var out SecurityContext
	if c.SecurityContext != nil {
		out = *c.SecurityContext
	}
	if p := pod.SecurityContext; p != nil {
		if out.RunAsUser == nil {
			out.RunAsUser = p.RunAsUser
		}
		if out.RunAsGroup == nil {
			out.RunAsGroup = p.RunAsGroup
		}
		if out.RunAsNonRoot == nil {
			out.RunAsNonRoot = p.RunAsNonRoot
		}
	}
	if out == (SecurityContext{}) {
		return nil
	}
	return &out
}

// maxID bounds uids and gids (Linux ids are 32-bit; Kubernetes allows up
// to 2^31-1).
const maxID = 1<<31 - 1

func validatePodSecurityContext(s *PodSecurityContext, p Path) ErrorList {
	if s == nil {
		return nil
	}
	var errs ErrorList
	errs = append(errs, validateID(s.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateID(s.RunAsGroup, p.Child("runAsGroup"))...)
	if Deref(s.RunAsNonRoot, false) && s.RunAsUser != nil && *s.RunAsUser == 0 {
		errs = append(errs, Invalid(p.Child("runAsNonRoot"), true, "runAsUser is 0 (root); set a non-zero runAsUser or drop runAsNonRoot"))
	}
	return errs
}

// validateSecurityContext checks a container's context, and the merge
// with the pod's (runAsNonRoot with a root uid from either).
func validateSecurityContext(pod *PodSpec, c *Container, p Path) ErrorList {
	var errs ErrorList
	if s := c.SecurityContext; s != nil {
		errs = append(errs, validateID(s.RunAsUser, p.Child("runAsUser"))...)
		errs = append(errs, validateID(s.RunAsGroup, p.Child("runAsGroup"))...)
		if Deref(s.Privileged, false) && s.AllowPrivilegeEscalation != nil && !*s.AllowPrivilegeEscalation {
			errs = append(errs, Invalid(p.Child("allowPrivilegeEscalation"), false, "a privileged container always may escalate its privileges; drop one of the two"))
		}
		if caps := s.Capabilities; caps != nil {
			errs = append(errs, validateCapabilities(caps.Add, p.Child("capabilities").Child("add"))...)
			errs = append(errs, validateCapabilities(caps.Drop, p.Child("capabilities").Child("drop"))...)
		}
	}
	// Both from the pod: the pod's check reports it, once.
	own := c.SecurityContext != nil && (c.SecurityContext.RunAsUser != nil || c.SecurityContext.RunAsNonRoot != nil)
	if eff := EffectiveSecurityContext(pod, c); own && Deref(eff.RunAsNonRoot, false) && eff.RunAsUser != nil && *eff.RunAsUser == 0 {
		errs = append(errs, Invalid(p.Child("runAsNonRoot"), true, "the container would run as uid 0 (root); set a non-zero runAsUser or drop runAsNonRoot"))
	}
	return errs
}

func validateID(id *int64, p Path) ErrorList {
	if id != nil && (*id < 0 || *id > maxID) {
		return ErrorList{Invalid(p, *id, "must be between 0 and 2147483647")}
	}
	return nil
}

// validateCapabilities accepts names such as NET_ADMIN or CAP_NET_ADMIN
// (upper-case letters, digits and underscores) and ALL, each once.
func validateCapabilities(caps []Capability, p Path) ErrorList {
	var errs ErrorList
	seen := map[Capability]bool{}
	for i, c := range caps {
		cp := p.Index(i)
		if msg := isCapabilityName(string(c)); msg != "" {
			errs = append(errs, Invalid(cp, string(c), msg))
			continue
		}
		if seen[c] {
			errs = append(errs, Duplicate(cp, string(c)))
		}
		seen[c] = true
	}
	return errs
}

func isCapabilityName(s string) string {
	if s == "" {
		return "a capability name is required, such as NET_ADMIN or ALL"
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return "must be a capability name in upper case, such as NET_ADMIN or ALL"
		}
	}
	return ""
}
