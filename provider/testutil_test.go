package provider

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// waitDeleted waits for an asynchronous delete to finish.
func waitDeleted(t *testing.T, get func() error) {
	t.Helper()
	err := waitGone(context.Background(), 30*time.Second, func(context.Context) error { return get() })
	if err != nil {
		t.Fatal(err)
	}
}
