package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestStatusErrors(t *testing.T) {
	invalid := NewInvalid("Pod", "web", ErrorList{Required(NewPath("spec").Child("containers"), "")})
	cases := []struct {
		name   string
		err    *StatusError
		code   int
		is     func(error) bool
		inMsg  string
		detail bool
	}{
		{"not found", NewNotFound("pods", "web"), http.StatusNotFound, IsNotFound, `pods "web" not found`, true},
		{"already exists", NewAlreadyExists("pods", "web"), http.StatusConflict, IsAlreadyExists, `pods "web" already exists`, true},
		{"conflict", NewConflict("pods", "web", "resourceVersion 3, stored 4"), http.StatusConflict, IsConflict, "read it again and retry", true},
		{"invalid", invalid, http.StatusUnprocessableEntity, IsInvalid, `Pod "web" is invalid: spec.containers: required`, true},
		{"forbidden", NewForbidden("no %s", "way"), http.StatusForbidden, IsForbidden, "no way", false},
		{"bad request", NewBadRequest("bad %d", 1), http.StatusBadRequest, func(err error) bool { return ReasonOf(err) == ReasonBadRequest }, "bad 1", false},
		{"internal", NewInternal(errors.New("disk on fire")), http.StatusInternalServerError, func(err error) bool { return ReasonOf(err) == ReasonInternalError }, "disk on fire", false},
		{"expired", NewStatusError(http.StatusGone, ReasonGone, "too old"), http.StatusGone, IsExpired, "too old", false},
		{"too many requests", NewStatusError(http.StatusTooManyRequests, ReasonTooManyRequests, "slow down"), http.StatusTooManyRequests, IsTooManyRequests, "slow down", false},
		{"unauthorized", NewStatusError(http.StatusUnauthorized, ReasonUnauthorized, "who"), http.StatusUnauthorized, IsUnauthorized, "who", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("calling the API: %w", tc.err)
			if !tc.is(tc.err) || !tc.is(wrapped) {
				t.Errorf("predicate false for %v (or its wrapped form)", tc.err)
			}
			if CodeOf(wrapped) != tc.code {
				t.Errorf("CodeOf = %d, want %d", CodeOf(wrapped), tc.code)
			}
			if !strings.Contains(tc.err.Error(), tc.inMsg) {
				t.Errorf("message %q lacks %q", tc.err.Error(), tc.inMsg)
			}
			st := tc.err.Status
			if st.Kind != "Status" || st.APIVersion != APIVersion || st.Status != "Failure" {
				t.Errorf("status envelope = %+v", st)
			}
			if (st.Details != nil) != tc.detail {
				t.Errorf("details = %+v, want present %v", st.Details, tc.detail)
			}
		})
	}
	for _, is := range []func(error) bool{IsNotFound, IsConflict, IsInvalid, IsForbidden} {
		if is(nil) || is(errors.New("plain")) {
			t.Error("predicate true for a non-API error")
		}
	}
	if ReasonOf(errors.New("plain")) != "" || CodeOf(nil) != 0 {
		t.Error("reason or code of a non-API error")
	}
}

// TestInvalidStatusJSON: field errors reach clients as causes with the
// field path, so a CLI can point at the broken line.
func TestInvalidStatusJSON(t *testing.T) {
	errs := Validate(pod(func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }))
	b, err := json.Marshal(NewInvalid("Pod", "web", errs).Status)
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Code != 422 || st.Reason != ReasonInvalid || st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "web" {
		t.Fatalf("status = %s", b)
	}
	if len(st.Details.Causes) != 1 {
		t.Fatalf("causes = %s", b)
	}
	c := st.Details.Causes[0]
	if c.Field != "spec.containers[0].ports[0].containerPort" || c.Type != ErrInvalid || !strings.Contains(c.Detail, "between 1 and 65535") {
		t.Errorf("cause = %+v", c)
	}
	if !strings.Contains(string(b), `"reason":"FieldValueInvalid"`) || !strings.Contains(string(b), `"field":"spec.containers[0].ports[0].containerPort"`) {
		t.Errorf("cause JSON keys changed: %s", b)
	}
}
