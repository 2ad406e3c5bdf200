// Package client is the Go client of the maestro API, used by every other
// component (scheduler, controllers, agents, the Terraform provider and the
// CLI): typed resources over HTTPS/JSON, watches that resume by themselves,
// and informers (a list+watch cache with event handlers). The work queue
// controllers feed from informers lives in client/workqueue.
package client
