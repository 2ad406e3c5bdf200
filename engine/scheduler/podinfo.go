package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// Scoring defaults for pods that request nothing (Kubernetes' values): a pod
// without requests still uses something, and counting it as zero would pile
// every such pod onto the same "empty" node.
const (
	defaultScoringCPU    = 100               // millicores
	defaultScoringMemory = 200 * 1024 * 1024 // bytes
)

// PodInfo is everything the scheduler derives from a pod, computed once
// when the pod enters the cache or the queue so that the per-node loops
// never parse a selector or sum a request again. A PodInfo is immutable:
// an updated pod gets a new one.
type PodInfo struct {
	Pod       *api.Pod
	Key       string // namespace/name
	Namespace string
	Labels    labels.Set
	// OwnerUID is the UID of the controlling owner (a replica set), which
	// selector spread groups replicas by.
	OwnerUID string
	Priority int32

	// Requests: cpu in millicores, memory in bytes. The NonZero variants
	// substitute defaults for zero requests and are used only for scoring.
	CPU, Memory               int64
	NonZeroCPU, NonZeroMemory int64

	HostPorts []HostPort

	// NodeAffinity is the nodeSelector and required node affinity; nil
	// when the pod has neither.
	NodeAffinity *requiredNodeAffinity
	// PreferredNodeTerms are the weighted node preferences.
	PreferredNodeTerms []weightedNodeTerm

	RequiredAffinity      []AffinityTerm
	RequiredAntiAffinity  []AffinityTerm
	PreferredAffinity     []AffinityTerm
	PreferredAntiAffinity []AffinityTerm
	Spread                []SpreadConstraint

	// Volumes names the persistent volumes (Volume objects) the pod uses.
	Volumes []string
}

// HostPort is a port a pod binds on its node.
type HostPort struct {
	IP       string // "" and "0.0.0.0" mean every address
	Protocol api.Protocol
	Port     int32
}

// conflicts reports whether two host ports cannot both be bound.
func (p HostPort) conflicts(o HostPort) bool {
	if p.Port != o.Port || p.Protocol != o.Protocol {
		return false
	}
	return p.IP == o.IP || p.IP == "" || o.IP == ""
}

// AffinityTerm is a pod (anti-)affinity term with its selector parsed and
// its namespaces resolved.
type AffinityTerm struct {
	// Namespaces is sorted and never empty: a term without namespaces
	// applies to its own pod's namespace.
	Namespaces  []string
	Selector    labels.Selector
	TopologyKey string
	// Weight is set for preferred terms only.
	Weight int64
	// group identifies the set of pods the term selects (namespaces and
	// selector), the key of the topology index's counts.
	group string
}

// Matches reports whether the term selects pod pi.
func (t *AffinityTerm) Matches(pi *PodInfo) bool {
	return containsNamespace(t.Namespaces, pi.Namespace) && t.Selector.Matches(pi.Labels)
}

func containsNamespace(nss []string, ns string) bool {
	// One or two namespaces is the norm, so a scan beats a binary search.
	for _, n := range nss {
		if n == ns {
			return true
		}
	}
	return false
}

// SpreadConstraint is a topology spread constraint with its selector parsed.
type SpreadConstraint struct {
	MaxSkew     int32
	TopologyKey string
	// Hard is DoNotSchedule (a filter); otherwise ScheduleAnyway (a score).
	Hard     bool
	Selector labels.Selector
	// SelfMatch is 1 when the pod itself matches the selector: placing it
	// then adds one to the domain it lands in.
	SelfMatch int32
	// namespaces is the pod's own, the only one a constraint counts in.
	namespaces []string
	group      string
}

