package api

import (
	"github.com/maestro-dev/maestro/engine/api/labels"
)

// validatePodTemplate checks a controller's template: a valid pod whose
// labels the controller's selector matches, restarted always (a controller
// replaces pods that exit, so they must not be allowed to stay exited).
func validatePodTemplate(sel *LabelSelector, t *PodTemplateSpec, p Path) ErrorList {
	var errs ErrorList
	sp := p.Child("selector")
	tp := p.Child("template")
	if sel == nil || len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, Required(sp, "a selector with at least one label requirement"))
	} else {
		errs = append(errs, ValidateLabelSelector(sel, sp)...)
	}
	errs = append(errs, ValidateLabels(t.Labels, tp.Child("metadata").Child("labels"))...)
	errs = append(errs, validateAnnotations(t.Annotations, tp.Child("metadata").Child("annotations"))...)
	if len(errs) == 0 && sel != nil {
		if s, err := AsSelector(sel); err == nil && !s.Matches(labels.Set(t.Labels)) {
			errs = append(errs, Invalid(tp.Child("metadata").Child("labels"), labels.Set(t.Labels).String(),
				"must match the selector "+s.String()))
		}
	}
	errs = append(errs, validatePodSpec(&t.Spec, tp.Child("spec"))...)
	if rp := t.Spec.RestartPolicy; rp == RestartOnFailure || rp == RestartNever {
		errs = append(errs, NotSupported(tp.Child("spec").Child("restartPolicy"), t.Spec.RestartPolicy, RestartAlways))
	}
	return errs
}

func validateReplicaSetSpec(s *ReplicaSetSpec, p Path) ErrorList {
	errs := validateOptionalNonNegative(s.Replicas, p.Child("replicas"))
	errs = append(errs, validateNonNegative(s.MinReadySeconds, p.Child("minReadySeconds"))...)
	return append(errs, validatePodTemplate(s.Selector, &s.Template, p)...)
}

func validateDeploymentSpec(s *DeploymentSpec, p Path) ErrorList {
	errs := validateOptionalNonNegative(s.Replicas, p.Child("replicas"))
	errs = append(errs, validateNonNegative(s.MinReadySeconds, p.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(s.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	if d := s.ProgressDeadlineSeconds; d != nil {
		if *d <= s.MinReadySeconds {
			errs = append(errs, Invalid(p.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	errs = append(errs, validateStrategy(&s.Strategy, p.Child("strategy"))...)
	return append(errs, validatePodTemplate(s.Selector, &s.Template, p)...)
}

func validateStrategy(s *DeploymentStrategy, p Path) ErrorList {
	var errs ErrorList
	switch s.Type {
	case RecreateStrategy:
		if s.RollingUpdate != nil {
			errs = append(errs, Forbidden(p.Child("rollingUpdate"), "may not be set when type is Recreate"))
		}
	case RollingUpdateStrategy:
		ru := s.RollingUpdate
		if ru == nil {
			break
		}
		rp := p.Child("rollingUpdate")
		surge := validateIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"))
		unavail := validateIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"))
		errs = append(errs, surge...)
		errs = append(errs, unavail...)
		if len(surge)+len(unavail) == 0 && isZeroIntOrPercent(ru.MaxSurge) && isZeroIntOrPercent(ru.MaxUnavailable) {
			errs = append(errs, Invalid(rp.Child("maxUnavailable"), Deref(ru.MaxUnavailable, FromInt(0)).String(), "may not be 0 when maxSurge is 0"))
		}
		if ru.MaxUnavailable != nil && ru.MaxUnavailable.IsString {
			if v, err := ru.MaxUnavailable.ScaledValue(100, false); err == nil && v > 100 {
				errs = append(errs, Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable.String(), "must not be greater than 100%"))
			}
		}
	default:
		errs = append(errs, NotSupported(p.Child("type"), s.Type, RollingUpdateStrategy, RecreateStrategy))
	}
	return errs
}

func validateIntOrPercent(v *IntOrString, p Path) ErrorList {
	if v == nil {
		return nil
	}
	n, err := v.ScaledValue(100, false)
	if err != nil {
		return ErrorList{Invalid(p, v.String(), "must be an integer or a percentage such as \"25%\"")}
	}
	if n < 0 {
		return ErrorList{Invalid(p, v.String(), "must be greater than or equal to 0")}
	}
	return nil
}

func isZeroIntOrPercent(v *IntOrString) bool {
	if v == nil {
		return true
	}
	n, err := v.ScaledValue(100, false)
	return err == nil && n == 0
}
