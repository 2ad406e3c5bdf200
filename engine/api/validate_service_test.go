package api

import "testing"

func service(mut func(*Service)) *Service { return defaulted(baseService(), mut) }

func endpoints(mut func(*Endpoints)) *Endpoints { return defaulted(baseEndpoints(), mut) }

func withPorts(ports ...ServicePort) func(*Service) {
	return func(s *Service) { s.Spec.Ports = ports }
}

func tcpPort(name string, port int32) ServicePort {
	return ServicePort{Name: name, Port: port, Protocol: ProtocolTCP, TargetPort: FromInt(port)}
}

func TestValidateServiceInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"name not a DNS label", service(func(s *Service) { s.Name = "Web" }), []string{"invalid metadata.name"}},
		{"name with a dot", service(func(s *Service) { s.Name = "web.internal" }), []string{"invalid metadata.name"}},
		{"type unknown", service(func(s *Service) { s.Spec.Type = "ExternalName" }), []string{"unsupported spec.type"}},
		{"type empty when not defaulted", service(func(s *Service) { s.Spec.Type = "" }), []string{"unsupported spec.type"}},
		{"session affinity unknown", service(func(s *Service) { s.Spec.SessionAffinity = "Cookie" }), []string{"unsupported spec.sessionAffinity"}},
		{"cluster IP not an IP", service(func(s *Service) { s.Spec.ClusterIP = "10.0.0.300" }), []string{"invalid spec.clusterIP"}},
		{"headless NodePort service", service(func(s *Service) { s.Spec.ClusterIP = "None"; s.Spec.Type = ServiceTypeNodePort }),
			[]string{"invalid spec.clusterIP"}},
		{"no ports", service(withPorts()), []string{"required spec.ports"}},
		{"second port unnamed", service(withPorts(tcpPort("http", 80), tcpPort("", 443))), []string{"required spec.ports[1].name"}},
		{"duplicate port names", service(withPorts(tcpPort("http", 80), tcpPort("http", 8080))), []string{"duplicate spec.ports[1].name"}},
		{"port name invalid", service(withPorts(tcpPort("HTTP", 80))), []string{"invalid spec.ports[0].name"}},
		{"port 0", service(withPorts(tcpPort("http", 0))), []string{"invalid spec.ports[0].port"}},
		{"port 65536", service(func(s *Service) { s.Spec.Ports[0].Port = 65536 }), []string{"invalid spec.ports[0].port"}},
		{"protocol SCTP", service(func(s *Service) { s.Spec.Ports[0].Protocol = "SCTP" }), []string{"unsupported spec.ports[0].protocol"}},
		{"same port and protocol twice", service(withPorts(tcpPort("http", 80), tcpPort("web", 80))), []string{"duplicate spec.ports[1].port"}},
		{"target port 70000", service(func(s *Service) { s.Spec.Ports[0].TargetPort = FromInt(70000) }), []string{"invalid spec.ports[0].targetPort"}},
		{"target port name invalid", service(func(s *Service) { s.Spec.Ports[0].TargetPort = FromString("Http") }), []string{"invalid spec.ports[0].targetPort"}},
		{"node port on a ClusterIP service", service(func(s *Service) { s.Spec.Ports[0].NodePort = 30080 }), []string{"forbidden spec.ports[0].nodePort"}},
		{"node port out of range", service(func(s *Service) {
			s.Spec.Type = ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 70000
		}), []string{"invalid spec.ports[0].nodePort"}},
		{"selector key invalid", service(func(s *Service) { s.Spec.Selector = map[string]string{"bad key": "web"} }), []string{`invalid spec.selector["bad key"]`}},
		{"selector value invalid", service(func(s *Service) { s.Spec.Selector = map[string]string{"app": "web app"} }), []string{`invalid spec.selector["app"]`}},
		{"namespace missing", service(func(s *Service) { s.Namespace = "" }), []string{"required metadata.namespace"}},
	})
}

func TestValidateEndpointsInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"address not an IP", endpoints(func(e *Endpoints) { e.Subsets[0].Addresses[0].IP = "10.1.0" }), []string{"invalid subsets[0].addresses[0].ip"}},
		{"address missing", endpoints(func(e *Endpoints) { e.Subsets[0].Addresses[0].IP = "" }), []string{"invalid subsets[0].addresses[0].ip"}},
		{"not-ready address not an IP", endpoints(func(e *Endpoints) {
			e.Subsets[0].NotReadyAddresses = []EndpointAddress{{IP: "10.1.0.5"}, {IP: "pod-b"}}
		}), []string{"invalid subsets[0].notReadyAddresses[1].ip"}},
		{"port 0", endpoints(func(e *Endpoints) { e.Subsets[0].Ports[0].Port = 0 }), []string{"invalid subsets[0].ports[0].port"}},
		{"protocol SCTP", endpoints(func(e *Endpoints) { e.Subsets[0].Ports[0].Protocol = "SCTP" }), []string{"unsupported subsets[0].ports[0].protocol"}},
		{"second subset broken", endpoints(func(e *Endpoints) {
			e.Subsets = append(e.Subsets, EndpointSubset{Addresses: []EndpointAddress{{IP: "::g"}}, Ports: []EndpointPort{{Port: 99999, Protocol: ProtocolUDP}}})
		}), []string{"invalid subsets[1].addresses[0].ip", "invalid subsets[1].ports[0].port"}},
		{"name with a dot", endpoints(func(e *Endpoints) { e.Name = "web.v1" }), []string{"invalid metadata.name"}},
	})
}
