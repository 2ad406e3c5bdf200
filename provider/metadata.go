package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// The metadata block every resource that is an API object has (one shape,
// as in the Kubernetes provider: identity and labels in metadata, the
// payload beside it) and the labels and annotations every resource tracks.

type metadataModel struct {
	Name        types.String `tfsdk:"name"`
	Namespace   types.String `tfsdk:"namespace"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

// clusterMetadataModel is the metadata block of a cluster-scoped object
// (a namespace): the namespaced block without namespace.
type clusterMetadataModel struct {
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

// metaKey is the namespace and name a metadata block addresses (empty
// when the block is missing, which ValidateConfig reports).
func metaKey(md *metadataModel) (namespace, name string) {
	if md == nil {
		return "", ""
	}
	return md.Namespace.ValueString(), md.Name.ValueString()
}

// missingMetadata reports a configuration without its metadata block
// (the framework cannot require a block); kind names the object and what
// names which attributes the block needs.
func missingMetadata(diags *diag.Diagnostics, kind, what string) {
	diags.AddAttributeError(path.Root("metadata"), "Missing metadata block",
		fmt.Sprintf("A %s needs a metadata block with %s.", kind, what))
}

// nameAttribute is a required object name or namespace: a DNS-1123
// label, checked at plan time, whose change replaces the object.
func nameAttribute(description string) schema.Attribute {
	return emitAttribute(mschema.NameAttribute(description))
}

// expandMetadata writes the planned metadata block into meta; prior is
// the state's block (nil on create).
func expandMetadata(ctx context.Context, md, prior *metadataModel, meta *api.ObjectMeta, diags *diag.Diagnostics) {
	meta.Name, meta.Namespace = md.Name.ValueString(), md.Namespace.ValueString()
	var p metadataModel // null maps: nothing tracked before
	if prior != nil {
		p = *prior
	}
	expandTracked(ctx, meta, md.Labels, md.Annotations, p.Labels, p.Annotations, diags)
}

// flattenMetadata is meta as the state's metadata block; md is the prior
// block, nil on import. It returns the "namespace/name" ID.
func flattenMetadata(ctx context.Context, meta *api.ObjectMeta, md **metadataModel, diags *diag.Diagnostics) types.String {
	importing := *md == nil
	if importing {
		*md = &metadataModel{}
	}
	m := *md
	m.Name, m.Namespace, m.UID = types.StringValue(meta.Name), types.StringValue(meta.Namespace), types.StringValue(meta.UID)
	flattenTracked(ctx, meta, &m.Labels, &m.Annotations, importing, diags)
	return types.StringValue(meta.Namespace + "/" + meta.Name)
}

// expandClusterMetadata is expandMetadata for a cluster-scoped object.
func expandClusterMetadata(ctx context.Context, md, prior *clusterMetadataModel, meta *api.ObjectMeta, diags *diag.Diagnostics) {
	meta.Name = md.Name.ValueString()
	var p clusterMetadataModel
	if prior != nil {
		p = *prior
	}
	expandTracked(ctx, meta, md.Labels, md.Annotations, p.Labels, p.Annotations, diags)
}

// flattenClusterMetadata is flattenMetadata for a cluster-scoped object;
// the ID is the name.
func flattenClusterMetadata(ctx context.Context, meta *api.ObjectMeta, md **clusterMetadataModel, diags *diag.Diagnostics) types.String {
	importing := *md == nil
	if importing {
		*md = &clusterMetadataModel{}
	}
	m := *md
	m.Name, m.UID = types.StringValue(meta.Name), types.StringValue(meta.UID)
	flattenTracked(ctx, meta, &m.Labels, &m.Annotations, importing, diags)
	return types.StringValue(meta.Name)
}

// expandTracked applies the planned labels and annotations to the live
// metadata; the prior maps are those the state tracked.
func expandTracked(ctx context.Context, meta *api.ObjectMeta, labels, annotations, priorLabels, priorAnnotations types.Map, diags *diag.Diagnostics) {
	var d diag.Diagnostics
	meta.Labels, d = mergeTracked(ctx, meta.Labels, priorLabels, labels)
	diags.Append(d...)
	meta.Annotations, d = mergeTracked(ctx, meta.Annotations, priorAnnotations, annotations)
	diags.Append(d...)
}

// flattenTracked sets the state's labels and annotations from meta,
// keeping the keys the state tracks (every non-system key on import).
func flattenTracked(ctx context.Context, meta *api.ObjectMeta, labels, annotations *types.Map, importing bool, diags *diag.Diagnostics) {
	var d diag.Diagnostics
	*labels, d = trackedMap(ctx, *labels, meta.Labels, importing)
	diags.Append(d...)
	*annotations, d = trackedMap(ctx, *annotations, meta.Annotations, importing)
	diags.Append(d...)
}

// computedString is a server-set attribute (an id, a node name) that
// keeps its value across updates.
func computedString(description string) schema.Attribute {
	return emitAttribute(mschema.ComputedString(description))
}
