package api

import (
	"strings"
)

// Defaults the API applies when a field is unset.
const (
	DefaultTerminationGracePeriodSeconds = 30
	DefaultRevisionHistoryLimit          = 10
	DefaultProgressDeadlineSeconds       = 600
	DefaultScaleDownStabilization        = 300
	DefaultCPUUtilization                = 80
)

// Default fills unset fields with their defaults, in place. Defaulting is
// idempotent: defaulting a defaulted object changes nothing.
func Default(obj Object) {
	SetTypeMeta(obj)
	switch o := obj.(type) {
	case *Namespace:
		if o.Status.Phase == "" {
			o.Status.Phase = NamespaceActive
		}
	case *Pod:
		defaultPodSpec(&o.Spec)
	case *ReplicaSet:
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = Ptr[int32](1)
		}
		defaultPodSpec(&o.Spec.Template.Spec)
	case *Deployment:
		defaultDeploymentSpec(&o.Spec)
	case *Service:
		defaultServiceSpec(&o.Spec)
	case *Secret:
		defaultSecret(o)
	case *Autoscaler:
		defaultAutoscalerSpec(&o.Spec)
	case *PersistentVolume:
		defaultPersistentVolume(o)
	case *Node:
		defaultNodeLabels(o)
	case *NodePool:
		defaultNodePoolSpec(&o.Spec)
	case *Event:
		if o.Type == "" {
			o.Type = EventNormal
		}
		if o.Count == 0 {
			o.Count = 1
		}
	case *Endpoints:
		for i := range o.Subsets {
			for j := range o.Subsets[i].Ports {
				if o.Subsets[i].Ports[j].Protocol == "" {
					o.Subsets[i].Ports[j].Protocol = ProtocolTCP
				}
			}
		}
	}
}

func defaultPodSpec(s *PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = DNSClusterFirst
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = Ptr[int64](DefaultTerminationGracePeriodSeconds)
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.Tolerations {
		if s.Tolerations[i].Operator == "" {
			s.Tolerations[i].Operator = TolerationOpEqual
		}
	}
	for i := range s.Volumes {
		if v := s.Volumes[i].Secret; v != nil && v.DefaultMode == nil {
			v.DefaultMode = Ptr[int32](0o644)
		}
		if v := s.Volumes[i].ConfigMap; v != nil && v.DefaultMode == nil {
			v.DefaultMode = Ptr[int32](0o644)
		}
	}
}

func defaultContainer(c *Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
	}
	// A limit without a request requests the limit, so the scheduler
	// reserves what the container may use.
	for name, limit := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = ResourceList{}
			}
			c.Resources.Requests[name] = limit
		}
	}
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
}

// defaultPullPolicy is Always for floating tags (none or ":latest"), so a
// re-created pod gets the newest image, and IfNotPresent otherwise.
func defaultPullPolicy(image string) PullPolicy {
	if image == "" {
		return PullNever
	}
	if strings.Contains(image, "@") {
		return PullIfNotPresent
	}
	name := image[strings.LastIndex(image, "/")+1:]
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

func defaultProbe(p *Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if h := p.HTTPGet; h != nil {
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Scheme == "" {
			h.Scheme = "HTTP"
		}
	}
}

func defaultDeploymentSpec(s *DeploymentSpec) {
	if s.Replicas == nil {
		s.Replicas = Ptr[int32](1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = RollingUpdateStrategy
	}
	if s.Strategy.Type == RollingUpdateStrategy {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = Ptr(FromString("25%"))
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			s.Strategy.RollingUpdate.MaxSurge = Ptr(FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = Ptr[int32](DefaultRevisionHistoryLimit)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = Ptr[int32](DefaultProgressDeadlineSeconds)
	}
	defaultPodSpec(&s.Template.Spec)
}

func defaultServiceSpec(s *ServiceSpec) {
	if s.Type == "" {
		s.Type = ServiceTypeClusterIP
	}
	if s.SessionAffinity == "" {
		s.SessionAffinity = SessionAffinityNone
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort.IsZero() {
			p.TargetPort = FromInt(p.Port)
		}
	}
}

// defaultSecret folds the write-only stringData into data.
func defaultSecret(s *Secret) {
	if s.Type == "" {
		s.Type = SecretTypeOpaque
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func defaultAutoscalerSpec(s *AutoscalerSpec) {
	if s.MinReplicas == nil {
		s.MinReplicas = Ptr[int32](1)
	}
	if len(s.Metrics) == 0 {
		s.Metrics = []MetricSpec{{Resource: ResourceMetricSource{Name: ResourceCPU,
			Target: MetricTarget{Type: UtilizationMetric, AverageUtilization: Ptr[int32](DefaultCPUUtilization)}}}}
	}
	if s.Behavior == nil {
		s.Behavior = &AutoscalerBehavior{}
	}
	if s.Behavior.ScaleDown == nil {
		s.Behavior.ScaleDown = &ScalingRules{}
	}
	if s.Behavior.ScaleDown.StabilizationWindowSeconds == nil {
		s.Behavior.ScaleDown.StabilizationWindowSeconds = Ptr[int32](DefaultScaleDownStabilization)
	}
	if s.Behavior.ScaleUp == nil {
		s.Behavior.ScaleUp = &ScalingRules{}
	}
	if s.Behavior.ScaleUp.StabilizationWindowSeconds == nil {
		s.Behavior.ScaleUp.StabilizationWindowSeconds = Ptr[int32](0)
	}
	// Kubernetes' autoscaling/v2 policies: up by 100 % or 4 pods per 15 s,
	// whichever is more; down by up to 100 % per 15 s.
	if s.Behavior.ScaleUp.Policies == nil {
		s.Behavior.ScaleUp.Policies = []ScalingPolicy{
			{Type: PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		}
	}
	if s.Behavior.ScaleDown.Policies == nil {
		s.Behavior.ScaleDown.Policies = []ScalingPolicy{{Type: PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}
	}
	for _, r := range []*ScalingRules{s.Behavior.ScaleUp, s.Behavior.ScaleDown} {
		if r.SelectPolicy == nil {
			r.SelectPolicy = Ptr(MaxChangePolicySelect)
		}
	}
}
