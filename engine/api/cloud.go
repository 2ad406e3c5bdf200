package api

import "time"

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
	// Spot asks for interruptible capacity where the provider has it.
	Spot bool `json:"spot,omitempty"`
	// Rollout says how machines are replaced when the template changes.
	Rollout NodePoolRollout `json:"rollout,omitzero"`
	// DrainTimeoutSeconds bounds how long a machine's node is drained before
	// the machine is deleted anyway (default 300).
	DrainTimeoutSeconds *int64 `json:"drainTimeoutSeconds,omitempty"`
	// Remediation says when a machine is replaced for its node's health.
	Remediation MachineRemediation `json:"remediation,omitzero"`
	AWS         *AWSPoolConfig     `json:"aws,omitempty"`
	GCP         *GCPPoolConfig     `json:"gcp,omitempty"`
	SSH         *SSHPoolConfig     `json:"ssh,omitempty"`
}

// NodePoolRollout is a pool's rolling replacement strategy, as a
// Deployment's: machines above the size during a rollout (maxSurge) and
// machines below it (maxUnavailable), each a count or a percentage of the
// size. Defaults: maxSurge 1, maxUnavailable 0.
type NodePoolRollout struct {
	MaxSurge       *IntOrString `json:"maxSurge,omitempty"`
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
}

// MachineRemediation says when the machine controller replaces a pool's
// machine, as Cluster API's MachineHealthCheck: its node has not joined and
// become Ready within StartupTimeoutSeconds (default 600) of its creation,
// or has been NotReady for NotReadyTimeoutSeconds (default 300). At most
// MaxInFlight (a count or percentage of the pool's size, default 1) machines
// of a pool are replaced at once.
type MachineRemediation struct {
	StartupTimeoutSeconds  *int64       `json:"startupTimeoutSeconds,omitempty"`
	NotReadyTimeoutSeconds *int64       `json:"notReadyTimeoutSeconds,omitempty"`
	MaxInFlight            *IntOrString `json:"maxInFlight,omitempty"`
}

// AWSPoolConfig says how to run EC2 instances for a pool.
type AWSPoolConfig struct {
	Region           string   `json:"region"`
	AMI              string   `json:"ami"`
	SubnetIDs        []string `json:"subnetIDs,omitempty"`
	SecurityGroupIDs []string `json:"securityGroupIDs,omitempty"`
	KeyName          string   `json:"keyName,omitempty"`
	// CredentialsSecretRef names a secret in maestro-system with keys
	// "accessKeyID", "secretAccessKey" and optionally "sessionToken"; empty:
	// the server's default credential chain (environment, shared files,
	// instance role).
	CredentialsSecretRef string `json:"credentialsSecretRef,omitempty"`
	// InstanceProfile is the IAM instance profile (name or ARN) instances run as.
	InstanceProfile string            `json:"instanceProfile,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	// Endpoint overrides the EC2 endpoint (a VPC endpoint, or a test server);
	// empty: the SDK's own resolution for Region.
	Endpoint string `json:"endpoint,omitempty"`
}

// GCPPoolConfig says how to run Compute Engine instances for a pool.
type GCPPoolConfig struct {
	Project    string `json:"project"`
	Image      string `json:"image"`
	Network    string `json:"network,omitempty"`
	Subnetwork string `json:"subnetwork,omitempty"`
	// CredentialsSecretRef names a secret in maestro-system with key
	// "credentials.json" (a service account key); empty: the server's
	// Application Default Credentials.
	CredentialsSecretRef string `json:"credentialsSecretRef,omitempty"`
	// ServiceAccount is the email of the service account instances run as.
	ServiceAccount string            `json:"serviceAccount,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	// Endpoint overrides the Compute Engine endpoint (Private Service
	// Connect, or a test server); empty: compute.googleapis.com.
	Endpoint string `json:"endpoint,omitempty"`
}

// SSHPoolConfig lists existing hosts to turn into nodes.
type SSHPoolConfig struct {
	Hosts []string `json:"hosts"`
	User  string   `json:"user,omitempty"`
	Port  int32    `json:"port,omitempty"`
	// PrivateKeySecretRef names a secret (key "privateKey") in the
	// maestro-system namespace holding the SSH key.
	PrivateKeySecretRef string `json:"privateKeySecretRef,omitempty"`
	// HostKeys pins the hosts' public keys, in authorized_keys format
	// ("ssh-ed25519 AAAA..."), optionally prefixed by the host as in
	// known_hosts ("10.0.0.5 ssh-ed25519 AAAA..."). A host whose key is not
	// listed is refused. Required unless InsecureIgnoreHostKey is set.
	HostKeys []string `json:"hostKeys,omitempty"`
	// InsecureIgnoreHostKey accepts any host key: only for hosts the user
	// knows are on a trusted network, and only when said explicitly.
	InsecureIgnoreHostKey bool `json:"insecureIgnoreHostKey,omitempty"`
	// InstallDir is where the agent is installed on each host (default
	// /var/lib/maestro-agent).
	InstallDir string `json:"installDir,omitempty"`
}

