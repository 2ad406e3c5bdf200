package cloud

import (
	"fmt"
	"net/url"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// Validate reports the first invalid field of r as ErrInvalid naming the
// field. It never mentions the join token's value.
func (r MachineRequest) Validate() error {
	for _, f := range []struct{ field, value string }{
		{"name", r.Name}, {"cluster", r.Cluster}, {"pool", r.Pool},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: %s: required", ErrInvalid, f.field)
		}
		if msg := api.IsDNS1123Subdomain(f.value); msg != "" {
			return fmt.Errorf("%w: %s %q: %s", ErrInvalid, f.field, f.value, msg)
		}
	}
	if r.IdempotencyKey == "" {
		return fmt.Errorf("%w: idempotencyKey: required", ErrInvalid)
	}
	if len(r.IdempotencyKey) > 256 {
		return fmt.Errorf("%w: idempotencyKey: longer than 256 bytes", ErrInvalid)
	}
	for k, v := range r.Labels {
		if err := labels.ValidateKey(k); err != nil {
			return fmt.Errorf("%w: labels[%q]: %v", ErrInvalid, k, err)
		}
		if err := labels.ValidateValue(v); err != nil {
			return fmt.Errorf("%w: labels[%q]: %v", ErrInvalid, k, err)
		}
	}
	return r.Bootstrap.validate()
}

func (b Bootstrap) validate() error {
	u, err := url.Parse(b.ServerURL)
	switch {
	case b.ServerURL == "":
		return fmt.Errorf("%w: bootstrap.serverURL: required", ErrInvalid)
	case err != nil || u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%w: bootstrap.serverURL %q: want https://host:port", ErrInvalid, b.ServerURL)
	case len(b.CAPEM) == 0:
		return fmt.Errorf("%w: bootstrap.caPEM: required", ErrInvalid)
	case b.JoinToken == "":
		return fmt.Errorf("%w: bootstrap.joinToken: required", ErrInvalid)
	}
	return nil
}

// Validate reports an invalid filter as ErrInvalid naming the field.
func (f Filter) Validate() error {
	if f.Cluster == "" {
		return fmt.Errorf("%w: filter.cluster: required", ErrInvalid)
	}
	return nil
}

// Matches reports whether m is f's.
func (f Filter) Matches(m Machine) bool {
	return m.Cluster == f.Cluster && (f.Pool == "" || m.Pool == f.Pool)
}

// SameRequest reports whether m could have been made by r: an implementation
// finding m under r's idempotency key returns ErrInvalid when it was not
// (one key reused for a different machine).
func (r MachineRequest) SameRequest(m Machine) bool {
	return m.Name == r.Name && m.Cluster == r.Cluster && m.Pool == r.Pool
}
