//go:build linux

package testbed

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that records errors instead of failing, to
// test the assertion helpers themselves.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCaptureSeesPlainTextBetweenSites(t *testing.T) {
	tb := New(t, Options{})
	a, b := tb.AddSite("a"), tb.AddSite("b")
	h1, h2 := tb.AddHost(a, "h1"), tb.AddHost(b, "h2")
	tcp2, _ := serveEcho(t, h2)
	secret := []byte("plain-text-secret-" + tb.Run())
	never := []byte("never-sent-" + tb.Run())

	c, err := tb.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := echo(h1.DialContext, "tcp", tcp2, secret, 5*time.Second); err != nil {
		t.Fatalf("h1 -> h2: %v", err)
	}
	c.Stop()
	st := c.Stats()
	if st.CrossSite == 0 || st.Frames < st.CrossSite {
		t.Errorf("capture stats %+v: want cross-site frames counted", st)
	}
	seen := c.Containing(secret)
	// Request and echo, each seen coming in on one site and going out on
	// the other.
	if len(seen) < 4 {
		t.Errorf("the payload is in %d captured frames, want at least 4 (in and out, both ways)", len(seen))
	}
	directions := map[bool]bool{}
	for _, f := range seen {
		directions[f.Outgoing] = true
	}
	if !directions[true] || !directions[false] {
		t.Errorf("the payload was seen only in one direction (outgoing=%v)", directions)
	}

	t.Run("AssertNotSeen fails on a payload that crossed", func(t *testing.T) {
		r := &recorder{TB: t}
		c.AssertNotSeen(r, secret)
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], "plain text") {
			t.Errorf("AssertNotSeen(secret) reported %q, want one error about plain text", r.errs)
		}
	})
	t.Run("AssertNotSeen passes on a payload that never crossed", func(t *testing.T) {
		r := &recorder{TB: t}
		c.AssertNotSeen(r, never)
		if len(r.errs) != 0 {
			t.Errorf("AssertNotSeen(never) reported %q, want nothing", r.errs)
		}
	})
	t.Run("AssertNotSeen fails on a capture without traffic between sites", func(t *testing.T) {
		empty, err := tb.Capture(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r := &recorder{TB: t}
		empty.AssertNotSeen(r, never)
		if len(r.errs) != 1 || !strings.Contains(r.errs[0], "no IPv4 traffic between sites") {
			t.Errorf("AssertNotSeen on an empty capture reported %q, want one error saying it proves nothing", r.errs)
		}
	})
}

func TestCaptureEndsWithItsContext(t *testing.T) {
	tb := New(t, Options{})
	tb.AddSite("a")
	ctx, cancel := context.WithCancel(context.Background())
	c, err := tb.Capture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-c.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the capture still runs 5s after its context ended")
	}
	if err := c.Err(); err != nil {
		t.Errorf("capture error: %v", err)
	}
}
