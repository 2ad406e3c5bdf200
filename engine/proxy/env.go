package proxy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// ServiceEnv is the environment Kubernetes-style programs expect for the
// services of a namespace: NAME_SERVICE_HOST, NAME_SERVICE_PORT and
// NAME_SERVICE_PORT_<PORTNAME>, plus the Docker-link variables
// (NAME_PORT=tcp://ip:port, NAME_PORT_80_TCP_ADDR, ...). Headless and
// unallocated services have none. The result is sorted.
func ServiceEnv(services []*api.Service) []string {
	var env []string
	for _, s := range services {
		ip, err := netip.ParseAddr(s.Spec.ClusterIP)
		if err != nil || len(s.Spec.Ports) == 0 {
			continue
		}
		name := envName(s.Name)
		host := ip.String()
		first := s.Spec.Ports[0]
		env = append(env, name+"_SERVICE_HOST="+host, fmt.Sprintf("%s_SERVICE_PORT=%d", name, first.Port))
		for _, p := range s.Spec.Ports {
			proto := strings.ToLower(string(cmp.Or(p.Protocol, api.ProtocolTCP)))
			if p.Name != "" {
				env = append(env, fmt.Sprintf("%s_SERVICE_PORT_%s=%d", name, envName(p.Name), p.Port))
			}
			prefix := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, strings.ToUpper(proto))
			url := fmt.Sprintf("%s://%s", proto, netip.AddrPortFrom(ip, uint16(p.Port)))
			env = append(env, prefix+"="+url, prefix+"_PROTO="+proto, fmt.Sprintf("%s_PORT=%d", prefix, p.Port), prefix+"_ADDR="+host)
		}
		env = append(env, fmt.Sprintf("%s_PORT=%s://%s", name, strings.ToLower(string(cmp.Or(first.Protocol, api.ProtocolTCP))),
			netip.AddrPortFrom(ip, uint16(first.Port))))
	}
	slices.Sort(env)
	return env
}

func envName(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}
