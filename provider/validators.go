package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Plan-time validators. They reuse the API's own checks so a plan fails
// with the attribute path before any request is sent.

var (
	_ validator.String = dnsLabelValidator{}
	_ validator.String = quantityValidator{}
	_ validator.String = oneOfValidator{}
	_ validator.Int64  = int64RangeValidator{}
)

// dnsLabelValidator checks object names (DNS-1123 labels).
type dnsLabelValidator struct{}

func (dnsLabelValidator) Description(context.Context) string {
	return "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
}

func (v dnsLabelValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (dnsLabelValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := api.IsDNS1123Label(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid name",
			fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), msg))
	}
}

// quantityValidator checks cpu and memory quantities ("250m", "1Gi").
type quantityValidator struct{}

func (quantityValidator) Description(context.Context) string {
	return "must be a quantity such as 250m, 1.5, 512Mi or 1G"
}

func (v quantityValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (quantityValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := resource.ParseQuantity(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid quantity",
			fmt.Sprintf("%v. Use a number with an optional suffix: m (milli), k/M/G/T or Ki/Mi/Gi/Ti, e.g. \"250m\" or \"512Mi\".", err))
	}
}

// oneOfValidator checks a string against a fixed set.
type oneOfValidator []string

func (v oneOfValidator) Description(context.Context) string {
	return fmt.Sprintf("must be one of %q", []string(v))
}

func (v oneOfValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v oneOfValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for _, ok := range v {
		if req.ConfigValue.ValueString() == ok {
			return
		}
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid value",
		fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), v.Description(context.Background())))
}

// int64RangeValidator checks min <= value <= max.
type int64RangeValidator struct{ min, max int64 }

func (v int64RangeValidator) Description(context.Context) string {
	return fmt.Sprintf("must be between %d and %d", v.min, v.max)
}

func (v int64RangeValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v int64RangeValidator) ValidateInt64(ctx context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if n := req.ConfigValue.ValueInt64(); n < v.min || n > v.max {
		resp.Diagnostics.AddAttributeError(req.Path, "Value out of range",
			fmt.Sprintf("%d %s.", n, v.Description(ctx)))
	}
}

// portOrNameValidator checks a port given as a number (1-65535) or as the
// name of a container port.
type portOrNameValidator struct{}

func (portOrNameValidator) Description(context.Context) string {
	return "must be a port number (1-65535) or a port name (at most 15 lowercase letters, digits and '-')"
}

func (v portOrNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v portOrNameValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	s := req.ConfigValue.ValueString()
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 65535 {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid port", fmt.Sprintf("%d %s.", n, v.Description(ctx)))
		}
		return
	}
	if msg := api.IsIANASvcName(s); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid port", fmt.Sprintf("%q: %s.", s, msg))
	}
}

// absPathValidator checks that a path is absolute.
type absPathValidator struct{}

func (absPathValidator) Description(context.Context) string { return "must be an absolute path" }

func (v absPathValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v absPathValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if s := req.ConfigValue.ValueString(); !strings.HasPrefix(s, "/") {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid path", fmt.Sprintf("%q %s (starting with '/').", s, v.Description(ctx)))
	}
}

// durationValidator checks a whole-second duration ("90s", "5m").
type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "must be a duration of whole seconds, such as 90s, 5m or 1h"
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := durationSeconds(req.ConfigValue); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration", err.Error()+".")
	}
}
