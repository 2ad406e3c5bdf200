package auth

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestUseJoin(t *testing.T) {
	ctx := ctxT(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{now: t0}
	tk := newTokens(t, newStore(t), c)
	create := func(o CreateOptions) (string, Token) {
		t.Helper()
		o.Role = RoleJoin
		token, rec, err := tk.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return token, rec
	}

	t.Run("single use by default, then gone", func(t *testing.T) {
		token, rec := create(CreateOptions{TTL: time.Hour, Node: "n1", Addresses: []string{"10.0.0.1"}, Labels: map[string]string{"zone": "a"}})
		got, err := tk.UseJoin(ctx, rec.ID)
		if err != nil || got.Node != "n1" || !slices.Equal(got.Addresses, []string{"10.0.0.1"}) || got.Labels["zone"] != "a" {
			t.Fatalf("UseJoin = %+v, %v; want the record with its bindings", got, err)
		}
		if _, err := tk.UseJoin(ctx, rec.ID); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("second use: %v, want ErrInvalidToken", err)
		}
		if _, err := tk.Authenticate(ctx, token); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("authenticating a used-up token: %v", err)
		}
		if _, err := tk.Get(ctx, rec.ID); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("a used-up token is still stored: %v", err)
		}
	})

	t.Run("concurrent uses are counted exactly", func(t *testing.T) {
		_, rec := create(CreateOptions{Uses: 3})
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 12 {
			wg.Go(func() {
				if _, err := tk.UseJoin(ctx, rec.ID); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, ErrInvalidToken) {
					t.Errorf("UseJoin: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 3 {
			t.Fatalf("%d uses of a three-use token succeeded", ok)
		}
	})

	t.Run("expired or not a join token", func(t *testing.T) {
		_, rec := create(CreateOptions{TTL: time.Minute})
		c.Set(t0.Add(time.Hour))
		defer c.Set(t0)
		if _, err := tk.UseJoin(ctx, rec.ID); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("expired: %v", err)
		}
		_, viewer, err := tk.Create(ctx, CreateOptions{Role: RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.UseJoin(ctx, viewer.ID); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("viewer token used as a join token: %v", err)
		}
		if _, err := tk.UseJoin(ctx, "nosuch"); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("unknown: %v", err)
		}
	})
}

func TestExpireByAndSweep(t *testing.T) {
	ctx := ctxT(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &clock{now: t0}
	tk := newTokens(t, newStore(t), c)
	ids := map[string]string{}
	for _, o := range []CreateOptions{
		{Role: RoleNode, Node: "n1", TTL: 30 * 24 * time.Hour, Description: "renewed"},
		{Role: RoleNode, Node: "n2", TTL: time.Minute, Description: "short"},
		{Role: RoleAdmin, Description: "forever"},
		{Role: RoleJoin, TTL: time.Hour, Description: "join"},
	} {
		_, rec, err := tk.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ids[o.Description] = rec.ID
	}
	if err := tk.ExpireBy(ctx, ids["renewed"], t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Never lengthens a life.
	if err := tk.ExpireBy(ctx, ids["short"], t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tk.ExpireBy(ctx, "gone00", t0); err != nil {
		t.Fatalf("ExpireBy of a missing token: %v", err)
	}
	for name, want := range map[string]time.Time{"renewed": t0.Add(10 * time.Minute), "short": t0.Add(time.Minute)} {
		rec, err := tk.Get(ctx, ids[name])
		if err != nil || rec.Expires == nil || !rec.Expires.Equal(want) {
			t.Errorf("%s expires %v (%v), want %v", name, rec.Expires, err, want)
		}
	}

	sweep := func(at time.Duration) []string {
		t.Helper()
		c.Set(t0.Add(at))
		if _, err := tk.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err := tk.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, r := range recs {
			left = append(left, r.Description)
		}
		slices.Sort(left)
		return left
	}
	for _, step := range []struct {
		at   time.Duration
		left []string
	}{
		{0, []string{"forever", "join", "renewed", "short"}},
		{time.Minute, []string{"forever", "join", "renewed"}},
		{10 * time.Minute, []string{"forever", "join"}},
		{24 * time.Hour, []string{"forever"}},
	} {
		if got := sweep(step.at); !slices.Equal(got, step.left) {
			t.Errorf("after a sweep at +%v: %v left, want %v", step.at, got, step.left)
		}
	}
}

// TestTokensRunSweeps: the server's token loop deletes expired tokens by itself.
func TestTokensRunSweeps(t *testing.T) {
	ctx := ctxT(t)
	tk := newTokens(t, newStore(t), nil)
	tk.SweepInterval = 50 * time.Millisecond
	_, rec, err := tk.Create(ctx, CreateOptions{Role: RoleJoin, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	go tk.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := tk.Get(ctx, rec.ID); errors.Is(err, ErrInvalidToken) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired token %s still stored after 10 s", rec.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
