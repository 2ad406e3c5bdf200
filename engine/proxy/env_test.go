package proxy

import (
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestServiceEnv(t *testing.T) {
	svcs := []*api.Service{
		{ObjectMeta: api.ObjectMeta{Name: "my-backend"}, Spec: api.ServiceSpec{ClusterIP: "10.96.0.7", Ports: []api.ServicePort{
			{Name: "http", Port: 80, Protocol: api.ProtocolTCP}, {Name: "metrics", Port: 9090, Protocol: api.ProtocolTCP}}}},
		{ObjectMeta: api.ObjectMeta{Name: "headless"}, Spec: api.ServiceSpec{ClusterIP: "None"}},
	}
	want := []string{
		"MY_BACKEND_PORT=tcp://10.96.0.7:80",
		"MY_BACKEND_PORT_80_TCP=tcp://10.96.0.7:80",
		"MY_BACKEND_PORT_80_TCP_ADDR=10.96.0.7",
		"MY_BACKEND_PORT_80_TCP_PORT=80",
		"MY_BACKEND_PORT_80_TCP_PROTO=tcp",
		"MY_BACKEND_PORT_9090_TCP=tcp://10.96.0.7:9090",
		"MY_BACKEND_PORT_9090_TCP_ADDR=10.96.0.7",
		"MY_BACKEND_PORT_9090_TCP_PORT=9090",
		"MY_BACKEND_PORT_9090_TCP_PROTO=tcp",
		"MY_BACKEND_SERVICE_HOST=10.96.0.7",
		"MY_BACKEND_SERVICE_PORT=80",
		"MY_BACKEND_SERVICE_PORT_HTTP=80",
		"MY_BACKEND_SERVICE_PORT_METRICS=9090",
	}
	if got := ServiceEnv(svcs); !slices.Equal(got, want) {
		t.Fatalf("ServiceEnv:\n got %q\nwant %q", got, want)
	}
}
