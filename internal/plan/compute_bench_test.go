package plan

import (
	"fmt"
	"testing"
)

// BenchmarkComputeNoop: the plan of 100 deployments and 100 services that
// match the cluster (the no-op `maestro plan` of the benchmark,
// without the manifests and the API).
func BenchmarkComputeNoop(b *testing.B) {
	var desired, actual []Resource
	for i := range 100 {
		name := fmt.Sprintf("app-%d", i)
		desired = append(desired, res("deployment."+name, "Deployment", deploymentAttrs(name, 3, "app:1"), deploymentObject(name, 3, 0)))
		actual = append(actual, res("deployment."+name, "Deployment", deploymentAttrs(name, int64(3), "app:1"), deploymentObject(name, 3, int64(i+1))))
		svc := map[string]any{"metadata": map[string]any{"name": name, "namespace": "default"},
			"spec": map[string]any{"selector": map[string]any{"app": name}, "port": []any{map[string]any{"port": 80, "target_port": "http"}}}}
		desired = append(desired, res("service."+name, "Service", svc, nil))
		actual = append(actual, res("service."+name, "Service", svc, nil))
	}
	opt := Options{ForceNew: map[string][]string{"Deployment": {"metadata.name", "metadata.namespace", "spec.selector.match_labels"}}}
	b.ReportAllocs()
	for b.Loop() {
		if p := Compute(desired, actual, opt); p.HasChanges() {
			b.Fatal("changes in a no-op plan")
		}
	}
}
