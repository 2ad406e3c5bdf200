package main

import (
	"os"
	"os/exec"
	"testing"
)

func TestQuietSDKUnlessAsked(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing asked", nil, "OFF"},
		{"TF_LOG", map[string]string{"TF_LOG": "trace"}, ""},
		{"provider logs", map[string]string{"TF_LOG_PROVIDER": "debug"}, ""},
		{"framework logs", map[string]string{"TF_LOG_SDK_FRAMEWORK": "trace"}, ""},
		{"blank", map[string]string{"TF_LOG": " "}, "OFF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{}
			quietSDKUnlessAsked(func(k string) string { return tc.env[k] }, func(k, v string) error { set[k] = v; return nil })
			for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
				if got := set[name]; got != tc.want {
					t.Fatalf("%s set to %q, want %q", name, got, tc.want)
				}
			}
		})
	}
}

func TestCollectLessOften(t *testing.T) {
	for _, tc := range []struct {
		name string
		gogc string
		want int // 0: left alone
	}{
		{"GOGC unset", "", providerGCPercent},
		{"GOGC set", "50", 0},
		{"GOGC off", "off", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := 0
			collectLessOften(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			}, func(p int) int { got = p; return 100 })
			if got != tc.want {
				t.Fatalf("GC percent set to %d, want %d (0: left alone)", got, tc.want)
			}
		})
	}
}

// The release builds maestro and the provider for darwin and windows too
// (.goreleaser.yml); Linux-only code must stay behind build tags.
func TestCrossCompiles(t *testing.T) {
	for _, target := range []struct{ goos, goarch string }{{"darwin", "arm64"}, {"windows", "amd64"}} {
		for _, pkg := range []string{".", "./cmd/maestro"} {
			t.Run(target.goos+"/"+pkg, func(t *testing.T) {
				cmd := exec.Command("go", "build", "-o", os.DevNull, pkg)
				cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go build %s for %s/%s: %v\n%s", pkg, target.goos, target.goarch, err, out)
				}
			})
		}
	}
}
