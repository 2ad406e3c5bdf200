package provider

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/maestro-dev/maestro/engine/api/resource"
)

var (
	_ planmodifier.String = quantitySemanticEquality{}
	_ validator.String    = intOrPercentValidator{}
)

// quantitySemanticEquality keeps the prior state's spelling of a quantity
// when the configuration's has the same value, so rewriting "1" as
// "1000m" (or "1Gi" as "1024Mi") plans no change. Together with
// flattenResourceList, which keeps the configuration's spelling over the
// server's canonical one, it makes quantities compare by value.
type quantitySemanticEquality struct{}

func (quantitySemanticEquality) Description(context.Context) string {
	return "quantities with the same value (1000m and 1, 1Gi and 1024Mi) are not a change"
}

func (m quantitySemanticEquality) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (quantitySemanticEquality) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	if quantitiesEqual(req.StateValue.ValueString(), req.PlanValue.ValueString()) {
		resp.PlanValue = req.StateValue
	}
}

// quantitiesEqual compares two quantities by value (false if either does
// not parse).
func quantitiesEqual(a, b string) bool {
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	return err == nil && qa.Equal(qb)
}

// intOrPercentValidator checks max_surge and max_unavailable: "2" or "25%".
type intOrPercentValidator struct{}

func (intOrPercentValidator) Description(context.Context) string {
	return "must be a non-negative count such as 1, or a percentage such as 25%"
}

func (v intOrPercentValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v intOrPercentValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if n, err := strconv.Atoi(s); (err == nil && n >= 0) || isPercent(s) {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid count or percentage", fmt.Sprintf("%q %s.", s, v.Description(ctx)))
}
