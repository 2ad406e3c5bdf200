package api

import "net/netip"

// maxConfigBytes bounds config maps and secrets (etcd's request limit is
// about 1.5 MiB; leave room for metadata).
const maxConfigBytes = 1024 * 1024

func validateConfigMap(c *ConfigMap) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range sortedKeys(c.Data) {
		total += len(k) + len(c.Data[k])
		if msg := IsConfigKey(k); msg != "" {
			errs = append(errs, Invalid(NewPath("data").Key(k), k, msg))
		}
	}
	for _, k := range sortedKeys(c.BinaryData) {
		total += len(k) + len(c.BinaryData[k])
		if msg := IsConfigKey(k); msg != "" {
			errs = append(errs, Invalid(NewPath("binaryData").Key(k), k, msg))
		}
		if _, dup := c.Data[k]; dup {
			errs = append(errs, Duplicate(NewPath("binaryData").Key(k), k))
		}
	}
	if total > maxConfigBytes {
		errs = append(errs, TooLong(NewPath("data"), maxConfigBytes))
	}
	return errs
}

// validateSecret reports keys only, never values.
func validateSecret(s *Secret) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range sortedKeys(s.Data) {
		total += len(k) + len(s.Data[k])
		if msg := IsConfigKey(k); msg != "" {
			errs = append(errs, Invalid(NewPath("data").Key(k), k, msg))
		}
	}
	if total > maxConfigBytes {
		errs = append(errs, TooLong(NewPath("data"), maxConfigBytes))
	}
	if s.Type == "" {
		errs = append(errs, Required(NewPath("type"), ""))
	}
	return append(errs, validateTypedSecret(s)...)
}

func validateNodeSpec(s *NodeSpec, p Path) ErrorList {
	errs := validateTaints(s.Taints, p.Child("taints"))
	if s.PodCIDR != "" {
		if c, err := netip.ParsePrefix(s.PodCIDR); err != nil {
			errs = append(errs, Invalid(p.Child("podCIDR"), s.PodCIDR, "must be a CIDR such as 10.244.1.0/24"))
		} else if c.Masked() != c {
			errs = append(errs, Invalid(p.Child("podCIDR"), s.PodCIDR, "host bits are set; did you mean "+c.Masked().String()+"?"))
		}
	}
	return errs
}

