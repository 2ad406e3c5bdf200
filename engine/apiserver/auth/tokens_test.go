package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/storetest"
)

// One embedded etcd serves every test of the package.
var sharedEtcd storetest.SharedEtcd

func TestMain(m *testing.M) {
	code := m.Run()
	sharedEtcd.Close()
	os.Exit(code)
}

// newStore returns a store over the shared embedded etcd, under a prefix no
// other test uses.
func newStore(t *testing.T) store.Store { return sharedEtcd.Store(t) }

var quietLog = slog.New(slog.DiscardHandler)

// clock is a settable time source for expiry tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func newTokens(t *testing.T, s store.Store, c *clock) *Tokens {
	t.Helper()
	tk := NewTokens(s, quietLog)
	if c != nil {
		tk.now = c.Now
	}
	return tk
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var tokenFormat = regexp.MustCompile(`^[a-z2-7]{6}\.[a-z2-7]{26}$`)

func TestTokensCreateAndAuthenticate(t *testing.T) {
	ctx := ctxT(t)
	tk := newTokens(t, newStore(t), nil)
	cases := []struct {
		name string
		opts CreateOptions
		want User // Name and TokenID are checked against the token's id
	}{
		{"admin", CreateOptions{Role: RoleAdmin, Description: "bootstrap"}, User{Role: RoleAdmin}},
		{"viewer", CreateOptions{Role: RoleViewer}, User{Role: RoleViewer}},
		{"node", CreateOptions{Role: RoleNode, Node: "node-1"}, User{Role: RoleNode, Node: "node-1"}},
		{"join with a TTL", CreateOptions{Role: RoleJoin, TTL: time.Hour}, User{Role: RoleJoin}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token, rec, err := tk.Create(ctx, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !tokenFormat.MatchString(token) {
				t.Errorf("token %q is not <6 base32>.<26 base32>", token)
			}
			if !strings.HasPrefix(token, rec.ID+".") || rec.Role != tc.opts.Role || rec.Node != tc.opts.Node ||
				rec.Description != tc.opts.Description {
				t.Errorf("record %+v does not describe token %q from %+v", rec, token, tc.opts)
			}
			u, err := tk.Authenticate(ctx, token)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			want := tc.want
			want.Name, want.TokenID = "token:"+rec.ID, rec.ID
			if u != want {
				t.Errorf("user = %+v, want %+v", u, want)
			}
		})
	}
}

func TestTokensCreateRejects(t *testing.T) {
	ctx := ctxT(t)
	tk := newTokens(t, newStore(t), nil)
	for name, o := range map[string]CreateOptions{
		"unknown role":        {Role: "superuser"},
		"empty role":          {},
		"node without a name": {Role: RoleNode},
		"viewer with uses":    {Role: RoleViewer, Uses: 2},
		"node with addresses": {Role: RoleNode, Node: "n", Addresses: []string{"10.0.0.1"}},
		"admin with labels":   {Role: RoleAdmin, Labels: map[string]string{"a": "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			if token, _, err := tk.Create(ctx, o); err == nil {
				t.Errorf("Create(%+v) = %q, want an error", o, token)
			}
		})
	}
	if list, err := tk.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("rejected creates stored tokens: %+v, %v", list, err)
	}

	if _, _, err := tk.Create(ctx, CreateOptions{Role: RoleAdmin, ID: "fixed", Secret: "one"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := tk.Create(ctx, CreateOptions{Role: RoleViewer, ID: "fixed", Secret: "two"})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("second Create with the same id: %v, want store.ErrExists", err)
	}
	if u, err := tk.Authenticate(ctx, "fixed.one"); err != nil || u.Role != RoleAdmin {
		t.Errorf("first token after a clashing create = %+v, %v; want it unchanged", u, err)
	}
}

