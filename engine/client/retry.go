package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// ConflictRetries is how many more times RetryOnConflict runs a write
// that conflicted.
const ConflictRetries = 10

// maxConflictWait caps the wait between two runs.
const maxConflictWait = 320 * time.Millisecond

// RetryOnConflict runs write, and while it fails with a conflict (the
// object was written since write read it: its status, by the controller or
// agent that keeps it) waits a moment and runs it again, up to
// ConflictRetries more times, or until ctx ends. write must read the
// object afresh each time, check it is still what it expects (returning
// any other error stops the retries) and make its change on it. The
// waits double from 10 ms up to maxConflictWait, with jitter, so two
// writers do not keep meeting (about 2 s in all). It returns write's last
// error.
func RetryOnConflict(ctx context.Context, write func() error) error {
	err := write()
	for i := range ConflictRetries {
		if !api.IsConflict(err) {
			return err
		}
		wait := min(10*time.Millisecond<<i, maxConflictWait) + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		err = write()
	}
	return err
}
