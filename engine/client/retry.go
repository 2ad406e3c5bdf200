package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// ConflictRetries is how many more times RetryOnConflict runs a write
// that conflicted.
const ConflictRetries = 5

// RetryOnConflict runs write, and while it fails with a conflict (the
// object was written since write read it: its status, by the controller or
// agent that keeps it) waits a moment and runs it again, up to
// ConflictRetries more times, or until ctx ends. write must read the
// object afresh each time, check it is still what it expects (returning
// any other error stops the retries) and make its change on it. The
// waits grow (10 ms, 20 ms, ...) with jitter, so two writers do not keep
// meeting. It returns write's last error.
func RetryOnConflict(ctx context.Context, write func() error) error {
	err := write()
	for i := range ConflictRetries {
		if !api.IsConflict(err) {
			return err
		}
		wait := time.Duration(i+1)*10*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		err = write()
	}
	return err
}
