package api

import (
	"fmt"
	"strings"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

// Limits on metadata, as Kubernetes has them (annotations) or as cloud
// providers do (labels: Kubernetes has no count limit, and 100,000 labels
// once made an object etcd stored but every client choked on).
const (
	// MaxAnnotationsBytes bounds the total size of an object's annotations
	// (keys and values), Kubernetes' limit.
	MaxAnnotationsBytes = 256 * 1024
	// MaxLabels bounds how many labels one object (or template) carries.
	MaxLabels = 256
)

// Validate checks a (defaulted) object and returns every problem with its
// field path.
func Validate(obj Object) ErrorList {
	kind := KindOf(obj)
	errs := validateMeta(obj.GetObjectMeta(), kind)
	switch o := obj.(type) {
	case *Namespace:
	case *Node:
		errs = append(errs, validateNodeSpec(&o.Spec, NewPath("spec"))...)
	case *Pod:
		errs = append(errs, validatePodSpec(&o.Spec, NewPath("spec"))...)
	case *ReplicaSet:
		errs = append(errs, validateReplicaSetSpec(&o.Spec, NewPath("spec"))...)
	case *Deployment:
		errs = append(errs, validateDeploymentSpec(&o.Spec, NewPath("spec"))...)
	case *Service:
		errs = append(errs, validateServiceSpec(&o.Spec, NewPath("spec"))...)
	case *Endpoints:
		errs = append(errs, validateEndpoints(o)...)
	case *ConfigMap:
		errs = append(errs, validateConfigMap(o)...)
	case *Secret:
		errs = append(errs, validateSecret(o)...)
	case *Autoscaler:
		errs = append(errs, validateAutoscalerSpec(&o.Spec, NewPath("spec"))...)
	case *PersistentVolume:
		errs = append(errs, validatePersistentVolume(o)...)
	case *NodePool:
		errs = append(errs, validateNodePoolSpec(&o.Spec, NewPath("spec"))...)
	case *Machine:
		errs = append(errs, validateMachineSpec(&o.Spec, NewPath("spec"))...)
	case *Event:
		errs = append(errs, validateEvent(o)...)
	}
	return errs
}

// nameIsSubdomain lists kinds whose names may contain dots (host names,
// generated event names, configuration file-like names); every other name is
// a DNS-1123 label so it can appear in DNS names and labels.
var nameIsSubdomain = map[string]bool{"Node": true, "Machine": true, "ConfigMap": true, "Secret": true, "Event": true}

func validateMeta(m *ObjectMeta, kind *KindInfo) ErrorList {
	var errs ErrorList
	p := NewPath("metadata")
	errs = append(errs, validateObjectName(m.Name, kind, p.Child("name"))...)
	switch {
	case kind.Namespaced && m.Namespace == "":
		errs = append(errs, Required(p.Child("namespace"), ""))
	case kind.Namespaced:
		if msg := IsDNS1123Label(m.Namespace); msg != "" {
			errs = append(errs, Invalid(p.Child("namespace"), m.Namespace, msg))
		}
	case m.Namespace != "":
		errs = append(errs, Forbidden(p.Child("namespace"), kind.Kind+" is not namespaced"))
	}
	errs = append(errs, ValidateLabels(m.Labels, p.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.Annotations, p.Child("annotations"))...)
	for i, ref := range m.OwnerReferences {
		rp := p.Child("ownerReferences").Index(i)
		if ref.Kind == "" {
			errs = append(errs, Required(rp.Child("kind"), ""))
		}
		if ref.Name == "" {
			errs = append(errs, Required(rp.Child("name"), ""))
		}
		if ref.UID == "" {
			errs = append(errs, Required(rp.Child("uid"), ""))
		}
	}
	return errs
}

func validateObjectName(name string, kind *KindInfo, p Path) ErrorList {
	if name == "" {
		return ErrorList{Required(p, "")}
	}
	check := IsDNS1123Label
	if nameIsSubdomain[kind.Kind] {
		check = IsDNS1123Subdomain
	}
	if msg := check(name); msg != "" {
		return ErrorList{Invalid(p, name, msg)}
	}
	return nil
}

// ValidateLabels checks label keys and values, and how many there are.
func ValidateLabels(ls map[string]string, p Path) ErrorList {
	if len(ls) > MaxLabels {
		// One error, not one per label: 100,000 labels make one mistake.
		return ErrorList{TooMany(p, len(ls), MaxLabels)}
	}
	var errs ErrorList
	for _, k := range sortedKeys(ls) {
		if err := labels.ValidateKey(k); err != nil {
			errs = append(errs, Invalid(p.Key(k), k, err.Error()))
		}
		if err := labels.ValidateValue(ls[k]); err != nil {
			errs = append(errs, Invalid(p.Key(k), ls[k], err.Error()))
		}
	}
	return errs
}

func validateAnnotations(as map[string]string, p Path) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range sortedKeys(as) {
		total += len(k) + len(as[k])
		if err := labels.ValidateKey(k); err != nil {
			errs = append(errs, Invalid(p.Key(k), k, err.Error()))
		}
	}
	if total > MaxAnnotationsBytes {
		errs = append(errs, TooLong(p, MaxAnnotationsBytes))
	}
	return errs
}

