package cli

import (
	"errors"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

// TestUpdateRetrying: an update that conflicts with a write made since the
// object was read (its status, written all the time) is written again
// with the version read again, as long as reading it again finds nothing
// the plan did not see; a change the plan did not see stops it with that
// error, and an object that keeps changing is given up on after
// maxUpdateConflicts more tries. Other errors are returned at once.
func TestUpdateRetrying(t *testing.T) {
	conflict := api.NewConflict("Pod", "debug", "the object has been modified")
	changed := errors.New("it changed since the plan (generation 1 -> 2): run `maestro plan` again")
	refused := api.NewBadRequest("spec.containers: required")
	tests := []struct {
		name       string
		writes     []error // what each write returns, in turn (nil after the list)
		reread     error
		want       error
		wantWrites []int64 // the resourceVersions written with
	}{
		{"no conflict", nil, nil, nil, []int64{10}},
		{"a status write in between", []error{conflict}, nil, nil, []int64{10, 11}},
		{"two in between", []error{conflict, conflict}, nil, nil, []int64{10, 11, 12}},
		{"a spec change in between", []error{conflict}, changed, changed, []int64{10}},
		{"refused by the server", []error{refused}, nil, refused, []int64{10}},
		{"changing all the time", slices.Repeat([]error{conflict}, 10), nil, conflict, []int64{10, 11, 12, 13, 14, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var written []int64
			rv := int64(10)
			write := func(v int64) error {
				written = append(written, v)
				if i := len(written) - 1; i < len(tt.writes) {
					return tt.writes[i]
				}
				return nil
			}
			reread := func() (int64, error) {
				rv++
				return rv, tt.reread
			}
			err := updateRetrying(10, write, reread)
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if !slices.Equal(written, tt.wantWrites) {
				t.Errorf("written with resourceVersions %v, want %v", written, tt.wantWrites)
			}
		})
	}
}
