package nodepool

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/maestro-dev/maestro/engine/api"
)

// template is what a pool's machines are made from: a change to any of it
// replaces them (a rollout). Size, bounds, rollout, drain and remediation
// settings are not part of it, nor an ssh pool's host list (adding a host
// must not replace the machines on the others).
type template struct {
	Provider    string             `json:"provider"`
	MachineType string             `json:"machineType,omitempty"`
	Zones       []string           `json:"zones,omitempty"`
	Labels      map[string]string  `json:"labels,omitempty"`
	Taints      []api.Taint        `json:"taints,omitempty"`
	Spot        bool               `json:"spot,omitempty"`
	AWS         *api.AWSPoolConfig `json:"aws,omitempty"`
	GCP         *api.GCPPoolConfig `json:"gcp,omitempty"`
	SSH         *sshTemplate       `json:"ssh,omitempty"`
}

type sshTemplate struct {
	User                  string   `json:"user,omitempty"`
	Port                  int32    `json:"port,omitempty"`
	PrivateKeySecretRef   string   `json:"privateKeySecretRef,omitempty"`
	HostKeys              []string `json:"hostKeys,omitempty"`
	InsecureIgnoreHostKey bool     `json:"insecureIgnoreHostKey,omitempty"`
	InstallDir            string   `json:"installDir,omitempty"`
}

// TemplateHash is the hash of a pool's machine template: 10 hex digits of
// the SHA-256 of its JSON (map keys sorted, so it is stable).
func TemplateHash(s *api.NodePoolSpec) string {
	t := template{Provider: s.Provider, MachineType: s.MachineType, Zones: s.Zones, Labels: s.Labels,
		Taints: s.Taints, Spot: s.Spot, AWS: s.AWS, GCP: s.GCP}
	if s.SSH != nil {
		t.SSH = &sshTemplate{User: s.SSH.User, Port: s.SSH.Port, PrivateKeySecretRef: s.SSH.PrivateKeySecretRef,
			HostKeys: s.SSH.HostKeys, InsecureIgnoreHostKey: s.SSH.InsecureIgnoreHostKey, InstallDir: s.SSH.InstallDir}
	}
	b, _ := json.Marshal(t) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:5])
}