// NewPodInfo derives a pod's scheduling data. A selector that does not
// parse (validation should have refused it) makes the returned error
// non-nil; the PodInfo is still usable, with that term matching nothing, so
// the cache can account for the pod's resources regardless.
func NewPodInfo(p *api.Pod) (*PodInfo, error) {
	pi := &PodInfo{
		Pod:       p,
		Key:       p.Key(),
		Namespace: p.Namespace,
		Labels:    labels.Set(p.Labels),
		Priority:  api.Deref(p.Spec.Priority, 0),
	}
	if ref := p.ControllerRef(); ref != nil {
		pi.OwnerUID = ref.UID
	}
	req := api.PodRequests(&p.Spec)
	if q, ok := req[api.ResourceCPU]; ok {
		pi.CPU = q.MilliValue()
	}
	if q, ok := req[api.ResourceMemory]; ok {
		pi.Memory = q.Value()
	}
	pi.NonZeroCPU, pi.NonZeroMemory = pi.CPU, pi.Memory
	if pi.NonZeroCPU == 0 {
		pi.NonZeroCPU = defaultScoringCPU
	}
	if pi.NonZeroMemory == 0 {
		pi.NonZeroMemory = defaultScoringMemory
	}
	pi.HostPorts = hostPortsOf(&p.Spec)
	pi.Volumes = api.PersistentVolumeNames(&p.Spec)

	var errs []error
	var err error
	pi.NodeAffinity, pi.PreferredNodeTerms, err = compileNodeAffinity(&p.Spec)
	errs = append(errs, err)
	if a := p.Spec.Affinity; a != nil {
		if pa := a.PodAffinity; pa != nil {
			pi.RequiredAffinity, err = compileTerms(p.Namespace, pa.RequiredDuringSchedulingIgnoredDuringExecution, nil)
			errs = append(errs, err)
			pi.PreferredAffinity, err = compileTerms(p.Namespace, nil, pa.PreferredDuringSchedulingIgnoredDuringExecution)
			errs = append(errs, err)
		}
		if pa := a.PodAntiAffinity; pa != nil {
			pi.RequiredAntiAffinity, err = compileTerms(p.Namespace, pa.RequiredDuringSchedulingIgnoredDuringExecution, nil)
			errs = append(errs, err)
			pi.PreferredAntiAffinity, err = compileTerms(p.Namespace, nil, pa.PreferredDuringSchedulingIgnoredDuringExecution)
			errs = append(errs, err)
		}
	}
	for i := range p.Spec.TopologySpreadConstraints {
		c := &p.Spec.TopologySpreadConstraints[i]
		sel, err := api.AsSelector(c.LabelSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("topologySpreadConstraints[%d].labelSelector: %w", i, err))
			sel = labels.Nothing()
		}
		nss := []string{p.Namespace}
		sc := SpreadConstraint{
			MaxSkew:     max(c.MaxSkew, 1),
			TopologyKey: c.TopologyKey,
			Hard:        c.WhenUnsatisfiable != api.ScheduleAnyway,
			Selector:    sel,
			namespaces:  nss,
			group:       groupKey(nss, sel),
		}
		if sel.Matches(pi.Labels) {
			sc.SelfMatch = 1
		}
		pi.Spread = append(pi.Spread, sc)
	}
	if err := errors.Join(errs...); err != nil {
		return pi, fmt.Errorf("pod %s: %w", pi.Key, err)
	}
	return pi, nil
}

// hasPodAffinity reports whether the pod carries any pod (anti-)affinity term.
func (pi *PodInfo) hasPodAffinity() bool {
	return len(pi.RequiredAffinity)+len(pi.RequiredAntiAffinity)+
		len(pi.PreferredAffinity)+len(pi.PreferredAntiAffinity) > 0
}

func hostPortsOf(spec *api.PodSpec) []HostPort {
	var out []HostPort
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			port := p.HostPort
			if port == 0 && spec.HostNetwork {
				// With the host's network the container port is a host port.
				port = p.ContainerPort
			}
			if port == 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: port}
			if hp.IP == "0.0.0.0" {
				hp.IP = ""
			}
			if hp.Protocol == "" {
				hp.Protocol = api.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	return out
}

func compileTerms(ns string, required []api.PodAffinityTerm, preferred []api.WeightedPodAffinityTerm) ([]AffinityTerm, error) {
	var out []AffinityTerm
	var errs []error
	add := func(t *api.PodAffinityTerm, weight int64) {
		sel, err := api.AsSelector(t.LabelSelector)
		if err != nil {
			errs = append(errs, fmt.Errorf("affinity term labelSelector: %w", err))
			sel = labels.Nothing()
		}
		nss := []string{ns}
		if len(t.Namespaces) > 0 {
			nss = slices.Compact(slices.Sorted(slices.Values(t.Namespaces)))
		}
		out = append(out, AffinityTerm{
			Namespaces: nss, Selector: sel, TopologyKey: t.TopologyKey,
			Weight: weight, group: groupKey(nss, sel),
		})
	}
	for i := range required {
		add(&required[i], 0)
	}
	for i := range preferred {
		add(&preferred[i].PodAffinityTerm, int64(preferred[i].Weight))
	}
	return out, errors.Join(errs...)
}

// groupKey is the canonical name of "pods in these namespaces matching this
// selector": selectors print canonically, so equal groups share counts.
func groupKey(nss []string, sel labels.Selector) string {
	return strings.Join(nss, ",") + "\x00" + sel.String()
}
