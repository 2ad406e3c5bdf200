// Package tfe2e holds end-to-end tests and benchmarks of the Terraform
// provider: the real terraform binary drives the real provider binary
// (built from the module root, installed through a dev_overrides CLI
// config, so nothing is ever downloaded) against a real cluster, either a
// local cluster on Docker (internal/localcluster) or, for tests that need
// no containers, an in-process control plane (internal/testenv).
//
// Everything is in _test.go files; this file only names the package.
// Missing requirements (terraform, Docker, root) go through
// internal/testreq: a failure under CI=true, a loud skip elsewhere.
package tfe2e
