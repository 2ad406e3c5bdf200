package manager

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud/clouds"
	"github.com/maestro-dev/maestro/engine/controller/machine"
)

// MachinesConfig is how the leader of a server with data directory dataDir
// makes machines: clouds resolved with opts (DataDir and Client filled in:
// local machines under <dataDir>/machines, ssh keys read through c), joining
// the leader client's server URL (the advertised one) with the cluster CA
// of <dataDir>/pki.
func MachinesConfig(dataDir string, opts clouds.Options, c *client.Client) (machine.Config, error) {
	ca, err := os.ReadFile(filepath.Join(dataDir, "pki", pki.CACertFile))
	if err != nil {
		return machine.Config{}, fmt.Errorf("reading the cluster CA for machines to join with: %w", err)
	}
	opts.DataDir, opts.Client = dataDir, c
	if opts.LocalNetwork != nil && opts.LocalServerURL == "" {
		u, err := url.Parse(c.Server())
		if err != nil {
			return machine.Config{}, fmt.Errorf("server URL %q: %w", c.Server(), err)
		}
		u.Host = net.JoinHostPort(opts.LocalNetwork.Gateway().String(), u.Port())
		opts.LocalServerURL = u.String()
	}
	res, err := clouds.New(opts)
	if err != nil {
		return machine.Config{}, err
	}
	return machine.Config{Clouds: res, ServerURL: c.Server(), CAPEM: ca}, nil
}
