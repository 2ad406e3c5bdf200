package api

// NodePool is a group of machines of one shape from one provider; the cloud
// controller creates and deletes Machines to keep it between its bounds.
type NodePool struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       NodePoolSpec   `json:"spec"`
	Status     NodePoolStatus `json:"status,omitzero"`
}

// Cloud providers.
const (
	ProviderLocal = "local"
	ProviderSSH   = "ssh"
	ProviderAWS   = "aws"
	ProviderGCP   = "gcp"
)

// NodePoolSpec is the desired shape and size of a pool.
type NodePoolSpec struct {
	Provider string `json:"provider"`
	MinSize  int32  `json:"minSize"`
	MaxSize  int32  `json:"maxSize"`
	// Size is the number of machines wanted now; the cloud controller's
	// autoscaling moves it between MinSize and MaxSize.
	Size        *int32            `json:"size,omitempty"`
	MachineType string            `json:"machineType,omitempty"`
	Zones       []string          `json:"zones,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Taints      []Taint           `json:"taints,omitempty"`
	Autoscaling bool              `json:"autoscaling,omitempty"`
	AWS         *AWSPoolConfig    `json:"aws,omitempty"`
	GCP         *GCPPoolConfig    `json:"gcp,omitempty"`
	SSH         *SSHPoolConfig    `json:"ssh,omitempty"`
}

// AWSPoolConfig says how to run EC2 instances for a pool.
type AWSPoolConfig struct {
	Region           string            `json:"region"`
	AMI              string            `json:"ami"`
	SubnetIDs        []string          `json:"subnetIDs,omitempty"`
	SecurityGroupIDs []string          `json:"securityGroupIDs,omitempty"`
	KeyName          string            `json:"keyName,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	Endpoint         string            `json:"endpoint,omitempty"`
}

// GCPPoolConfig says how to run Compute Engine instances for a pool.
type GCPPoolConfig struct {
	Project  string            `json:"project"`
	Image    string            `json:"image"`
	Network  string            `json:"network,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Endpoint string            `json:"endpoint,omitempty"`
}

// SSHPoolConfig lists existing hosts to turn into nodes.
type SSHPoolConfig struct {
	Hosts []string `json:"hosts"`
	User  string   `json:"user,omitempty"`
	Port  int32    `json:"port,omitempty"`
	// PrivateKeySecretRef names a secret (key "privateKey") in the
	// maestro-system namespace holding the SSH key.
	PrivateKeySecretRef string `json:"privateKeySecretRef,omitempty"`
}

// NodePoolStatus is what the cloud controller observes of a pool.
type NodePoolStatus struct {
	ObservedGeneration int64       `json:"observedGeneration,omitempty"`
	Machines           int32       `json:"machines"`
	ReadyMachines      int32       `json:"readyMachines"`
	Conditions         []Condition `json:"conditions,omitempty"`
}

// Machine is one provisioned host of a pool.
type Machine struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       MachineSpec   `json:"spec"`
	Status     MachineStatus `json:"status,omitzero"`
}

// MachineSpec is the desired machine.
type MachineSpec struct {
	Pool        string `json:"pool"`
	Provider    string `json:"provider"`
	MachineType string `json:"machineType,omitempty"`
	Zone        string `json:"zone,omitempty"`
	// Host is the address of an existing host (ssh provider).
	Host string `json:"host,omitempty"`
}

// Machine phases.
const (
	MachinePending      = "Pending"
	MachineProvisioning = "Provisioning"
	MachineRunning      = "Running"
	MachineDeleting     = "Deleting"
	MachineFailed       = "Failed"
)

// MachineStatus is what the cloud reported for the machine.
type MachineStatus struct {
	Phase      string        `json:"phase,omitempty"`
	ProviderID string        `json:"providerID,omitempty"`
	NodeName   string        `json:"nodeName,omitempty"`
	Addresses  []NodeAddress `json:"addresses,omitempty"`
	Message    string        `json:"message,omitempty"`
	Conditions []Condition   `json:"conditions,omitempty"`
}