func validateAutoscalerSpec(s *AutoscalerSpec, p Path) ErrorList {
	var errs ErrorList
	rp := p.Child("scaleTargetRef")
	if s.ScaleTargetRef.Kind != "Deployment" && s.ScaleTargetRef.Kind != "ReplicaSet" {
		errs = append(errs, NotSupported(rp.Child("kind"), s.ScaleTargetRef.Kind, "Deployment", "ReplicaSet"))
	}
	errs = append(errs, validateDNSLabelRef(s.ScaleTargetRef.Name, rp.Child("name"))...)
	min := Deref(s.MinReplicas, 1)
	errs = append(errs, validateAtLeast(min, 1, p.Child("minReplicas"))...)
	if s.MaxReplicas < min {
		errs = append(errs, Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to minReplicas ("+itoa(int64(min))+")"))
	}
	for i, m := range s.Metrics {
		mp := p.Child("metrics").Index(i).Child("resource")
		if m.Resource.Name != ResourceCPU && m.Resource.Name != ResourceMemory {
			errs = append(errs, NotSupported(mp.Child("name"), m.Resource.Name, ResourceCPU, ResourceMemory))
		}
		tp := mp.Child("target")
		switch m.Resource.Target.Type {
		case UtilizationMetric:
			if u := m.Resource.Target.AverageUtilization; u == nil {
				errs = append(errs, Required(tp.Child("averageUtilization"), "for type Utilization"))
			} else if *u < 1 {
				errs = append(errs, Invalid(tp.Child("averageUtilization"), *u, "must be greater than 0"))
			}
		case AverageValueMetric:
			if m.Resource.Target.AverageValue == nil {
				errs = append(errs, Required(tp.Child("averageValue"), "for type AverageValue"))
			}
			errs = append(errs, validateQuantityPositive(m.Resource.Target.AverageValue, tp.Child("averageValue"))...)
		default:
			errs = append(errs, NotSupported(tp.Child("type"), m.Resource.Target.Type, UtilizationMetric, AverageValueMetric))
		}
	}
	if b := s.Behavior; b != nil {
		for _, rule := range []struct {
			name  string
			rules *ScalingRules
		}{{"scaleUp", b.ScaleUp}, {"scaleDown", b.ScaleDown}} {
			if rule.rules != nil {
				errs = append(errs, validateScalingRules(rule.rules, p.Child("behavior").Child(rule.name))...)
			}
		}
	}
	return errs
}

// validateScalingRules holds autoscaling/v2's limits: a window of at most
// an hour, policies with a positive value over at most 30 minutes.
func validateScalingRules(r *ScalingRules, p Path) ErrorList {
	var errs ErrorList
	if r.StabilizationWindowSeconds != nil {
		if w := *r.StabilizationWindowSeconds; w < 0 || w > 3600 {
			errs = append(errs, Invalid(p.Child("stabilizationWindowSeconds"), w, "must be between 0 and 3600, inclusive"))
		}
	}
	if sp := r.SelectPolicy; sp != nil && *sp != MaxChangePolicySelect && *sp != MinChangePolicySelect && *sp != DisabledPolicySelect {
		errs = append(errs, NotSupported(p.Child("selectPolicy"), *sp, MaxChangePolicySelect, MinChangePolicySelect, DisabledPolicySelect))
	}
	if r.Policies != nil && len(r.Policies) == 0 {
		errs = append(errs, Required(p.Child("policies"), "at least one policy (or leave it out for the defaults)"))
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		if pol.Type != PodsScalingPolicy && pol.Type != PercentScalingPolicy {
			errs = append(errs, NotSupported(pp.Child("type"), pol.Type, PodsScalingPolicy, PercentScalingPolicy))
		}
		if pol.Value < 1 {
			errs = append(errs, Invalid(pp.Child("value"), pol.Value, "must be greater than 0"))
		}
		if pol.PeriodSeconds < 1 || pol.PeriodSeconds > 1800 {
			errs = append(errs, Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, "must be between 1 and 1800, inclusive"))
		}
	}
	return errs
}

func validateNodePoolSpec(s *NodePoolSpec, p Path) ErrorList {
	var errs ErrorList
	switch s.Provider {
	case ProviderLocal:
	case ProviderSSH:
		errs = append(errs, validateSSHPoolConfig(s.SSH, p.Child("ssh"))...)
	case ProviderAWS:
		if s.AWS == nil {
			errs = append(errs, Required(p.Child("aws"), "for provider aws"))
		} else {
			if s.AWS.Region == "" {
				errs = append(errs, Required(p.Child("aws").Child("region"), ""))
			}
			if s.AWS.AMI == "" {
				errs = append(errs, Required(p.Child("aws").Child("ami"), ""))
			}
		}
	case ProviderGCP:
		if s.GCP == nil {
			errs = append(errs, Required(p.Child("gcp"), "for provider gcp"))
		} else {
			if s.GCP.Project == "" {
				errs = append(errs, Required(p.Child("gcp").Child("project"), ""))
			}
			if s.GCP.Image == "" {
				errs = append(errs, Required(p.Child("gcp").Child("image"), ""))
			}
		}
	default:
		errs = append(errs, NotSupported(p.Child("provider"), s.Provider, ProviderLocal, ProviderSSH, ProviderAWS, ProviderGCP))
	}
	errs = append(errs, validateNonNegative(s.MinSize, p.Child("minSize"))...)
	if s.MaxSize < s.MinSize {
		errs = append(errs, Invalid(p.Child("maxSize"), s.MaxSize, "must be greater than or equal to minSize ("+itoa(int64(s.MinSize))+")"))
	}
	if s.Size != nil && (*s.Size < s.MinSize || *s.Size > s.MaxSize) {
		errs = append(errs, Invalid(p.Child("size"), *s.Size, "must be between minSize and maxSize, inclusive"))
	}
	errs = append(errs, ValidateLabels(s.Labels, p.Child("labels"))...)
	errs = append(errs, validateTaints(s.Taints, p.Child("taints"))...)
	errs = append(errs, validateNodePoolBehaviour(s, p)...)
	for i, z := range s.Zones {
		if z == "" {
			errs = append(errs, Required(p.Child("zones").Index(i), ""))
		}
	}
	return errs
}