// TestTokensAuthenticateRejects: every bad token gets the same error, so a
// prober cannot tell an unknown id from a wrong secret.
func TestTokensAuthenticateRejects(t *testing.T) {
	ctx := ctxT(t)
	tk := newTokens(t, newStore(t), nil)
	token, rec, err := tk.Create(ctx, CreateOptions{Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(token, rec.ID+".")
	cases := map[string]string{
		"empty":                      "",
		"no dot":                     rec.ID + secret,
		"only a dot":                 ".",
		"no id":                      "." + secret,
		"no secret":                  rec.ID + ".",
		"wrong secret":               rec.ID + ".aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"secret with a char flipped": rec.ID + "." + flip(secret),
		"secret truncated":           rec.ID + "." + secret[:25],
		"secret with a suffix":       token + "x",
		"extra dot part":             token + ".extra",
		"unknown id":                 "zzzzzz." + secret,
		"id in another case":         strings.ToUpper(rec.ID) + "." + secret,
		"hash instead of secret":     rec.ID + "." + rec.SecretHash,
		"bearer prefix left on":      "Bearer " + token,
		"path in the id":             "../" + rec.ID + "." + secret,
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			u, err := tk.Authenticate(ctx, bad)
			if err != ErrInvalidToken {
				t.Errorf("Authenticate(%q) = %+v, %v; want exactly ErrInvalidToken", bad, u, err)
			}
		})
	}
	// A fresh instance with an empty cache answers the same from the store.
	cold := newTokens(t, tk.store, nil)
	for name, bad := range cases {
		if _, err := cold.Authenticate(ctx, bad); err != ErrInvalidToken {
			t.Errorf("cold cache, %s: %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := cold.Authenticate(ctx, token); err != nil {
		t.Errorf("the real token on a cold cache: %v", err)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'a' {
		b[0] = 'b'
	} else {
		b[0] = 'a'
	}
	return string(b)
}

func TestTokensExpiry(t *testing.T) {
	ctx := ctxT(t)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	c := &clock{now: t0}
	s := newStore(t)
	tk := newTokens(t, s, c)
	expiring, rec, err := tk.Create(ctx, CreateOptions{Role: RoleJoin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	forever, _, err := tk.Create(ctx, CreateOptions{Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	created := t0.Truncate(time.Second)
	if !rec.Created.Equal(created) || rec.Expires == nil || !rec.Expires.Equal(created.Add(time.Hour)) {
		t.Fatalf("record created %v expires %v; want %v and an hour later", rec.Created, rec.Expires, created)
	}
	cases := []struct {
		name    string
		at      time.Time
		valid   bool
		forever bool
	}{
		{"just created", t0, true, true},
		{"a second before expiry", created.Add(time.Hour - time.Second), true, true},
		{"at expiry", created.Add(time.Hour), false, true},
		{"a day later", t0.Add(24 * time.Hour), false, true},
		{"a century later", t0.AddDate(100, 0, 0), false, true},
	}
	cold := newTokens(t, s, c) // reads the record from the store, not its cache
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.Set(tc.at)
			for _, inst := range []*Tokens{tk, cold} {
				_, err := inst.Authenticate(ctx, expiring)
				if tc.valid && err != nil {
					t.Errorf("expiring token rejected: %v", err)
				}
				if !tc.valid && err != ErrInvalidToken {
					t.Errorf("expired token: %v, want ErrInvalidToken", err)
				}
				if _, err := inst.Authenticate(ctx, forever); err != nil {
					t.Errorf("token without TTL rejected: %v", err)
				}
			}
		})
	}
}

// TestTokensDeleteRevokesEverywhere: a token revoked through one API server
// stops working on another sharing the store, once its watch catches up.
func TestTokensDeleteRevokesEverywhere(t *testing.T) {
	ctx := ctxT(t)
	s := newStore(t)
	a := newTokens(t, s, nil)
	b := newTokens(t, s, nil)

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); b.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	select {
	case <-b.Synced():
	case <-ctx.Done():
		t.Fatal("token cache never synced")
	}

	token, rec, err := a.Create(ctx, CreateOptions{Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	keep, _, err := a.Create(ctx, CreateOptions{Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	// b learns of the token (from the watch or the store) and caches it.
	if _, err := b.Authenticate(ctx, token); err != nil {
		t.Fatalf("token created on a, authenticated on b: %v", err)
	}
	if _, ok := b.get(rec.ID); !ok {
		t.Fatal("b did not cache the token; the revocation below would prove nothing")
	}

	if err := a.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, token); err != ErrInvalidToken {
		t.Errorf("deleting instance still accepts the token: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := b.Authenticate(ctx, token)
		if err == ErrInvalidToken {
			break
		}
		if err != nil {
			t.Fatalf("b: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("b still accepts the revoked token 10s after the delete")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := b.Authenticate(ctx, keep); err != nil {
		t.Errorf("revoking one token broke another: %v", err)
	}
	if err := a.Delete(ctx, rec.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting a deleted token: %v, want store.ErrNotFound", err)
	}
}

func TestTokensRunStopsWithContext(t *testing.T) {
	tk := newTokens(t, newStore(t), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); tk.Run(ctx) }()
	select {
	case <-tk.Synced():
	case <-time.After(10 * time.Second):
		t.Fatal("never synced")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestTokensEnsure(t *testing.T) {
	ctx := ctxT(t)
	s := newStore(t)
	tk := newTokens(t, s, nil)
	const token = "adm1n0.0123456789abcdefghijklmnop"
	for i := range 3 {
		if err := tk.Ensure(ctx, token, CreateOptions{Role: RoleAdmin, Description: "saved admin token"}); err != nil {
			t.Fatalf("Ensure #%d: %v", i+1, err)
		}
	}
	// Another server starting on the same store ensures the same token.
	if err := newTokens(t, s, nil).Ensure(ctx, token, CreateOptions{Role: RoleAdmin}); err != nil {
		t.Fatalf("Ensure from a second instance: %v", err)
	}
	list, err := tk.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "adm1n0" || list[0].Role != RoleAdmin || list[0].Description != "saved admin token" {
		t.Errorf("tokens after repeated Ensure = %+v, want the one admin token", list)
	}
	if u, err := tk.Authenticate(ctx, token); err != nil || u.Role != RoleAdmin {
		t.Errorf("ensured token: %+v, %v", u, err)
	}

	// Ensure never replaces a stored token: a different secret under the
	// same id is an error (data directory and store disagree) and does not
	// become valid.
	if err := tk.Ensure(ctx, "adm1n0.other-secret", CreateOptions{Role: RoleAdmin}); err == nil || !strings.Contains(err.Error(), "different secret") {
		t.Fatalf("Ensure with a known id and another secret: %v, want an error", err)
	}
	if _, err := tk.Authenticate(ctx, "adm1n0.other-secret"); err != ErrInvalidToken {
		t.Errorf("Ensure replaced the stored secret: %v", err)
	}
	if u, err := tk.Authenticate(ctx, token); err != nil || u.Role != RoleAdmin {
		t.Errorf("original token after Ensure with another secret: %+v, %v", u, err)
	}

	if err := tk.Ensure(ctx, "no-dot-here", CreateOptions{Role: RoleAdmin}); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Ensure of a malformed token: %v, want ErrInvalidToken", err)
	}
	if err := tk.Ensure(ctx, "newid0.secret", CreateOptions{Role: "root"}); err == nil {
		t.Error("Ensure with an unknown role succeeded")
	}
}

// TestTokensListNeverExposesSecrets: listing (what `maestro token list`
// shows, and what a store dump holds) carries no secret.
func TestTokensListNeverExposesSecrets(t *testing.T) {
	ctx := ctxT(t)
	s := newStore(t)
	tk := newTokens(t, s, nil)
	secrets := map[string]string{}
	for _, o := range []CreateOptions{
		{Role: RoleAdmin, Description: "ops"},
		{Role: RoleNode, Node: "node-1", TTL: 24 * time.Hour},
		{Role: RoleViewer, ID: "dash01", Secret: "correct-horse-battery-staple"},
	} {
		token, rec, err := tk.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		secrets[rec.ID] = strings.TrimPrefix(token, rec.ID+".")
	}
	list, err := tk.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(secrets) {
		t.Fatalf("List = %d tokens, want %d", len(list), len(secrets))
	}
	dump, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	kvs, _, err := s.List(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range list {
		secret, ok := secrets[rec.ID]
		if !ok {
			t.Errorf("List returned unknown token %q", rec.ID)
			continue
		}
		sum := sha256.Sum256([]byte(secret))
		if rec.SecretHash != hex.EncodeToString(sum[:]) {
			t.Errorf("token %s: secretHash is not the SHA-256 of the secret", rec.ID)
		}
		if strings.Contains(string(dump), secret) {
			t.Errorf("List output contains the secret of %s: %s", rec.ID, dump)
		}
		for _, kv := range kvs {
			if strings.Contains(string(kv.Value), secret) {
				t.Errorf("store key %s holds the secret of %s", kv.Key, rec.ID)
			}
		}
	}
}

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := GenerateToken()
		if !tokenFormat.MatchString(tok) {
			t.Fatalf("GenerateToken() = %q", tok)
		}
		if seen[tok] {
			t.Fatalf("GenerateToken repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestValidRole(t *testing.T) {
	for role, want := range map[string]bool{RoleAdmin: true, RoleViewer: true, RoleNode: true, RoleJoin: true, "": false, "Admin": false, "root": false} {
		if ValidRole(role) != want {
			t.Errorf("ValidRole(%q) = %v", role, !want)
		}
	}
}
