package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// poolTemplate is what a pool's machines are made from: a change to any of it
// replaces them (a rollout). Size, bounds, rollout, drain and remediation
// settings are not part of it, nor an ssh pool's host list (adding a host
// must not replace the machines on the others). It is the hash's input
// format, apart from NodePoolSpec on purpose: a renamed or reordered field
// would change every pool's hash and so replace every machine.
type poolTemplate struct {
	Provider    string            `json:"provider"`
	MachineType string            `json:"machineType,omitempty"`
	Zones       []string          `json:"zones,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Taints      []Taint           `json:"taints,omitempty"`
	Spot        bool              `json:"spot,omitempty"`
	AWS         *AWSPoolConfig    `json:"aws,omitempty"`
	GCP         *GCPPoolConfig    `json:"gcp,omitempty"`
	SSH         *sshPoolTemplate  `json:"ssh,omitempty"`
}

type sshPoolTemplate struct {
	User                  string   `json:"user,omitempty"`
	Port                  int32    `json:"port,omitempty"`
	PrivateKeySecretRef   string   `json:"privateKeySecretRef,omitempty"`
	HostKeys              []string `json:"hostKeys,omitempty"`
	InsecureIgnoreHostKey bool     `json:"insecureIgnoreHostKey,omitempty"`
	InstallDir            string   `json:"installDir,omitempty"`
}

// TemplateHash is the hash of the pool's machine template: 10 hex digits
// of the SHA-256 of its JSON (map keys sorted, so it is stable). The node
// pool controller labels machines with it, and a change of it replaces
// them (a rollout); plans compare it to say so.
func (s *NodePoolSpec) TemplateHash() string {
	t := poolTemplate{Provider: s.Provider, MachineType: s.MachineType, Zones: s.Zones, Labels: s.Labels,
		Taints: s.Taints, Spot: s.Spot, AWS: s.AWS, GCP: s.GCP}
	if s.SSH != nil {
		t.SSH = &sshPoolTemplate{User: s.SSH.User, Port: s.SSH.Port, PrivateKeySecretRef: s.SSH.PrivateKeySecretRef,
			HostKeys: s.SSH.HostKeys, InsecureIgnoreHostKey: s.SSH.InsecureIgnoreHostKey, InstallDir: s.SSH.InstallDir}
	}
	b, _ := json.Marshal(t) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:5])
}