// validateNodePoolBehaviour checks the rollout, drain and remediation
// settings.
func validateNodePoolBehaviour(s *NodePoolSpec, p Path) ErrorList {
	var errs ErrorList
	rp := p.Child("rollout")
	surge := validateIntOrPercent(s.Rollout.MaxSurge, rp.Child("maxSurge"))
	unavail := validateIntOrPercent(s.Rollout.MaxUnavailable, rp.Child("maxUnavailable"))
	errs = append(errs, surge...)
	errs = append(errs, unavail...)
	if len(surge)+len(unavail) == 0 && s.Rollout.MaxSurge != nil && s.Rollout.MaxUnavailable != nil &&
		isZeroIntOrPercent(s.Rollout.MaxSurge) && isZeroIntOrPercent(s.Rollout.MaxUnavailable) {
		errs = append(errs, Invalid(rp.Child("maxUnavailable"), s.Rollout.MaxUnavailable.String(), "may not be 0 when maxSurge is 0"))
	}
	errs = append(errs, validateOptionalSeconds(s.DrainTimeoutSeconds, 0, p.Child("drainTimeoutSeconds"))...)
	r, remp := s.Remediation, p.Child("remediation")
	errs = append(errs, validateOptionalSeconds(r.StartupTimeoutSeconds, 1, remp.Child("startupTimeoutSeconds"))...)
	errs = append(errs, validateOptionalSeconds(r.NotReadyTimeoutSeconds, 1, remp.Child("notReadyTimeoutSeconds"))...)
	errs = append(errs, validateIntOrPercent(r.MaxInFlight, remp.Child("maxInFlight"))...)
	return errs
}

// validateSSHPoolConfig checks an ssh pool's hosts and host key policy.
func validateSSHPoolConfig(c *SSHPoolConfig, p Path) ErrorList {
	if c == nil || len(c.Hosts) == 0 {
		return ErrorList{Required(p.Child("hosts"), "for provider ssh")}
	}
	var errs ErrorList
	seen := map[string]bool{}
	for i, h := range c.Hosts {
		switch {
		case h == "":
			errs = append(errs, Required(p.Child("hosts").Index(i), ""))
		case seen[h]:
			errs = append(errs, Duplicate(p.Child("hosts").Index(i), h))
		}
		seen[h] = true
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, Invalid(p.Child("port"), c.Port, "must be between 1 and 65535, inclusive"))
	}
	if len(c.HostKeys) == 0 && !c.InsecureIgnoreHostKey {
		errs = append(errs, Required(p.Child("hostKeys"), "pin the hosts' keys, or set insecureIgnoreHostKey to accept any key"))
	}
	if c.PrivateKeySecretRef == "" {
		errs = append(errs, Required(p.Child("privateKeySecretRef"), "the secret in maestro-system holding the SSH private key"))
	}
	return errs
}

func validateMachineSpec(s *MachineSpec, p Path) ErrorList {
	errs := validateDNSLabelRef(s.Pool, p.Child("pool"))
	switch s.Provider {
	case ProviderLocal, ProviderSSH, ProviderAWS, ProviderGCP:
	default:
		errs = append(errs, NotSupported(p.Child("provider"), s.Provider, ProviderLocal, ProviderSSH, ProviderAWS, ProviderGCP))
	}
	return errs
}

func validateEvent(e *Event) ErrorList {
	var errs ErrorList
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, Required(NewPath("involvedObject").Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, Required(NewPath("involvedObject").Child("name"), ""))
	}
	if e.Reason == "" {
		errs = append(errs, Required(NewPath("reason"), ""))
	}
	if e.Type != EventNormal && e.Type != EventWarning {
		errs = append(errs, NotSupported(NewPath("type"), e.Type, EventNormal, EventWarning))
	}
	return errs
}
