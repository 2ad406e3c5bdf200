package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

// Roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
	RoleNode   = "node"
	RoleJoin   = "join"
)

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool {
	switch r {
	case RoleAdmin, RoleViewer, RoleNode, RoleJoin:
		return true
	}
	return false
}

// ErrInvalidToken is returned for unknown, malformed, wrong or expired tokens;
// the message does not say which, so probing learns nothing.
var ErrInvalidToken = errors.New("auth: invalid or expired token")

const tokensPrefix = "/tokens/"

// Token is the stored record of a credential (never the secret itself).
type Token struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	// Node is the node a node token belongs to, or the only name a join
	// token admits ("" admits any).
	Node        string     `json:"node,omitempty"`
	SecretHash  string     `json:"secretHash"`
	Description string     `json:"description,omitempty"`
	System      bool       `json:"system,omitempty"` // the control plane's own components: system priority
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`

	// Join tokens only. Uses is how many joins the token admits in all (0
	// means 1: single use, also for records older than the field); Used
	// counts them, in compare-and-swap writes.
	Uses int `json:"uses,omitempty"`
	Used int `json:"used,omitempty"`
	// Addresses are the only addresses a node joining with the token is
	// admitted with ("" : the address the join comes from).
	Addresses []string `json:"addresses,omitempty"`
	// Labels are set on the Node at registration and the node cannot
	// change them (zone, pool, instance type).
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are put on the Node at registration (join tokens).
	Taints []api.Taint `json:"taints,omitempty"`
}

// UsesLeft is how many more joins a join token admits.
func (r Token) UsesLeft() int { return max(r.Uses, 1) - r.Used }

func (r Token) expired(now time.Time) bool { return r.Expires != nil && !now.Before(*r.Expires) }

// User is an authenticated caller.
type User struct {
	Name    string // "token:<id>"
	TokenID string
	Role    string
	Node    string // for RoleNode
	System  bool   // the control plane's own components
}

// Tokens issues and checks tokens.
type Tokens struct {
	store store.Store
	now   func() time.Time
	log   *slog.Logger
	// SweepInterval is how often Run deletes expired tokens (default
	// DefaultSweepInterval); set it before Run.
	SweepInterval time.Duration

	mu    sync.RWMutex
	cache map[string]Token
	// synced is closed once the cache holds the store's tokens.
	synced chan struct{}
	once   sync.Once
}

// NewTokens builds a token registry over the store. Run keeps its cache fresh.
func NewTokens(s store.Store, log *slog.Logger) *Tokens {
	if log == nil {
		log = slog.Default()
	}
	return &Tokens{store: s, now: time.Now, log: log, cache: map[string]Token{}, synced: make(chan struct{})}
}

// CreateOptions describe a new token.
type CreateOptions struct {
	Role        string
	Node        string
	System      bool          // see Token.System
	TTL         time.Duration // 0: never expires
	Description string
	// Join tokens: how many joins (0: one), and the addresses and labels
	// the nodes are admitted with (see Token).
	Uses      int
	Addresses []string
	Labels    map[string]string
	Taints    []api.Taint
	// Secret, when set, is used instead of a random one (for a token string
	// the server generated and saved before storing it).
	ID, Secret string
}

// Create stores a new token and returns its full string (shown once).
func (t *Tokens) Create(ctx context.Context, o CreateOptions) (string, Token, error) {
	if !ValidRole(o.Role) {
		return "", Token{}, fmt.Errorf("role %q: must be one of admin, viewer, node, join", o.Role)
	}
	if o.Role == RoleNode && o.Node == "" {
		return "", Token{}, errors.New("a node token needs the node name")
	}
	if o.Role != RoleJoin && (o.Uses != 0 || len(o.Addresses) > 0 || len(o.Labels) > 0 || len(o.Taints) > 0) {
		return "", Token{}, errors.New("uses, addresses, labels and taints are for join tokens only")
	}
	id, secret := o.ID, o.Secret
	if id == "" {
		id = randomString(6)
	}
	if secret == "" {
		secret = randomString(26)
	}
	rec := Token{ID: id, Role: o.Role, Node: o.Node, SecretHash: hashSecret(secret),
		Description: o.Description, Created: t.now().UTC().Truncate(time.Second),
		Uses: o.Uses, Addresses: o.Addresses, Labels: o.Labels, Taints: o.Taints}
	rec.System = o.System
	if o.TTL > 0 {
		exp := rec.Created.Add(o.TTL)
		rec.Expires = &exp
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return "", Token{}, err
	}
	if _, err := t.store.Create(ctx, tokensPrefix+id, b); err != nil {
		return "", Token{}, fmt.Errorf("storing token %s: %w", id, err)
	}
	t.put(rec)
	return id + "." + secret, rec, nil
}

// Ensure stores a known token string if it is not stored yet (the admin
// token a server saved to its data directory, on a fresh store).
func (t *Tokens) Ensure(ctx context.Context, token string, o CreateOptions) error {
	id, secret, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("token has no '.': %w", ErrInvalidToken)
	}
	if kv, err := t.store.Get(ctx, tokensPrefix+id); err == nil {
		var rec Token
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return fmt.Errorf("decoding token %s: %w", id, err)
		}
		if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(rec.SecretHash)) != 1 || rec.Role != o.Role {
			return fmt.Errorf("token %s is stored with a different secret or role than the one given: "+
				"the data directory and the store belong to different clusters", id)
		}
		if rec.System != o.System { // stored before the flag existed
			return t.setSystem(ctx, rec, kv.ModRevision, o.System)
		}
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading token %s: %w", id, err)
	}
	o.ID, o.Secret = id, secret
	_, _, err := t.Create(ctx, o)
	if errors.Is(err, store.ErrExists) {
		return nil
	}
	return err
}

// setSystem rewrites a stored token's System flag.
func (t *Tokens) setSystem(ctx context.Context, rec Token, rev int64, system bool) error {
	rec.System = system
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	// A conflict means another server rewrote it first: the same change.
	if _, err := t.store.Update(ctx, tokensPrefix+rec.ID, b, rev); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("updating token %s: %w", rec.ID, err)
	}
	t.put(rec)
	return nil
}

// Delete revokes a token.
func (t *Tokens) Delete(ctx context.Context, id string) error {
	if _, err := t.store.Delete(ctx, tokensPrefix+id, 0); err != nil {
		return fmt.Errorf("deleting token %s: %w", id, err)
	}
	t.forget(id)
	return nil
}

// List returns every token record.
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	kvs, _, err := t.store.List(ctx, tokensPrefix)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	out := make([]Token, 0, len(kvs))
	for _, kv := range kvs {
		var rec Token
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("decoding token %s: %w", kv.Key, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Authenticate checks a bearer token.
func (t *Tokens) Authenticate(ctx context.Context, token string) (User, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || id == "" || secret == "" {
		return User{}, ErrInvalidToken
	}
	rec, found := t.get(id)
	if !found {
		kv, err := t.store.Get(ctx, tokensPrefix+id)
		if errors.Is(err, store.ErrNotFound) {
			return User{}, ErrInvalidToken
		}
		if err != nil {
			return User{}, fmt.Errorf("reading token: %w", err)
		}
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return User{}, fmt.Errorf("decoding token %s: %w", id, err)
		}
		t.put(rec)
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(rec.SecretHash)) != 1 {
		return User{}, ErrInvalidToken
	}
	if rec.expired(t.now()) || rec.Role == RoleJoin && rec.UsesLeft() <= 0 {
		return User{}, ErrInvalidToken
	}
	return User{Name: "token:" + rec.ID, TokenID: rec.ID, Role: rec.Role, Node: rec.Node, System: rec.System}, nil
}

// Run keeps the cache in step with the store until ctx ends, so a token
// revoked through another API server stops working here too, and deletes
// expired tokens every SweepInterval.
func (t *Tokens) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { t.sweepLoop(ctx) })
	defer wg.Wait()
	for ctx.Err() == nil {
		if err := t.syncOnce(ctx); err != nil && ctx.Err() == nil {
			t.log.Warn("token cache watch ended; relisting", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Synced is closed when the cache first holds every stored token.
func (t *Tokens) Synced() <-chan struct{} { return t.synced }

func (t *Tokens) syncOnce(ctx context.Context) error {
	kvs, rev, err := t.store.List(ctx, tokensPrefix)
	if err != nil {
		return err
	}
	fresh := map[string]Token{}
	for _, kv := range kvs {
		var rec Token
		if json.Unmarshal(kv.Value, &rec) == nil {
			fresh[rec.ID] = rec
		}
	}
	t.mu.Lock()
	t.cache = fresh
	t.mu.Unlock()
	t.once.Do(func() { close(t.synced) })
	w, err := t.store.Watch(ctx, tokensPrefix, rev)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		id := strings.TrimPrefix(ev.KV.Key, tokensPrefix)
		if ev.Type == store.EventDeleted {
			t.mu.Lock()
			delete(t.cache, id)
			t.mu.Unlock()
			continue
		}
		var rec Token
		if json.Unmarshal(ev.KV.Value, &rec) == nil {
			t.put(rec)
		}
	}
	return w.Err()
}

func (t *Tokens) get(id string) (Token, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	rec, ok := t.cache[id]
	return rec, ok
}

func (t *Tokens) put(rec Token) {
	t.mu.Lock()
	t.cache[rec.ID] = rec
	t.mu.Unlock()
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomString returns n lowercase base32 characters (5 bits each; a
// 26-character secret carries 128 bits).
func randomString(n int) string {
	var s string
	for len(s) < n {
		s += strings.ToLower(rand.Text())
	}
	return s[:n]
}

// GenerateToken makes a fresh "<id>.<secret>" token string (not stored).
func GenerateToken() string { return randomString(6) + "." + randomString(26) }
