package api

import (
	"time"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Autoscaler scales a deployment between bounds from observed resource
// utilisation (a horizontal pod autoscaler). It owns the target's replicas.
type Autoscaler struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       AutoscalerSpec   `json:"spec"`
	Status     AutoscalerStatus `json:"status,omitzero"`
}

// AutoscalerSpec is the desired scaling behaviour.
type AutoscalerSpec struct {
	ScaleTargetRef ScaleTargetRef      `json:"scaleTargetRef"`
	MinReplicas    *int32              `json:"minReplicas,omitempty"`
	MaxReplicas    int32               `json:"maxReplicas"`
	Metrics        []MetricSpec        `json:"metrics,omitempty"`
	Behavior       *AutoscalerBehavior `json:"behavior,omitempty"`
}

// ScaleTargetRef names the scaled object in the autoscaler's namespace.
type ScaleTargetRef struct {
	Kind string `json:"kind"` // Deployment or ReplicaSet
	Name string `json:"name"`
}

// MetricSpec is one utilisation target; the largest proposal wins.
type MetricSpec struct {
	Resource ResourceMetricSource `json:"resource"`
}

// ResourceMetricSource targets a per-pod resource usage.
type ResourceMetricSource struct {
	Name   ResourceName `json:"name"`
	Target MetricTarget `json:"target"`
}

// Metric target types.
const (
	UtilizationMetric  = "Utilization"
	AverageValueMetric = "AverageValue"
)

// MetricTarget is a utilisation percentage of requests or an average value.
type MetricTarget struct {
	Type               string             `json:"type"`
	AverageUtilization *int32             `json:"averageUtilization,omitempty"`
	AverageValue       *resource.Quantity `json:"averageValue,omitempty"`
}

// AutoscalerBehavior sets stabilisation windows per direction.
type AutoscalerBehavior struct {
	ScaleUp   *ScalingRules `json:"scaleUp,omitempty"`
	ScaleDown *ScalingRules `json:"scaleDown,omitempty"`
}

// ScalingRules damp flapping: the autoscaler acts on the most conservative
// recommendation seen within the window, and moves at most as far as the
// selected policy allows per period (autoscaling/v2 semantics).
type ScalingRules struct {
	StabilizationWindowSeconds *int32 `json:"stabilizationWindowSeconds,omitempty"`
	// SelectPolicy picks among the policies: Max (the largest change,
	// default), Min (the smallest) or Disabled (no scaling this way).
	SelectPolicy *ScalingPolicySelect `json:"selectPolicy,omitempty"`
	// Policies limit the change over a period; defaulted as in Kubernetes.
	Policies []ScalingPolicy `json:"policies,omitempty"`
}

// ScalingPolicySelect chooses among scaling policies.
type ScalingPolicySelect string

// Policy selections.
const (
	MaxChangePolicySelect ScalingPolicySelect = "Max"
	MinChangePolicySelect ScalingPolicySelect = "Min"
	DisabledPolicySelect  ScalingPolicySelect = "Disabled"
)

// ScalingPolicyType is the unit of a policy's value.
type ScalingPolicyType string

// Policy types.
const (
	PodsScalingPolicy    ScalingPolicyType = "Pods"
	PercentScalingPolicy ScalingPolicyType = "Percent"
)

// ScalingPolicy allows a change of Value pods or Value percent of the
// current replicas within PeriodSeconds.
type ScalingPolicy struct {
	Type          ScalingPolicyType `json:"type"`
	Value         int32             `json:"value"`
	PeriodSeconds int32             `json:"periodSeconds"`
}

// AutoscalerStatus is what the autoscaler observed and decided.
type AutoscalerStatus struct {
	ObservedGeneration int64          `json:"observedGeneration,omitempty"`
	CurrentReplicas    int32          `json:"currentReplicas"`
	DesiredReplicas    int32          `json:"desiredReplicas"`
	CurrentMetrics     []MetricStatus `json:"currentMetrics,omitempty"`
	LastScaleTime      *time.Time     `json:"lastScaleTime,omitempty"`
	Conditions         []Condition    `json:"conditions,omitempty"`
}

// MetricStatus is the observed value of one metric.
type MetricStatus struct {
	Name               ResourceName       `json:"name"`
	AverageUtilization *int32             `json:"averageUtilization,omitempty"`
	AverageValue       *resource.Quantity `json:"averageValue,omitempty"`
}

// Autoscaler condition types (autoscaling/v2's).
const (
	// AutoscalerAbleToScale: the target's scale could be read and written
	// (False when it could not), and whether a stabilisation window held a
	// change back.
	AutoscalerAbleToScale = "AbleToScale"
	// AutoscalerScalingActive: a replica count could be computed from the
	// metrics (False: metrics missing, or scaling disabled at 0 replicas).
	AutoscalerScalingActive = "ScalingActive"
	// AutoscalerScalingLimited: the computed count was clamped by min/max
	// or by a scaling policy.
	AutoscalerScalingLimited = "ScalingLimited"
)

// Autoscaler condition and event reasons, Kubernetes' names.
const (
	ReasonFailedGetScale          = "FailedGetScale"
	ReasonSucceededGetScale       = "SucceededGetScale"
	ReasonFailedUpdateScale       = "FailedUpdateScale"
	ReasonSucceededRescale        = "SucceededRescale"
	ReasonReadyForNewScale        = "ReadyForNewScale"
	ReasonScaleUpStabilized       = "ScaleUpStabilized"
	ReasonScaleDownStabilized     = "ScaleDownStabilized"
	ReasonFailedGetResourceMetric = "FailedGetResourceMetric"
	ReasonInvalidSelector         = "InvalidSelector"
	ReasonValidMetricFound        = "ValidMetricFound"
	ReasonScalingDisabled         = "ScalingDisabled"
	ReasonTooFewReplicas          = "TooFewReplicas"
	ReasonTooManyReplicas         = "TooManyReplicas"
	ReasonScaleUpLimit            = "ScaleUpLimit"
	ReasonScaleDownLimit          = "ScaleDownLimit"
	ReasonDesiredWithinRange      = "DesiredWithinRange"
	// Events only.
	ReasonSuccessfulRescale            = "SuccessfulRescale"
	ReasonFailedRescale                = "FailedRescale"
	ReasonFailedComputeMetricsReplicas = "FailedComputeMetricsReplicas"
)
