package client

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// TestRetryOnConflict: a write that conflicts is run again, up to
// ConflictRetries more times; any other error, success, or the end of the
// context stops it, and the last error is what it returns.
func TestRetryOnConflict(t *testing.T) {
	conflict := api.NewConflict("Pod", "debug", "the object has been modified")
	changed := errors.New("it changed since the plan: run `maestro plan` again")
	tests := []struct {
		name   string
		errs   []error // what each run returns, in turn (nil after the list)
		cancel bool
		want   error
		runs   int
	}{
		{"no conflict", nil, false, nil, 1},
		{"one conflict", []error{conflict}, false, nil, 2},
		{"two conflicts", []error{conflict, conflict}, false, nil, 3},
		{"a conflict, then a change the writer refuses", []error{conflict, changed}, false, changed, 2},
		{"another error", []error{changed}, false, changed, 1},
		{"conflicts all the time", slices.Repeat([]error{conflict}, 20), false, conflict, 1 + ConflictRetries},
		{"the context ends", slices.Repeat([]error{conflict}, 10), true, conflict, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			runs := 0
			err := RetryOnConflict(ctx, func() error {
				runs++
				if runs <= len(tt.errs) {
					return tt.errs[runs-1]
				}
				return nil
			})
			if !errors.Is(err, tt.want) || runs != tt.runs {
				t.Errorf("returned %v after %d runs, want %v after %d", err, runs, tt.want, tt.runs)
			}
		})
	}
}
