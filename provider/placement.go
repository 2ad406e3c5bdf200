package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// previewTimeout bounds the dry run a plan makes per workload.
const previewTimeout = 10 * time.Second

// previewPlacement asks the API server, with a dry-run write of obj, where
// the scheduler would put its pods on the cluster as it is now, and adds a
// plan warning when some could not be placed. A new object's namespace
// may not exist yet (the same plan creates it): the dry run then takes it
// for a new, empty one, so the preview still answers. It stays silent when
// it cannot ask: the provider configuration or the planned object is not
// yet known, or the cluster cannot be reached; a preview never fails a
// plan.
// build returns the object as the apply would write it, and whether that
// replaces a live object (a dry-run update) or is new (a dry-run create).
func previewPlacement(ctx context.Context, h *clientHandle, config tfsdk.Config, kind string, diags *diag.Diagnostics,
	build func(ctx context.Context, c *client.Client) (obj api.Object, update bool, err error)) {
	if !configKnown(config, "metadata") || !configKnown(config, "spec") {
		return
	}
	c, d := h.Client()
	if d.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	prev, meta, err := dryRun(ctx, c, build)
	if err != nil {
		// The server may be down, the live object gone: the apply will
		// say so if it matters.
		tflog.Debug(ctx, "placement preview skipped", map[string]any{"kind": kind, "error": err.Error()})
		return
	}
	warnUnplaced(diags, kind, meta, prev)
}

// dryRun writes what build returns as a dry run and reads the server's
// placement preview from the answer.
func dryRun(ctx context.Context, c *client.Client, build func(context.Context, *client.Client) (api.Object, bool, error)) (api.PlacementPreview, *api.ObjectMeta, error) {
	var prev api.PlacementPreview
	obj, update, err := build(ctx, c)
	if err != nil {
		return prev, nil, err
	}
	meta := obj.GetObjectMeta()
	opts := client.WriteOptions{DryRun: true, Placement: &prev, NamespaceMayBeNew: !update}
	res := client.Dynamic(c, api.KindOf(obj), meta.Namespace)
	if update {
		_, err = res.Update(ctx, obj, opts)
	} else {
		_, err = res.Create(ctx, obj, opts)
	}
	return prev, meta, err
}

// warnUnplaced adds the plan warning for pods the preview could not place.
func warnUnplaced(diags *diag.Diagnostics, kind string, meta *api.ObjectMeta, prev api.PlacementPreview) {
	if prev.Pods == 0 || prev.Placed == prev.Pods {
		return
	}
	advice := client.SchedulingAdvice(prev.Reason)
	if advice == "" {
		advice = "To fix: make room for the pods (add nodes) or change what they require of a node."
	}
	diags.AddAttributeWarning(path.Root("spec"), "Pods cannot all be placed",
		fmt.Sprintf("On the cluster as it is now, %d of the %d pods of %s %s/%s could not be placed: %s.%s\n\n"+
			"Unless a node pool adds room, the apply fails once they have waited unschedulable_timeout (30s by default). %s",
			prev.Pods-prev.Placed, prev.Pods, kind, meta.Namespace, meta.Name, strings.TrimSuffix(prev.Reason, "."), placedOn(prev.Nodes), advice))
}

// placedOn lists where the placeable pods would go.
func placedOn(nodes map[string]int) string {
	if len(nodes) == 0 {
		return ""
	}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s: %d", n, nodes[n])
	}
	return " The others would go to " + strings.Join(parts, ", ") + "."
}

// configKnown reports whether a top-level attribute or block of the
// configuration is wholly known (no value depends on the apply). The
// configuration, not the plan: computed values (a uid) are unknown in the
// plan of a new object but are not what the preview needs.
func configKnown(config tfsdk.Config, name string) bool {
	v, _, err := tftypes.WalkAttributePath(config.Raw, tftypes.NewAttributePath().WithAttributeName(name))
	if err != nil {
		return false
	}
	tv, ok := v.(tftypes.Value)
	return ok && tv.IsFullyKnown() && !tv.IsNull()
}
