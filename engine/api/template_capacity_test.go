package api

import (
	"strings"
	"testing"
)

func TestParseTemplateCapacity(t *testing.T) {
	tests := []struct {
		in   string
		want map[ResourceName]string // resources to check, the rest default
		err  string
	}{
		{in: "cpu=4,memory=16Gi,pods=110", want: map[ResourceName]string{ResourceCPU: "4", ResourceMemory: "16Gi", ResourcePods: "110"}},
		{in: " cpu=500m ", want: map[ResourceName]string{ResourceCPU: "500m", ResourceMemory: "8Gi", ResourcePods: "110"}},
		{in: "memory=1Ti", want: map[ResourceName]string{ResourceCPU: "2", ResourceMemory: "1Ti"}},
		{in: "gpu=1", err: `"gpu=1": want cpu=, memory= or pods=`},
		{in: "cpu", err: `"cpu": want cpu=`},
		{in: "cpu=4;memory=1Gi", err: "cpu: "},
		{in: "cpu=lots", err: "cpu: "},
	}
	for _, tt := range tests {
		got, err := ParseTemplateCapacity(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		for name, want := range tt.want {
			if q := got[name]; q.String() != want {
				t.Errorf("%q: %s = %s, want %s", tt.in, name, q.String(), want)
			}
		}
	}
	if _, err := ParseTemplateCapacity("cpu=8"); err != nil {
		t.Fatal(err)
	}
	if q := DefaultTemplateCapacity[ResourceCPU]; q.String() != "2" {
		t.Errorf("parsing changed the defaults: cpu %s", q.String())
	}
}
