package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Get implements cloud.Cloud. A machine's ID is zone/instance-name.
func (c *Cloud) Get(ctx context.Context, id string) (cloud.Machine, error) {
	zone, name, ok := splitID(id)
	if !ok {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrNotFound, provider, "get", "machine %q: no such instance (IDs are zone/name)", id)
	}
	in, err := c.get(ctx, zone, name)
	if err != nil {
		return cloud.Machine{}, err
	}
	return c.machine(ctx, in).Machine, nil
}

func (c *Cloud) get(ctx context.Context, zone, name string) (*computepb.Instance, error) {
	var in *computepb.Instance
	err := c.call(ctx, "get", func(ctx context.Context) error {
		var err error
		in, err = c.in.Get(ctx, &computepb.GetInstanceRequest{Project: c.o.Project, Zone: zone, Instance: name}, noLibraryRetry)
		return err
	})
	return in, classify("get", fmt.Sprintf("getting instance %s (machine %s)", name, machineID(zone, name)), err)
}

// List implements cloud.Cloud: one aggregated list over every zone,
// filtered by the cluster's (and pool's) label, page by page.
func (c *Cloud) List(ctx context.Context, f cloud.Filter) ([]cloud.Machine, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	filter := fmt.Sprintf(`(labels.%s = "%s")`, labelCluster, labelValue(f.Cluster))
	if f.Pool != "" {
		filter += fmt.Sprintf(` (labels.%s = "%s")`, labelPool, labelValue(f.Pool))
	}
	found, err := c.list(ctx, "list", filter)
	if err != nil {
		return nil, err
	}
	var ms []cloud.Machine
	for _, x := range found {
		if f.Matches(x.Machine) { // labels may be encodings: the exact names are in metadata
			ms = append(ms, x.Machine)
		}
	}
	slices.SortFunc(ms, func(a, b cloud.Machine) int { return strings.Compare(a.ID, b.ID) })
	return ms, nil
}

// pageSize is the maxResults of a list call (Compute Engine's maximum).
const pageSize = 500

func (c *Cloud) list(ctx context.Context, op, filter string) ([]machine, error) {
	var ins []*computepb.Instance
	err := c.call(ctx, "aggregatedList", func(ctx context.Context) error {
		ins = ins[:0]
		it := c.in.AggregatedList(ctx, &computepb.AggregatedListInstancesRequest{
			Project: c.o.Project, Filter: proto.String(filter), MaxResults: proto.Uint32(pageSize),
		}, noLibraryRetry)
		for {
			pair, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			ins = append(ins, pair.Value.GetInstances()...)
		}
	})
	if err != nil {
		return nil, classify(op, "listing instances "+filter, err)
	}
	out := make([]machine, 0, len(ins))
	for _, in := range ins {
		out = append(out, c.machine(ctx, in))
	}
	return out, nil
}

// Delete implements cloud.Cloud: it returns once the delete operation is
// done (the instance is gone). A machine that is gone is no error.
func (c *Cloud) Delete(ctx context.Context, id string) error {
	zone, name, ok := splitID(id)
	if !ok {
		return nil // no instance ever had this ID
	}
	what := "deleting instance " + name + " in zone " + zone
	c.log.Info("deleting instance", "instance", name, "zone", zone)
	var op *computepb.Operation
	err := c.call(ctx, "delete", func(ctx context.Context) error {
		o, err := c.in.Delete(ctx, &computepb.DeleteInstanceRequest{Project: c.o.Project, Zone: zone, Instance: name}, noLibraryRetry)
		if err == nil {
			op = o.Proto()
		}
		return err
	})
	if code, _, _, ok := apiError(err); ok && code == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return classify("delete", what, err)
	}
	if op, err = c.wait(ctx, zone, op); err != nil {
		return classify("delete", what+": waiting for operation", err)
	}
	if err := opError("delete", what, op); err != nil && !errors.Is(err, cloud.ErrNotFound) {
		return err
	}
	return nil
}

// machine is a Machine with the idempotency key its instance was made for.
type machine struct {
	cloud.Machine
	key string
}

// machine maps an instance: names from its maestro metadata, state from
// its status (PROVISIONING, STAGING: pending; RUNNING; STOPPING,
// SUSPENDING: stopping; TERMINATED, STOPPED, SUSPENDED: terminated).
func (c *Cloud) machine(ctx context.Context, in *computepb.Instance) machine {
	meta := map[string]string{}
	for _, it := range in.GetMetadata().GetItems() {
		if it.GetKey() != metaScript { // the script is a secret: never copied
			meta[it.GetKey()] = it.GetValue()
		}
	}
	zone := in.GetZone()[strings.LastIndex(in.GetZone(), "/")+1:]
	m := cloud.Machine{
		ID:          machineID(zone, in.GetName()),
		Name:        meta[labelMachine],
		Cluster:     meta[labelCluster],
		Pool:        meta[labelPool],
		Zone:        zone,
		MachineType: in.GetMachineType()[strings.LastIndex(in.GetMachineType(), "/")+1:],
		State:       state(in.GetStatus()),
		Spot:        in.GetScheduling().GetProvisioningModel() == "SPOT",
	}
	if m.Name == "" {
		m.Name, m.Cluster, m.Pool = in.GetName(), in.GetLabels()[labelCluster], in.GetLabels()[labelPool]
	}
	m.CreatedAt, _ = time.Parse(time.RFC3339, in.GetCreationTimestamp())
	for _, nic := range in.GetNetworkInterfaces() {
		if ip := nic.GetNetworkIP(); ip != "" {
			m.Addresses = append(m.Addresses, ip)
		}
		for _, ac := range nic.GetAccessConfigs() {
			if ip := ac.GetNatIP(); ip != "" {
				m.Addresses = append(m.Addresses, ip)
			}
		}
	}
	if m.Spot && (m.State == cloud.StateStopping || m.State == cloud.StateTerminated) {
		m.Interrupted = c.preempted(ctx, zone, in)
	}
	return machine{Machine: m, key: meta[labelKey]}
}

func state(status string) cloud.State {
	switch status {
	case "RUNNING":
		return cloud.StateRunning
	case "STOPPING", "SUSPENDING":
		return cloud.StateStopping
	case "TERMINATED", "STOPPED", "SUSPENDED":
		return cloud.StateTerminated
	}
	return cloud.StatePending // PROVISIONING, STAGING, REPAIRING
}

// preempted reports whether Compute Engine preempted spot instance in: a
// preempted instance goes STOPPING, then TERMINATED (or is deleted), and
// its zone keeps a compute.instances.preempted operation targeting it
// (listed with the filter of Google's own preemption-history sample; the
// target's ID tells this instance from an earlier one of the same name).
// A failed lookup is logged and taken as no: the instance is stopping
// anyway, and is replaced when it is gone.
func (c *Cloud) preempted(ctx context.Context, zone string, in *computepb.Instance) bool {
	filter := fmt.Sprintf(`operationType="compute.instances.preempted" AND targetLink="%s"`, in.GetSelfLink())
	found := false
	err := c.call(ctx, "operations.list", func(ctx context.Context) error {
		found = false
		it := c.ops.List(ctx, &computepb.ListZoneOperationsRequest{Project: c.o.Project, Zone: zone, Filter: proto.String(filter)},
			noLibraryRetry)
		for {
			op, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			found = found || op.GetTargetId() == in.GetId()
		}
	})
	if err != nil {
		c.log.Warn("looking for the preemption of a spot instance", "instance", in.GetName(), "zone", zone, "err", err)
	}
	return found
}