// NodePoolStatus is what the cloud controller observes of a pool.
type NodePoolStatus struct {
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	Machines           int32 `json:"machines"`
	ReadyMachines      int32 `json:"readyMachines"`
	// UpdatedMachines counts the machines made from the current template.
	UpdatedMachines int32 `json:"updatedMachines"`
	// TemplateHash is the hash of the current template (the value of
	// LabelTemplateHash on its machines).
	TemplateHash string      `json:"templateHash,omitempty"`
	Conditions   []Condition `json:"conditions,omitempty"`
}

// NodePool condition: Ready is True when spec.size machines run with Ready
// nodes, all made from the current template.
const NodePoolReady = "Ready"

// NodePool condition: Autoscaling says what the cluster autoscaler last
// decided for the pool (reasons below), on pools with spec.autoscaling.
const NodePoolAutoscaling = "Autoscaling"

// Reasons of the cluster autoscaler's conditions and events, with
// Kubernetes' cluster-autoscaler's names.
const (
	// ReasonScaledUpGroup (pool): the pool's size was raised for pending pods.
	ReasonScaledUpGroup = "ScaledUpGroup"
	// ReasonTriggeredScaleUp (pod): a pool is adding nodes for the pod.
	ReasonTriggeredScaleUp = "TriggeredScaleUp"
	// ReasonNotTriggerScaleUp (pod and pool): no pool can add a node the
	// pod fits on; the message says why, pool by pool.
	ReasonNotTriggerScaleUp = "NotTriggerScaleUp"
	// ReasonScaleDown (pool and node): an unneeded node is being removed.
	ReasonScaleDown = "ScaleDown"
	// ReasonNoScaleNeeded (pool): nothing to do.
	ReasonNoScaleNeeded = "NoScaleNeeded"
)

// The cluster autoscaler's messages to pending pods that rollout waits
// (maestro rollout status, the provider) read from their events: a
// TriggeredScaleUp event's message starts with MessageWaitingForPool and
// the pool's name ("waiting for node pool web to add 1 node(s)"); a
// NotTriggerScaleUp one with MessageNoPoolCanHold when no pool's node
// could ever hold the pod (a wait fails at once), and otherwise says why
// no pool can add a node now (at its maximum size: the wait goes on).
const (
	MessageWaitingForPool = "waiting for node pool "
	MessageNoPoolCanHold  = "no node pool can hold the pod"
)

// AnnotationDeleteMachine marks the machine a pool's scale-down removes
// first (the cluster autoscaler names the node it found unneeded this way
// before it lowers the pool's size).
const AnnotationDeleteMachine = "nodepool.maestro.dev/delete-machine"

// AnnotationTemplateCapacity sets the capacity the cluster autoscaler
// assumes for a node of the pool while the pool has none to copy it from
// ("cpu=4,memory=16Gi,pods=110"; any part may be left out).
const AnnotationTemplateCapacity = "clusterautoscaler.maestro.dev/template-capacity"

// Reasons of a NodePool's Ready condition (and of the pool controller's events).
const (
	ReasonPoolReady     = "MachinesReady"
	ReasonScalingUp     = "ScalingUp"
	ReasonScalingDown   = "ScalingDown"
	ReasonRollingOut    = "RollingOut"
	ReasonMachineFailed = "MachineFailed"
	// ReasonNotEnoughHosts: an ssh pool is larger than its host list.
	ReasonNotEnoughHosts = "NotEnoughHosts"
	// ReasonPoolDeleting: the pool is being deleted, its machines first.
	ReasonPoolDeleting = "Deleting"
	// The cloud refused a machine for a reason only a person can fix (the
	// pool's Ready condition, and its machine's Provisioned condition, carry
	// the cloud's own message): over quota, no permission or credentials,
	// an invalid request (an unknown instance type or image).
	ReasonQuotaExceeded    = "QuotaExceeded"
	ReasonPermissionDenied = "PermissionDenied"
	ReasonInvalidRequest   = "InvalidRequest"
	// ReasonInsufficientCapacity: no zone of the pool had capacity; the
	// machine is tried again (not a failure: capacity comes back).
	ReasonInsufficientCapacity = "InsufficientCapacity"
	// ReasonSpotInterrupted: the cloud is reclaiming a spot machine; it is
	// drained and replaced.
	ReasonSpotInterrupted = "SpotInterrupted"
	// ReasonMachineTerminated: the cloud machine stopped for good outside
	// maestro (terminated by hand, reclaimed); it is replaced.
	ReasonMachineTerminated = "MachineTerminated"
)

