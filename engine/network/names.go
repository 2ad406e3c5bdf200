package network

import (
	"crypto/sha256"
	"encoding/hex"
)

// Interface names are at most 15 bytes (IFNAMSIZ-1).

// BridgeName is the bridge of a node: "mst" and 8 hex digits of a hash of
// the cluster id and node name, so nodes of one or several clusters on one
// host (`maestro up`) get distinct bridges, and a restarted agent finds its
// own again.
func BridgeName(clusterID, nodeName string) string {
	return "mst" + shortHash(clusterID+"/"+nodeName, 8)
}

// hostVethName is the host end of a pod's veth pair: "mv" and 10 hex
// digits of a hash of the owner (the sandbox id).
func hostVethName(owner string) string { return "mv" + shortHash(owner, 10) }

// tableName is the node's nftables table.
func tableName(bridge string) string { return "maestro-" + bridge }

func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}
