// Package leftovers removes what dead node agents leave on their host:
// the containers and sandboxes of their pods (Docker) and their pod
// networks (bridges, firewall rules). `maestro down` uses it for a killed
// `maestro up`, and the local cloud for each machine it deletes (an agent
// stopped or killed leaves its pods running, to adopt them when it comes
// back; a deleted machine never comes back).
package leftovers

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/engine/runtime/docker"
)

// RemoveContainers removes the Docker containers and sandboxes of a
// cluster's nodes: those labelled with its id and one of the nodes (""
// stands for every node of the cluster). Another cluster's containers are
// never touched.
func RemoveContainers(ctx context.Context, cluster string, nodes []string) error {
	rt, err := docker.New(ctx, docker.Options{})
	if err != nil {
		return err
	}
	ours := func(labels map[string]string) bool { return labels[runtime.LabelCluster] == cluster }
	for _, n := range nodes {
		f := runtime.Filter{Cluster: cluster, Node: n}
		cs, err := rt.ListContainers(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if ours(c.Labels) {
				_ = rt.RemoveContainer(ctx, c.ID)
			}
		}
		sbs, err := rt.ListSandboxes(ctx, f)
		if err != nil {
			return err
		}
		for _, sb := range sbs {
			if ours(sb.Labels) {
				_ = rt.RemoveSandbox(ctx, sb.ID)
			}
		}
	}
	return nil
}

// RemoveNetworks removes the pod networks (bridges, firewall rules) of a
// cluster's nodes. Only root can have made them (pod networking needs
// CAP_NET_ADMIN), so without root there is nothing to do.
func RemoveNetworks(ctx context.Context, cluster string, nodes []string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	var errs []error
	for _, n := range nodes {
		if err := network.RemoveNode(ctx, cluster, n); err != nil {
			errs = append(errs, fmt.Errorf("removing the pod network of node %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
