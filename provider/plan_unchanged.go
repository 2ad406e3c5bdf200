package provider

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// Answering for unchanged objects without the framework.
//
// In a plan where most objects are unchanged, most of the provider's work
// was the plugin framework refreshing and planning objects that stay as
// they are: every value converted in and out and walked attribute by
// attribute, for a refreshed state equal to the stored one and a planned
// state equal to that. directServer answers the requests where that is
// known beforehand itself and hands every other request to the framework:
//
//   - a refresh of an object that is still the version its state was
//     written from (refresh_unchanged.go);
//   - the plan of an object whose configuration matches its prior state.
//
// The acceptance tests run every answer it gives through the framework too
// and fail on any difference (see provider_test.go).
//
// Planning: Terraform proposes exactly the prior state when the
// configuration matches it; what the framework could still change then is
// known from the kind's description in internal/schema: a default (or
// target_port's "the port", or node_port's "none") filling in an attribute
// the configuration leaves out, where the live object drifted from it.
// planUnchanged answers when none of those applies. It relies on the
// provider never deferring its resources from Configure, as it does not:
// the framework would mark every plan of a deferred resource.

// Address is the provider's address in the Terraform registry, which
// main.go serves it as.
const Address = mschema.ProviderSource

// Server is the provider's protocol server: the framework's, answering
// for unchanged objects directly.
func Server(version string) func() (tfprotov6.ProviderServer, error) {
	return func() (tfprotov6.ProviderServer, error) {
		return newServer(version, shadows{})
	}
}

// newServer is the framework's server for the provider, wrapped in
// directServer.
func newServer(version string, sh shadows) (*directServer, error) {
	p := &MaestroProvider{version: version}
	s, err := providerserver.NewProtocol6WithError(p)()
	if err != nil {
		return nil, err
	}
	return newDirectServer(s, p, sh)
}

// directServer is the framework's protocol server, answering itself what
// it can answer exactly without the framework: the refresh and plan of an
// unchanged object (refresh_unchanged.go, below), the validation of a
// configuration with nothing to say (validate_walk.go), a stored state of
// the current schema (upgrade_current.go).
type directServer struct {
	tfprotov6.ProviderServer
	provider *MaestroProvider
	kinds    map[string]unchangedKind // plannable without the framework, by resource type
	// refreshers tell whether an object is still the version its state
	// was written from, by resource type.
	refreshers map[string]refreshKind
	// walks validate configurations without the framework's schema walk
	// (validate_walk.go), by resource type.
	walks map[string]walkKind
	// current is what a stored state must be to be read as it is
	// (upgrade_current.go), by resource type.
	current map[string]currentKind
	shadows
}

// shadows, when set, are also given the framework's answer to every
// request answered without it (tests compare the two).
type shadows struct {
	plan     func(typ tftypes.Type, req *tfprotov6.PlanResourceChangeRequest, ours, framework *tfprotov6.PlanResourceChangeResponse)
	refresh  func(typ tftypes.Type, req *tfprotov6.ReadResourceRequest, ours, framework *tfprotov6.ReadResourceResponse)
	validate func(req *tfprotov6.ValidateResourceConfigRequest, ours, framework *tfprotov6.ValidateResourceConfigResponse)
	upgrade  func(typ tftypes.Type, req *tfprotov6.UpgradeResourceStateRequest, ours, framework *tfprotov6.UpgradeResourceStateResponse)
}

type unchangedKind struct {
	typ   tftypes.Type
	block mschema.Block
}

func newDirectServer(s tfprotov6.ProviderServer, p *MaestroProvider, sh shadows) (*directServer, error) {
	ctx := context.Background()
	resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("reading the provider schema: %w", err)
	}
	u := &directServer{ProviderServer: s, provider: p, kinds: map[string]unchangedKind{}, refreshers: map[string]refreshKind{},
		walks: map[string]walkKind{}, current: map[string]currentKind{}, shadows: sh}
	for name, s := range resp.ResourceSchemas {
		u.current[name] = currentKind{version: s.Version, typ: s.ValueType()}
	}
	for _, kind := range mschema.Kinds() {
		d, _ := mschema.Describe(kind)
		s := resp.ResourceSchemas[mschema.TypePrefix+kind]
		if s == nil || !plannableUnchanged(d.Block) {
			continue
		}
		u.kinds[mschema.TypePrefix+kind] = unchangedKind{typ: s.ValueType(), block: d.Block}
	}
	for _, newResource := range p.Resources(ctx) {
		r := newResource()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "maestro"}, &md)
		ps := resp.ResourceSchemas[md.TypeName]
		if ps == nil {
			continue
		}
		if rf, ok := r.(refresher); ok {
			u.refreshers[md.TypeName] = refreshKind{typ: ps.ValueType(), refresher: rf}
		}
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if root, ok := compileWalk(sr.Schema); ok && !sr.Diagnostics.HasError() {
			u.walks[md.TypeName] = walkKind{typ: ps.ValueType(), schema: sr.Schema, root: root, newResource: newResource}
		}
	}
	return u, nil
}

