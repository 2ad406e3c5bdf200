package main

import "testing"

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
			if got := set["TF_LOG_SDK"]; got != tc.want {
				t.Fatalf("TF_LOG_SDK set to %q, want %q", got, tc.want)
			}
		})
	}
}