// ValidateLabelSelector checks a selector's requirements.
func ValidateLabelSelector(s *LabelSelector, p Path) ErrorList {
	if s == nil {
		return nil
	}
	errs := ValidateLabels(s.MatchLabels, p.Child("matchLabels"))
	for i, r := range s.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		if _, err := labels.NewRequirement(r.Key, selectorOperator(r.Operator), r.Values); err != nil {
			switch r.Operator {
			case SelectorOpIn, SelectorOpNotIn, SelectorOpExists, SelectorOpDoesNotExist:
				errs = append(errs, Invalid(rp, r.Key, err.Error()))
			default:
				errs = append(errs, NotSupported(rp.Child("operator"), r.Operator,
					SelectorOpIn, SelectorOpNotIn, SelectorOpExists, SelectorOpDoesNotExist))
			}
		}
	}
	return errs
}

// validatePositive, validateNonNegative and friends keep numeric checks uniform.
func validateNonNegative[T ~int32 | ~int64](v T, p Path) ErrorList {
	if v < 0 {
		return ErrorList{Invalid(p, v, "must be greater than or equal to 0")}
	}
	return nil
}

func validateAtLeast[T ~int32 | ~int64](v, min T, p Path) ErrorList {
	if v < min {
		return ErrorList{Invalid(p, v, "must be greater than or equal to "+itoa(int64(min)))}
	}
	return nil
}

// MaxDurationSeconds bounds every field counted in seconds that the engine
// turns into a duration (grace periods, deadlines, toleration seconds):
// ten years, far below where seconds overflow a time.Duration (292 years)
// into a negative, already-passed deadline.
const MaxDurationSeconds = 10 * 365 * 24 * 60 * 60

// validateOptionalSeconds checks an optional count of seconds lies in
// [min, MaxDurationSeconds].
func validateOptionalSeconds(v *int64, min int64, p Path) ErrorList {
	switch {
	case v == nil:
		return nil
	case *v < min:
		return ErrorList{Invalid(p, *v, fmt.Sprintf("must be at least %d", min))}
	case *v > MaxDurationSeconds:
		return ErrorList{Invalid(p, *v, fmt.Sprintf("must be at most %d (ten years)", MaxDurationSeconds))}
	}
	return nil
}

func validateOptionalNonNegative[T ~int32 | ~int64](v *T, p Path) ErrorList {
	if v == nil {
		return nil
	}
	return validateNonNegative(*v, p)
}

func validatePort(port int32, p Path) ErrorList {
	if msg := IsPortNumber(port); msg != "" {
		return ErrorList{Invalid(p, port, msg)}
	}
	return nil
}

// validateTargetPort checks a number-or-name port.
func validateTargetPort(v IntOrString, p Path) ErrorList {
	if v.IsString {
		if msg := IsIANASvcName(v.StrVal); msg != "" {
			return ErrorList{Invalid(p, v.StrVal, msg)}
		}
		return nil
	}
	return validatePort(v.IntVal, p)
}

func validateProtocol(proto Protocol, p Path) ErrorList {
	if proto != ProtocolTCP && proto != ProtocolUDP {
		return ErrorList{NotSupported(p, proto, ProtocolTCP, ProtocolUDP)}
	}
	return nil
}

func validateDNSLabelRef(name string, p Path) ErrorList {
	if name == "" {
		return ErrorList{Required(p, "")}
	}
	if msg := IsDNS1123Label(name); msg != "" {
		return ErrorList{Invalid(p, name, msg)}
	}
	return nil
}

func validateSubdomainRef(name string, p Path) ErrorList {
	if name == "" {
		return ErrorList{Required(p, "")}
	}
	if msg := IsDNS1123Subdomain(name); msg != "" {
		return ErrorList{Invalid(p, name, msg)}
	}
	return nil
}

func selectorOperator(op string) labels.Operator {
	switch op {
	case SelectorOpIn:
		return labels.In
	case SelectorOpNotIn:
		return labels.NotIn
	case SelectorOpExists:
		return labels.Exists
	case SelectorOpDoesNotExist:
		return labels.DoesNotExist
	}
	return labels.Operator(strings.ToLower(op) + "?")
}
