package allocator

import (
	"context"
	"errors"
	"fmt"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// headless is the clusterIP of a service without one.
const headless = "None"

var (
	clusterIPPath = api.NewPath("spec").Child("clusterIP")
	portsPath     = api.NewPath("spec").Child("ports")
)

func nodePortPath(i int) api.Path { return portsPath.Index(i).Child("nodePort") }

// nodePortsAllowed reports whether a service type exposes node ports.
func nodePortsAllowed(typ string) bool {
	return typ == api.ServiceTypeNodePort || typ == api.ServiceTypeLoadBalancer
}

// Admit allocates on Service creates and updates; /status writes and
// other kinds pass untouched. Values the stored Service already has are
// kept as they are; new given values are checked and claimed; missing
// ones are allocated (except on dry runs, which claim nothing).
func (a *Allocator) Admit(ctx context.Context, attrs registry.Attributes) error {
	svc, ok := attrs.Object.(*api.Service)
	if !ok || attrs.Subresource != "" || attrs.Op == registry.OpDelete {
		return nil
	}
	old, _ := attrs.Old.(*api.Service)
	w := a.plan(svc, old)
	if errs := w.checkRanges(); len(errs) > 0 {
		return api.NewInvalid("Service", svc.Name, errs)
	}
	if attrs.DryRun {
		return w.checkFree(ctx)
	}
	err := w.claimGiven(ctx)
	if err == nil {
		err = w.allocateMissing(ctx)
	}
	if err != nil {
		w.rollback(ctx)
	}
	return err
}

// write is what one Service write needs from the allocator.
type write struct {
	a   *Allocator
	svc *api.Service
	o   owner
	// allocateIP: the service wants a cluster IP and has none.
	allocateIP bool
	// givenIP is a requested cluster IP the stored service does not hold.
	givenIP string
	// givenPorts index ports whose requested node port the stored service
	// does not hold (the first port of each number).
	givenPorts []int
	// missingPorts index ports that need a node port.
	missingPorts []int
	// held lists the claims this write made, to undo them on failure.
	held []heldClaim
}

type heldClaim struct {
	p *pool
	v string
}

// plan sorts the service's values into kept, given and missing.
func (a *Allocator) plan(svc, old *api.Service) *write {
	w := &write{a: a, svc: svc, o: ownerOf(svc)}
	switch ip := svc.Spec.ClusterIP; {
	case ip == headless:
	case ip == "":
		w.allocateIP = true
	case old != nil && old.Spec.ClusterIP == ip:
		// Claimed when the stored service got it.
	default:
		w.givenIP = ip
	}
	if !nodePortsAllowed(svc.Spec.Type) {
		return w
	}
	held := map[int32]bool{}
	if old != nil {
		for _, p := range old.Spec.Ports {
			held[p.NodePort] = p.NodePort != 0
		}
	}
	for i, p := range svc.Spec.Ports {
		switch {
		case p.NodePort == 0:
			w.missingPorts = append(w.missingPorts, i)
		case !held[p.NodePort]:
			w.givenPorts = append(w.givenPorts, i)
			// A number shared by two ports (TCP and UDP) is one claim.
			held[p.NodePort] = true
		}
	}
	return w
}

// checkRanges checks requested values without reading the store: inside
// their ranges, usable, and no node port twice for one protocol.
func (w *write) checkRanges() api.ErrorList {
	var errs api.ErrorList
	if w.givenIP != "" {
		ips := w.a.ips
		if off, ok := ips.parse(w.givenIP); !ok {
			errs = append(errs, api.Invalid(clusterIPPath, w.givenIP, "must be in "+ips.describe))
		} else if ips.unusable(off) {
			errs = append(errs, api.Invalid(clusterIPPath, w.givenIP, "is the network or broadcast address of "+ips.describe))
		} else {
			// The canonical form names the claim and is what is stored,
			// so "FD00::A" and "fd00::a" are one address.
			w.givenIP = ips.format(off)
			w.svc.Spec.ClusterIP = w.givenIP
		}
	}
	for _, i := range w.givenPorts {
		if n := w.svc.Spec.Ports[i].NodePort; !w.a.portRng.Contains(n) {
			errs = append(errs, api.Invalid(nodePortPath(i), n, "must be in "+w.a.ports.describe))
		}
	}
	type use struct {
		port  int32
		proto api.Protocol
	}
	seen := map[use]bool{}
	for i, p := range w.svc.Spec.Ports {
		if p.NodePort == 0 {
			continue
		}
		u := use{p.NodePort, p.Protocol}
		if seen[u] {
			errs = append(errs, api.Duplicate(nodePortPath(i), p.NodePort))
		}
		seen[u] = true
	}
	return errs
}

// checkFree is the dry run: requested values must not be claimed by
// another service. Nothing is written and nothing allocated.
func (w *write) checkFree(ctx context.Context) error {
	var errs api.ErrorList
	check := func(p *pool, v string, path api.Path, value any) error {
		_, err := w.a.heldBy(ctx, p, v, w.o)
		if errors.Is(err, errTaken) {
			errs = append(errs, takenError(p, path, value))
			return nil
		}
		return err
	}
	if w.givenIP != "" {
		if err := check(w.a.ips, w.givenIP, clusterIPPath, w.givenIP); err != nil {
			return err
		}
	}
	for _, i := range w.givenPorts {
		n := w.svc.Spec.Ports[i].NodePort
		if err := check(w.a.ports, portString(n), nodePortPath(i), n); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return api.NewInvalid("Service", w.svc.Name, errs)
	}
	return nil
}

// claimGiven claims every requested value, reporting all that are taken.
func (w *write) claimGiven(ctx context.Context) error {
	var errs api.ErrorList
	take := func(p *pool, v string, path api.Path, value any) error {
		err := w.a.claim(ctx, p, v, w.o)
		switch {
		case errors.Is(err, errTaken):
			errs = append(errs, takenError(p, path, value))
		case err != nil:
			return err
		default:
			w.held = append(w.held, heldClaim{p, v})
		}
		return nil
	}
	if w.givenIP != "" {
		if err := take(w.a.ips, w.givenIP, clusterIPPath, w.givenIP); err != nil {
			return err
		}
	}
	for _, i := range w.givenPorts {
		n := w.svc.Spec.Ports[i].NodePort
		if err := take(w.a.ports, portString(n), nodePortPath(i), n); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return api.NewInvalid("Service", w.svc.Name, errs)
	}
	return nil
}

// allocateMissing picks and claims a cluster IP and node ports the
// service lacks, and sets them on it.
func (w *write) allocateMissing(ctx context.Context) error {
	if w.allocateIP {
		v, err := w.a.allocate(ctx, w.a.ips, w.o, nil)
		if err != nil {
			return w.allocateError(w.a.ips, clusterIPPath, err)
		}
		w.held = append(w.held, heldClaim{w.a.ips, v})
		w.svc.Spec.ClusterIP = v
	}
	if len(w.missingPorts) == 0 {
		return nil
	}
	// The service's own node ports are claimed already; skip them
	// without a round trip.
	mine := map[uint64]bool{}
	for _, p := range w.svc.Spec.Ports {
		if off, ok := w.a.ports.parse(portString(p.NodePort)); ok && p.NodePort != 0 {
			mine[off] = true
		}
	}
	for _, i := range w.missingPorts {
		v, err := w.a.allocate(ctx, w.a.ports, w.o, mine)
		if err != nil {
			return w.allocateError(w.a.ports, nodePortPath(i), err)
		}
		w.held = append(w.held, heldClaim{w.a.ports, v})
		off, _ := w.a.ports.parse(v)
		mine[off] = true
		w.svc.Spec.Ports[i].NodePort = w.a.portRng.Min + int32(off)
	}
	return nil
}

func (w *write) allocateError(p *pool, path api.Path, err error) error {
	if errors.Is(err, errFull) {
		return api.NewInvalid("Service", w.svc.Name, api.ErrorList{
			{Field: path.String(), Type: api.ErrInvalid, Detail: p.fullDetail()}})
	}
	return fmt.Errorf("allocating a %s for service %s/%s: %w", p.what, w.svc.Namespace, w.svc.Name, err)
}

// rollback releases what this write claimed; a failure leaves a claim
// that repair frees after its grace period.
func (w *write) rollback(ctx context.Context) {
	for _, h := range w.held {
		if err := w.a.release(ctx, h.p, h.v, w.o); err != nil {
			w.a.log.Warn("releasing a claim of a failed service write; repair will free it",
				"namespace", w.svc.Namespace, "service", w.svc.Name, "value", h.v, "err", err)
		}
	}
	w.held = nil
}

func takenError(p *pool, path api.Path, value any) *api.FieldError {
	return api.Invalid(path, value, fmt.Sprintf("%s is already allocated to another service", p.what))
}