// Machine conditions.
const (
	// MachineProvisioned: the cloud accepted the machine (False, reason
	// ReasonCloudError, with the cloud's message, while it refuses).
	MachineProvisioned = "Provisioned"
	// MachineNodeReady: the machine's node joined and is Ready (False:
	// ReasonNodeJoining while it may still join within the startup
	// timeout, ReasonNodeNotJoined, with the agent's last log lines, once
	// that timeout passed, or ReasonNodeNotReady).
	MachineNodeReady = "NodeReady"
	// MachineDraining: the node is being drained before the machine is
	// deleted (True while it runs; False once drained or timed out).
	MachineDraining = "Draining"
)

// Reasons of Machine conditions and events.
const (
	ReasonCloudError    = "CloudError"
	ReasonProvisioned   = "Provisioned"
	ReasonNodeJoined    = "NodeJoined"
	ReasonNodeNotJoined = "NodeNotJoined"
	// ReasonNodeJoining: the machine runs; its node has not joined or
	// become Ready yet, and the startup timeout has not passed.
	ReasonNodeJoining  = "NodeJoining"
	ReasonNodeNotReady = "NodeNotReady"
	// ReasonRemediating: the machine is being replaced for its node's health.
	ReasonRemediating  = "Remediating"
	ReasonDrainStarted = "DrainStarted"
	ReasonDrained      = "Drained"
	ReasonDrainTimeout = "DrainTimeout"
	// ReasonDrainSkipped: the node was not Ready (its pods cannot stop
	// there; they are deleted with the Node).
	ReasonDrainSkipped = "DrainSkipped"
)

// Finalizers of the node pool and machine controllers: a Machine is held
// until its node is drained, its cloud machine deleted, its join token
// revoked and its Node deleted; a NodePool until its machines are gone
// (their deletion needs the pool's cloud settings).
const (
	FinalizerMachine  = "maestro.dev/machine"
	FinalizerNodePool = "maestro.dev/nodepool"
)

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
	// Labels and Taints are put on the machine's node; Spot asks for
	// interruptible capacity (all from the pool's template).
	Labels map[string]string `json:"labels,omitempty"`
	Taints []Taint           `json:"taints,omitempty"`
	Spot   bool              `json:"spot,omitempty"`
}

// LabelTemplateHash labels a pool's machines with the hash of the pool
// template they were made from; a rollout replaces machines whose hash is
// not the pool's current one.
const LabelTemplateHash = "nodepool.maestro.dev/template-hash"

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
	Phase      string `json:"phase,omitempty"`
	ProviderID string `json:"providerID,omitempty"`
	// Zone is where the cloud placed the machine: spec.zone, or another of
	// its pool's zones when spec.zone had no capacity.
	Zone       string        `json:"zone,omitempty"`
	NodeName   string        `json:"nodeName,omitempty"`
	Addresses  []NodeAddress `json:"addresses,omitempty"`
	Message    string        `json:"message,omitempty"`
	Conditions []Condition   `json:"conditions,omitempty"`
	// JoinTokenID is the id of the single-use join token made for this
	// machine (never the secret), revoked when the machine is deleted.
	JoinTokenID string `json:"joinTokenID,omitempty"`
	// ProvisionedAt is when the cloud accepted the machine; NodeReadyAt is
	// when its node first became Ready.
	ProvisionedAt *time.Time `json:"provisionedAt,omitempty"`
	NodeReadyAt   *time.Time `json:"nodeReadyAt,omitempty"`
}

// NodePool defaults, applied by the API server (see Default).
const (
	DefaultDrainTimeoutSeconds    int64 = 300
	DefaultStartupTimeoutSeconds  int64 = 600
	DefaultNotReadyTimeoutSeconds int64 = 300
	DefaultSSHInstallDir                = "/var/lib/maestro-agent"
)

func defaultNodePoolSpec(s *NodePoolSpec) {
	if s.Size == nil {
		s.Size = Ptr(s.MinSize)
	}
	if s.Rollout.MaxSurge == nil {
		s.Rollout.MaxSurge = Ptr(FromInt(1))
	}
	if s.Rollout.MaxUnavailable == nil {
		s.Rollout.MaxUnavailable = Ptr(FromInt(0))
	}
	if s.DrainTimeoutSeconds == nil {
		s.DrainTimeoutSeconds = Ptr(DefaultDrainTimeoutSeconds)
	}
	r := &s.Remediation
	if r.StartupTimeoutSeconds == nil {
		r.StartupTimeoutSeconds = Ptr(DefaultStartupTimeoutSeconds)
	}
	if r.NotReadyTimeoutSeconds == nil {
		r.NotReadyTimeoutSeconds = Ptr(DefaultNotReadyTimeoutSeconds)
	}
	if r.MaxInFlight == nil {
		r.MaxInFlight = Ptr(FromInt(1))
	}
	if s.SSH != nil {
		if s.SSH.User == "" {
			s.SSH.User = "root"
		}
		if s.SSH.Port == 0 {
			s.SSH.Port = 22
		}
		if s.SSH.InstallDir == "" {
			s.SSH.InstallDir = DefaultSSHInstallDir
		}
	}
}
