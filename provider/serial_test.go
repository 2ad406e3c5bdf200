package provider

import (
	"context"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// serialServer serves several provider configurations from one server, as
// terraform-plugin-testing does: it reattaches Terraform to one in-process
// server for every `provider "maestro"` block (a bootstrap alias and the
// default provider, in the one-apply tests), where real Terraform starts a
// plugin process per configuration. Terraform configures both at once
// during a plan, and the framework's server keeps the configuration in
// fields of its own, so ConfigureProvider runs alone here and the calls
// that read what it set wait for it. (Terraform's ordering still configures
// the provider that takes its settings from maestro_cluster last, as in
// real runs.)
type serialServer struct {
	tfprotov6.ProviderServer
	mu *sync.RWMutex
}

func serialized(s tfprotov6.ProviderServer) tfprotov6.ProviderServer {
	return serialServer{ProviderServer: s, mu: &sync.RWMutex{}}
}

func (s serialServer) ConfigureProvider(ctx context.Context, r *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ProviderServer.ConfigureProvider(ctx, r)
}

func (s serialServer) ReadResource(ctx context.Context, r *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ReadResource(ctx, r)
}

func (s serialServer) PlanResourceChange(ctx context.Context, r *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.PlanResourceChange(ctx, r)
}

func (s serialServer) ApplyResourceChange(ctx context.Context, r *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ApplyResourceChange(ctx, r)
}

func (s serialServer) ImportResourceState(ctx context.Context, r *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ImportResourceState(ctx, r)
}

func (s serialServer) ReadDataSource(ctx context.Context, r *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ReadDataSource(ctx, r)
}

func (s serialServer) ValidateResourceConfig(ctx context.Context, r *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ValidateResourceConfig(ctx, r)
}

func (s serialServer) ValidateDataResourceConfig(ctx context.Context, r *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ProviderServer.ValidateDataResourceConfig(ctx, r)
}
