package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestIsRetryable(t *testing.T) {
	cause := errors.New("API said 503")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"transient", Wrap(ErrTransient, "ssh", "create", cause, "host a"), true},
		{"capacity", Errorf(ErrCapacity, "local", "create", "no room in zone-a"), true},
		{"wrapped capacity", fmt.Errorf("pool p1: %w", Errorf(ErrCapacity, "x", "create", "")), true},
		{"deadline", fmt.Errorf("creating: %w", context.DeadlineExceeded), true},
		{"quota", Errorf(ErrQuota, "x", "create", "10 of 10 machines"), false},
		{"not found", Errorf(ErrNotFound, "x", "get", "machine %q", "m1"), false},
		{"invalid", fmt.Errorf("%w: name: required", ErrInvalid), false},
		{"cancelled", context.Canceled, false},
		{"unclassified", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRetryable(tc.err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorKindMessageAndCause(t *testing.T) {
	cause := errors.New("connection refused")
	err := fmt.Errorf("pool p1: %w", Wrap(ErrTransient, "ssh", "create", cause, "host 10.0.0.5"))
	if !errors.Is(err, ErrTransient) || errors.Is(err, ErrQuota) || !errors.Is(err, cause) {
		t.Fatalf("errors.Is on %v: want transient and its cause, not quota", err)
	}
	want := "pool p1: cloud: transient error (ssh create): host 10.0.0.5: connection refused"
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Provider != "ssh" {
		t.Errorf("errors.As: %+v", ce)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const token = "abcdef.0123456789abcdef"
	req := MachineRequest{Name: "m1", Bootstrap: Bootstrap{JoinToken: token}}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "req", req, "token", req.Bootstrap.JoinToken)
	js, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprint(req), fmt.Sprintf("%+v", req), fmt.Sprintf("%#v", req), fmt.Sprintf("%s", req.Bootstrap.JoinToken),
		fmt.Sprintf("%q", req.Bootstrap.JoinToken), fmt.Sprintf("%x", req.Bootstrap.JoinToken),
		fmt.Sprintf("%v", &req), string(js), logged.String(),
	} {
		if strings.Contains(s, token) || strings.Contains(s, fmt.Sprintf("%x", token)) || !strings.Contains(s, "redacted") {
			t.Errorf("shows the token or no [redacted]: %s", s)
		}
	}
	if req.Bootstrap.JoinToken.Reveal() != token {
		t.Errorf("Reveal() lost the value")
	}
}

func TestValidateNamesField(t *testing.T) {
	ok := MachineRequest{Name: "m1", Cluster: "c1", Pool: "p1", IdempotencyKey: "uid-1",
		Bootstrap: Bootstrap{ServerURL: "https://10.0.0.1:6443", CAPEM: []byte("pem"), JoinToken: "t.s"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*MachineRequest)
	}{
		{"name", func(r *MachineRequest) { r.Name = "UPPER" }},
		{"cluster", func(r *MachineRequest) { r.Cluster = "" }},
		{"pool", func(r *MachineRequest) { r.Pool = "a b" }},
		{"idempotencyKey", func(r *MachineRequest) { r.IdempotencyKey = strings.Repeat("k", 257) }},
		{"bootstrap.serverURL", func(r *MachineRequest) { r.Bootstrap.ServerURL = "https://" }},
		{"labels", func(r *MachineRequest) { r.Labels = map[string]string{"k": "bad value"} }},
	} {
		r := ok
		tc.mutate(&r)
		err := r.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("bad %s: err = %v, want ErrInvalid naming it", tc.field, err)
		}
	}
	if err := (Filter{}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty filter: %v", err)
	}
}
