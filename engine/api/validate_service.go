package api

func validateServiceSpec(s *ServiceSpec, p Path) ErrorList {
	var errs ErrorList
	switch s.Type {
	case ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer:
	default:
		errs = append(errs, NotSupported(p.Child("type"), s.Type, ServiceTypeClusterIP, ServiceTypeNodePort, ServiceTypeLoadBalancer))
	}
	switch s.SessionAffinity {
	case SessionAffinityNone, SessionAffinityClientIP:
	default:
		errs = append(errs, NotSupported(p.Child("sessionAffinity"), s.SessionAffinity, SessionAffinityNone, SessionAffinityClientIP))
	}
	headless := s.ClusterIP == "None"
	if s.ClusterIP != "" && !headless {
		if msg := IsIP(s.ClusterIP); msg != "" {
			errs = append(errs, Invalid(p.Child("clusterIP"), s.ClusterIP, msg+" or \"None\""))
		}
	}
	if headless && s.Type != ServiceTypeClusterIP {
		errs = append(errs, Invalid(p.Child("clusterIP"), s.ClusterIP, "a headless service must have type ClusterIP"))
	}
	errs = append(errs, ValidateLabels(s.Selector, p.Child("selector"))...)
	if len(s.Ports) == 0 && !headless {
		errs = append(errs, Required(p.Child("ports"), "at least one port"))
	}
	names := map[string]bool{}
	ports := map[string]bool{}
	for i, port := range s.Ports {
		pp := p.Child("ports").Index(i)
		switch {
		case port.Name == "" && len(s.Ports) > 1:
			errs = append(errs, Required(pp.Child("name"), "ports must be named when a service has more than one"))
		case port.Name != "":
			if msg := IsIANASvcName(port.Name); msg != "" {
				errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
			} else if names[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		errs = append(errs, validatePort(port.Port, pp.Child("port"))...)
		errs = append(errs, validateProtocol(port.Protocol, pp.Child("protocol"))...)
		if id := string(port.Protocol) + "/" + itoa(int64(port.Port)); ports[id] {
			errs = append(errs, Duplicate(pp.Child("port"), id))
		} else {
			ports[id] = true
		}
		if !port.TargetPort.IsZero() {
			errs = append(errs, validateTargetPort(port.TargetPort, pp.Child("targetPort"))...)
		}
		if port.NodePort != 0 {
			if s.Type == ServiceTypeClusterIP {
				errs = append(errs, Forbidden(pp.Child("nodePort"), "may only be set when type is NodePort or LoadBalancer"))
			} else {
				errs = append(errs, validatePort(port.NodePort, pp.Child("nodePort"))...)
			}
		}
	}
	return errs
}

func validateEndpoints(e *Endpoints) ErrorList {
	var errs ErrorList
	for i, s := range e.Subsets {
		sp := NewPath("subsets").Index(i)
		for j, a := range s.Addresses {
			if msg := IsIP(a.IP); msg != "" {
				errs = append(errs, Invalid(sp.Child("addresses").Index(j).Child("ip"), a.IP, msg))
			}
		}
		for j, a := range s.NotReadyAddresses {
			if msg := IsIP(a.IP); msg != "" {
				errs = append(errs, Invalid(sp.Child("notReadyAddresses").Index(j).Child("ip"), a.IP, msg))
			}
		}
		for j, port := range s.Ports {
			errs = append(errs, validatePort(port.Port, sp.Child("ports").Index(j).Child("port"))...)
			errs = append(errs, validateProtocol(port.Protocol, sp.Child("ports").Index(j).Child("protocol"))...)
		}
	}
	return errs
}
