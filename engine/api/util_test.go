package api

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

func TestAsSelector(t *testing.T) {
	web := labels.Set{"app": "web", "track": "stable"}
	api := labels.Set{"app": "api"}
	none := labels.Set{}
	cases := []struct {
		name  string
		sel   *LabelSelector
		match map[string]bool // label set name -> matches
	}{
		// A controller whose selector is missing must adopt nothing.
		{"nil matches nothing", nil, map[string]bool{"web": false, "api": false, "none": false}},
		{"empty matches everything", &LabelSelector{}, map[string]bool{"web": true, "api": true, "none": true}},
		{"empty maps match everything", &LabelSelector{MatchLabels: map[string]string{}, MatchExpressions: []LabelSelectorRequirement{}},
			map[string]bool{"web": true, "api": true, "none": true}},
		{"match labels", &LabelSelector{MatchLabels: map[string]string{"app": "web"}}, map[string]bool{"web": true, "api": false, "none": false}},
		{"In", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpIn, Values: []string{"api", "db"}}}},
			map[string]bool{"web": false, "api": true, "none": false}},
		{"NotIn matches absent labels", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpNotIn, Values: []string{"web"}}}},
			map[string]bool{"web": false, "api": true, "none": true}},
		{"Exists", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "track", Operator: SelectorOpExists}}},
			map[string]bool{"web": true, "api": false, "none": false}},
		{"DoesNotExist", &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "track", Operator: SelectorOpDoesNotExist}}},
			map[string]bool{"web": false, "api": true, "none": true}},
		{"labels and expressions must both hold", &LabelSelector{
			MatchLabels:      map[string]string{"app": "web"},
			MatchExpressions: []LabelSelectorRequirement{{Key: "track", Operator: SelectorOpIn, Values: []string{"canary"}}},
		}, map[string]bool{"web": false, "api": false, "none": false}},
	}
	sets := map[string]labels.Set{"web": web, "api": api, "none": none}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := AsSelector(tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.match {
				if got := s.Matches(sets[name]); got != want {
					t.Errorf("matches %s (%v) = %v, want %v", name, sets[name], got, want)
				}
			}
		})
	}
}

func TestAsSelectorInvalid(t *testing.T) {
	for name, sel := range map[string]*LabelSelector{
		"unknown operator":   {MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: "Equals", Values: []string{"web"}}}},
		"lowercase operator": {MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: "in", Values: []string{"web"}}}},
		"In without values":  {MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpIn}}},
		"invalid key":        {MatchExpressions: []LabelSelectorRequirement{{Key: "bad key", Operator: SelectorOpExists}}},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := AsSelector(sel); err == nil {
				t.Errorf("AsSelector = %v, want an error", s)
			}
		})
	}
}

func TestPtrDeref(t *testing.T) {
	p := Ptr[int32](0)
	if p == nil || *p != 0 || Deref(p, 7) != 0 {
		t.Error("Ptr(0) does not hold 0")
	}
	if Deref[int32](nil, 7) != 7 {
		t.Error("Deref(nil) does not give the default")
	}
	a, b := Ptr(1), Ptr(1)
	if a == b {
		t.Error("Ptr returns shared pointers")
	}
}
