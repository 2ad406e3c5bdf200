package allocator

import (
	"context"
	"net/netip"

	"github.com/maestro-dev/maestro/engine/api"
)

// Released frees the claims of a deleted Service. A failure is logged:
// repair frees what is left after its grace period.
func (a *Allocator) Released(ctx context.Context, obj api.Object) {
	svc, ok := obj.(*api.Service)
	if !ok {
		return
	}
	o := ownerOf(svc)
	free := func(p *pool, v string) {
		if err := a.release(ctx, p, v, o); err != nil {
			a.log.Warn("releasing a deleted service's claim failed; repair will free it",
				"namespace", svc.Namespace, "service", svc.Name, "value", v, "err", err)
		}
	}
	if v, ok := ipClaimValue(a.ips, svc.Spec.ClusterIP); ok {
		free(a.ips, v)
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			free(a.ports, portString(p.NodePort))
		}
	}
}

// ipClaimValue is the claim name of a service's cluster IP (canonical
// form), or false for none.
func ipClaimValue(p *pool, ip string) (string, bool) {
	if ip == "" || ip == headless {
		return "", false
	}
	if off, ok := p.parse(ip); ok {
		return p.format(off), true
	}
	a, err := netip.ParseAddr(ip) // outside the range: claimed under an earlier one
	if err != nil {
		return "", false
	}
	return a.String(), true
}
