package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"

	"github.com/maestro-dev/maestro/engine/store"
)

// clusterIDKey holds the cluster's id in the store (under the etcd
// prefix), so every server of the cluster, a restarted one and one
// restored from a backup serve the same id.
const clusterIDKey = "/cluster/id"

// clusterIDPattern is what ensureClusterID writes: 16 lowercase hex
// digits, a valid label value.
var clusterIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// ensureClusterID reads the cluster's id, generating and storing it on
// the first start. Servers starting together race through a create: the
// loser reads the winner's id.
func ensureClusterID(ctx context.Context, st store.Store) (string, error) {
	for range 3 {
		kv, err := st.Get(ctx, clusterIDKey)
		if err == nil {
			id := string(kv.Value)
			if !clusterIDPattern.MatchString(id) {
				return "", fmt.Errorf("cluster id: the store holds %q at %s, want 16 hex digits", id, clusterIDKey)
			}
			return id, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("reading the cluster id: %w", err)
		}
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("generating the cluster id: %w", err)
		}
		id := hex.EncodeToString(b)
		_, err = st.Create(ctx, clusterIDKey, []byte(id))
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, store.ErrExists) {
			return "", fmt.Errorf("storing the cluster id: %w", err)
		}
	}
	return "", errors.New("cluster id: created and gone again three times; is something deleting " + clusterIDKey + "?")
}
