package scheduler

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

func TestNewPodInfo(t *testing.T) {
	p := pod("web", req("250m", "1Gi"), podLabels("app", "web"), ownedBy("rs-1"), priority(7),
		hostPort(80, "", ""), hostPort(53, api.ProtocolUDP, "0.0.0.0"),
		requiredAntiAffinity(term(api.LabelHostname, "app", "web")),
		preferredAffinity(30, func() api.PodAffinityTerm {
			tm := term(api.LabelZone, "app", "db")
			tm.Namespaces = []string{"data", "cache", "data"}
			return tm
		}()),
		spread(2, api.LabelZone, api.ScheduleAnyway, "app", "web"))
	p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: "side", Resources: api.ResourceRequirements{
		Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("250m")}}})
	p.Spec.InitContainers = []api.Container{{Name: "init", Resources: api.ResourceRequirements{
		Requests: api.ResourceList{api.ResourceMemory: resource.MustParse("2Gi")}}}}

	pi := mustPodInfo(t, p)
	if pi.Key != "default/web" || pi.OwnerUID != "rs-1" || pi.Priority != 7 {
		t.Errorf("identity: %q owner %q priority %d", pi.Key, pi.OwnerUID, pi.Priority)
	}
	// cpu sums the app containers; memory takes the larger init container.
	if pi.CPU != 500 || pi.Memory != 2<<30 {
		t.Errorf("requests %dm, %d bytes; want 500m, 2Gi", pi.CPU, pi.Memory)
	}
	wantPorts := []HostPort{{Protocol: api.ProtocolTCP, Port: 80}, {Protocol: api.ProtocolUDP, Port: 53}}
	if !slices.Equal(pi.HostPorts, wantPorts) {
		t.Errorf("host ports %+v, want %+v", pi.HostPorts, wantPorts)
	}
	if got := pi.RequiredAntiAffinity[0].Namespaces; !slices.Equal(got, []string{"default"}) {
		t.Errorf("a term without namespaces applies to the pod's own: %v", got)
	}
	if got := pi.PreferredAffinity[0]; !slices.Equal(got.Namespaces, []string{"cache", "data"}) || got.Weight != 30 {
		t.Errorf("preferred term: namespaces %v weight %d", got.Namespaces, got.Weight)
	}
	if sc := pi.Spread[0]; sc.Hard || sc.MaxSkew != 2 || sc.SelfMatch != 1 {
		t.Errorf("spread constraint %+v", sc)
	}

	noReq := mustPodInfo(t, pod("idle"))
	if noReq.CPU != 0 || noReq.NonZeroCPU != defaultScoringCPU || noReq.NonZeroMemory != defaultScoringMemory {
		t.Errorf("a pod without requests: %+v", noReq)
	}
}

func TestNewPodInfoReportsBrokenTerms(t *testing.T) {
	bad := pod("bad", requiredNodeTerms(expr("cores", api.NodeSelectorOpGt, "many")),
		requiredAntiAffinity(api.PodAffinityTerm{TopologyKey: api.LabelHostname, LabelSelector: &api.LabelSelector{
			MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "Sometimes"}}}}))
	pi, err := NewPodInfo(bad)
	if err == nil {
		t.Fatal("no error for broken terms")
	}
	if pi == nil || pi.Key != "default/bad" {
		t.Fatal("no usable PodInfo alongside the error")
	}
	// The broken terms match nothing rather than everything.
	n := NewSnapshotFrom([]*api.Node{node("n1", nodeLabel("cores", "8"))}, nil).Get("n1")
	if pi.NodeAffinity.Matches(n) {
		t.Error("an unparseable Gt matched")
	}
	if pi.RequiredAntiAffinity[0].Matches(mustPodInfo(t, pod("x", podLabels("app", "x")))) {
		t.Error("an unparseable selector matched")
	}
}
