package apiserver

import (
	"strings"
	"testing"
)

func TestAdmittedTarget(t *testing.T) {
	admitted := []string{"10.0.0.5", "fd00::5"}
	cases := []struct {
		endpoint string
		want     agentTarget
		why      string // in the error when refused
	}{
		{"https://10.0.0.5:10250", agentTarget{node: "n1", ip: "10.0.0.5", port: "10250"}, ""},
		{"https://10.0.0.5:10250/", agentTarget{node: "n1", ip: "10.0.0.5", port: "10250"}, ""},
		{"https://[fd00::5]:443", agentTarget{node: "n1", ip: "fd00::5", port: "443"}, ""},
		{"https://[fd00:0::5]:443", agentTarget{node: "n1", ip: "fd00::5", port: "443"}, ""},
		{"http://10.0.0.5:10250", agentTarget{}, "https only"},
		{"HTTPS://10.0.0.5:10250", agentTarget{node: "n1", ip: "10.0.0.5", port: "10250"}, ""},
		{"unix:///run/etcd.sock", agentTarget{}, "https only"},
		{"https://10.0.0.6:10250", agentTarget{}, "10.0.0.6 is not an address the node was admitted with (10.0.0.5, fd00::5)"},
		{"https://127.0.0.1:2379", agentTarget{}, "127.0.0.1 is not an address"},
		{"https://metadata.internal:80", agentTarget{}, "metadata.internal is not an address"},
		{"https://10.0.0.5", agentTarget{}, "no valid port"},
		{"https://10.0.0.5:0", agentTarget{}, "no valid port"},
		{"https://10.0.0.5:99999", agentTarget{}, "no valid port"},
		{"https://10.0.0.5:10250/metrics", agentTarget{}, "nothing more"},
		{"https://10.0.0.5:10250?x=1", agentTarget{}, "nothing more"},
		{"https://u:p@10.0.0.5:10250", agentTarget{}, "nothing more"},
		{"://", agentTarget{}, "not a URL"},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			got, err := admittedTarget("n1", tc.endpoint, admitted)
			if tc.why == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), `node "n1"`) {
				t.Fatalf("got %+v, %v; want an error saying %q", got, err, tc.why)
			}
		})
	}
}
