package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/store"
)

const admissionsPrefix = "/nodeadmissions/"

// NodeAdmission is what the server recorded when a node joined, where the
// node cannot write it: the addresses the API server may reach its agent
// at, and the labels its Node carries (the join token's).
type NodeAdmission struct {
	Node      string            `json:"node"`
	Addresses []string          `json:"addresses"`
	Labels    map[string]string `json:"labels,omitempty"`
	Taints    []api.Taint       `json:"taints,omitempty"`
	// JoinToken is the id of the join token the node joined with.
	JoinToken string `json:"joinToken,omitempty"`
	// Credential is the id of the node's current token; only it may renew.
	Credential string    `json:"credential"`
	Admitted   time.Time `json:"admitted"`
	Renewed    time.Time `json:"renewed,omitzero"`
}

// Admissions reads and writes admission records.
type Admissions struct {
	store store.Store
}

// NewAdmissions keeps admission records in the store.
func NewAdmissions(s store.Store) *Admissions { return &Admissions{store: s} }

// Get returns a node's admission record and its revision; found is false
// when the node never joined (or joined before records existed).
func (a *Admissions) Get(ctx context.Context, node string) (rec NodeAdmission, revision int64, found bool, err error) {
	kv, err := a.store.Get(ctx, admissionsPrefix+node)
	if errors.Is(err, store.ErrNotFound) {
		return NodeAdmission{}, 0, false, nil
	}
	if err != nil {
		return NodeAdmission{}, 0, false, fmt.Errorf("reading the admission of node %s: %w", node, err)
	}
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return NodeAdmission{}, 0, false, fmt.Errorf("decoding the admission of node %s: %w", node, err)
	}
	return rec, kv.ModRevision, true, nil
}

// Put writes a record if the stored one is still at revision expected (0:
// none is stored), else store.ErrConflict or store.ErrExists.
func (a *Admissions) Put(ctx context.Context, rec NodeAdmission, expected int64) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	key := admissionsPrefix + rec.Node
	if expected == 0 {
		_, err = a.store.Create(ctx, key, b)
	} else {
		_, err = a.store.Update(ctx, key, b, expected)
	}
	if err != nil {
		return fmt.Errorf("recording the admission of node %s: %w", rec.Node, err)
	}
	return nil
}

// Taints are the taints a node was admitted with (nil when none).
func (a *Admissions) Taints(ctx context.Context, node string) ([]api.Taint, error) {
	rec, _, _, err := a.Get(ctx, node)
	return rec.Taints, err
}

// Labels are the labels a node was admitted with (nil when none).
func (a *Admissions) Labels(ctx context.Context, node string) (map[string]string, error) {
	rec, _, _, err := a.Get(ctx, node)
	return rec.Labels, err
}