// plannableUnchanged: no attribute of b has a planning rule that can
// replace an unchanged object (a volume's pin compares with where its data
// lives, which the configuration does not say).
func plannableUnchanged(b mschema.Block) bool {
	for _, a := range b.Attributes {
		if a.Plan == mschema.VolumePinReplace {
			return false
		}
	}
	for _, n := range b.Blocks {
		if !plannableUnchanged(n.Block) {
			return false
		}
	}
	return true
}

// PlanResourceChange plans an unchanged object as its prior state; any
// other request goes to the framework.
func (u *directServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	var shadow func(ours, framework *tfprotov6.PlanResourceChangeResponse)
	if u.shadows.plan != nil {
		shadow = func(ours, framework *tfprotov6.PlanResourceChangeResponse) {
			u.shadows.plan(u.kinds[req.TypeName].typ, req, ours, framework)
		}
	}
	return answer(ctx, req, u.planUnchanged(req), u.ProviderServer.PlanResourceChange, shadow)
}

// answer is ours when there is one, else the framework's answer to req.
// With a shadow, the framework answers ours too, and shadow compares.
func answer[Req, Resp any](ctx context.Context, req *Req, ours *Resp, framework func(context.Context, *Req) (*Resp, error), shadow func(ours, framework *Resp)) (*Resp, error) {
	if ours == nil {
		return framework(ctx, req)
	}
	if shadow != nil {
		full, err := framework(ctx, req)
		if err != nil {
			return nil, err
		}
		shadow(ours, full)
	}
	return ours, nil
}

// planUnchanged is the plan of an unchanged object, or nil when the
// framework must plan the request.
func (u *directServer) planUnchanged(req *tfprotov6.PlanResourceChangeRequest) *tfprotov6.PlanResourceChangeResponse {
	k, ok := u.kinds[req.TypeName]
	if !ok || req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil ||
		len(req.PriorState.MsgPack) == 0 || !bytes.Equal(req.PriorState.MsgPack, req.ProposedNewState.MsgPack) {
		return nil
	}
	prior, err := req.PriorState.Unmarshal(k.typ)
	if err != nil || prior.IsNull() || !prior.IsFullyKnown() {
		return nil
	}
	config, err := req.Config.Unmarshal(k.typ)
	if err != nil || !filledAsPrior(k.block, config, prior) {
		return nil
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}
}

// filledAsPrior reports whether every attribute of b that the
// configuration leaves out and the framework would fill in (a default,
// target_port's port, node_port's none) already has that value in prior,
// at every depth. Any doubt is false.
func filledAsPrior(b mschema.Block, config, prior tftypes.Value) bool {
	var c, p map[string]tftypes.Value
	if config.As(&c) != nil || prior.As(&p) != nil {
		return false
	}
	for name, a := range b.Attributes {
		if !c[name].IsNull() {
			continue
		}
		switch {
		case a.Default != nil:
			if !equalsScalar(p[name], a.Default) {
				return false
			}
		case a.Plan == mschema.TargetPortDefault:
			var port big.Float
			if p["port"].IsNull() || p["port"].As(&port) != nil {
				return false
			}
			n, _ := port.Int64()
			if !equalsScalar(p[name], strconv.FormatInt(n, 10)) {
				return false
			}
		case a.Plan == mschema.NodePortKeep:
			if !p[name].IsNull() {
				return false // kept or dropped by the service's type: the framework decides
			}
		}
	}
	for name, n := range b.Blocks {
		cv, pv := c[name], p[name]
		if !n.List {
			if cv.IsNull() != pv.IsNull() {
				return false
			}
			if !cv.IsNull() && !filledAsPrior(n.Block, cv, pv) {
				return false
			}
			continue
		}
		var cl, pl []tftypes.Value
		if !cv.IsNull() && cv.As(&cl) != nil || !pv.IsNull() && pv.As(&pl) != nil || len(cl) != len(pl) {
			return false
		}
		for i := range cl {
			if !filledAsPrior(n.Block, cl[i], pl[i]) {
				return false
			}
		}
	}
	return true
}

// equalsScalar reports whether v holds want (a string, int64 or bool).
func equalsScalar(v tftypes.Value, want any) bool {
	if v.IsNull() || !v.IsKnown() {
		return false
	}
	switch want := want.(type) {
	case string:
		var s string
		return v.As(&s) == nil && s == want
	case int64:
		var f big.Float
		return v.As(&f) == nil && f.Cmp(new(big.Float).SetInt64(want)) == 0
	case bool:
		var b bool
		return v.As(&b) == nil && b == want
	}
	return false
}
