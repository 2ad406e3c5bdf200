package gcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Create implements cloud.Cloud: an instance named after the machine (see
// instanceName) in the request's zone, booting with the startup script of
// cloud.UserData, labelled for its cluster, pool, machine and idempotency
// key. The insert's requestId (see requestID) makes a repeated or lost
// insert return the first instance; a machine the key made earlier (found
// by its label) is returned without a second insert.
func (c *Cloud) Create(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, error) {
	if err := req.Validate(); err != nil {
		return cloud.Machine{}, err
	}
	req.Zone = c.zoneOf(req)
	if req.Zone == "" {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"zone: required (the request names none and the cloud has no default zone)")
	}
	if req.MachineType == "" {
		req.MachineType = c.o.MachineType
	}
	if err := ctx.Err(); err != nil {
		return cloud.Machine{}, fmt.Errorf("gcp create %s: %w", req.Name, err)
	}
	if m, ok, err := c.byKey(ctx, req); ok || err != nil {
		return m, err
	}
	script, err := cloud.UserData(req, c.o.AgentArgs...)
	if err != nil {
		return cloud.Machine{}, err
	}
	name := instanceName(req.Name)
	what := fmt.Sprintf("inserting instance %s (machine %s) in zone %s", name, req.Name, req.Zone)
	c.log.Info("creating instance", "machine", req.Name, "pool", req.Pool, "instance", name, "zone", req.Zone,
		"machineType", req.MachineType, "spot", req.Spot)
	var op *computepb.Operation
	err = c.call(ctx, "insert", func(ctx context.Context) error {
		o, err := c.in.Insert(ctx, &computepb.InsertInstanceRequest{
			Project: c.o.Project, Zone: req.Zone, RequestId: proto.String(requestID(req.IdempotencyKey)),
			InstanceResource: c.instance(req, name, script),
		}, noLibraryRetry)
		if err == nil {
			op = o.Proto()
		}
		return err
	})
	if code, _, _, ok := apiError(err); ok && code == http.StatusConflict {
		return c.existing(ctx, req, name)
	}
	if err != nil {
		return cloud.Machine{}, classify("create", what, err)
	}
	if z := op.GetZone(); z != "" && z[strings.LastIndex(z, "/")+1:] != req.Zone {
		// Compute Engine answered with the operation of an earlier insert
		// with this requestId, in another zone.
		return cloud.Machine{}, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"idempotencyKey %q was used for an insert in zone %s, not %s", req.IdempotencyKey, z[strings.LastIndex(z, "/")+1:], req.Zone)
	}
	if op, err = c.wait(ctx, req.Zone, op); err != nil {
		return cloud.Machine{}, classify("create", what+": waiting for operation", err)
	}
	if err := opError("create", what, op); err != nil {
		return cloud.Machine{}, err
	}
	return c.existing(ctx, req, name)
}

// byKey finds the machine an earlier Create with req's idempotency key
// made, in any zone.
func (c *Cloud) byKey(ctx context.Context, req cloud.MachineRequest) (cloud.Machine, bool, error) {
	ms, err := c.list(ctx, "create", fmt.Sprintf(`(labels.%s = "%s") (labels.%s = "%s")`,
		labelCluster, labelValue(req.Cluster), labelKey, labelValue(req.IdempotencyKey)))
	if err != nil {
		return cloud.Machine{}, false, err
	}
	for _, x := range ms {
		if x.key != req.IdempotencyKey {
			continue
		}
		if !req.SameRequest(x.Machine) {
			return cloud.Machine{}, false, reused(req, x.Machine)
		}
		return x.Machine, true, nil
	}
	return cloud.Machine{}, false, nil
}

// existing returns instance name of req's zone, made for req's key:
// after an insert, or when the insert found the name taken.
func (c *Cloud) existing(ctx context.Context, req cloud.MachineRequest, name string) (cloud.Machine, error) {
	in, err := c.get(ctx, req.Zone, name)
	if errors.Is(err, cloud.ErrNotFound) {
		// The request was done before (requestId) and its instance is
		// gone since: the machine's current state is terminated.
		return cloud.Machine{ID: machineID(req.Zone, name), Name: req.Name, Cluster: req.Cluster, Pool: req.Pool,
			Zone: req.Zone, MachineType: req.MachineType, State: cloud.StateTerminated, Spot: req.Spot}, nil
	}
	if err != nil {
		return cloud.Machine{}, err
	}
	m := c.machine(ctx, in)
	switch {
	case m.key != "" && m.key != req.IdempotencyKey && (m.State == cloud.StateStopping || m.State == cloud.StateTerminated):
		return cloud.Machine{}, cloud.Errorf(cloud.ErrTransient, provider, "create",
			"instance %s in zone %s of an earlier machine %s is still being deleted", name, req.Zone, m.Name)
	case m.key != "" && m.key != req.IdempotencyKey:
		return cloud.Machine{}, cloud.Errorf(cloud.ErrInvalid, provider, "create",
			"instance %s in zone %s already exists for another request (machine %s, cluster %s, pool %s)",
			name, req.Zone, m.Name, m.Cluster, m.Pool)
	case !req.SameRequest(m.Machine):
		return cloud.Machine{}, reused(req, m.Machine)
	}
	return m.Machine, nil
}

func reused(req cloud.MachineRequest, m cloud.Machine) error {
	return cloud.Errorf(cloud.ErrInvalid, provider, "create",
		"idempotencyKey %q made machine %s (cluster %s, pool %s), not %s (cluster %s, pool %s)",
		req.IdempotencyKey, m.Name, m.Cluster, m.Pool, req.Name, req.Cluster, req.Pool)
}

// instance is the instance resource of req.
func (c *Cloud) instance(req cloud.MachineRequest, name string, script []byte) *computepb.Instance {
	labels := map[string]string{}
	maps.Copy(labels, c.o.Labels)
	for k, v := range labels {
		labels[k] = labelValue(v)
	}
	labels[labelCluster] = labelValue(req.Cluster)
	labels[labelPool] = labelValue(req.Pool)
	labels[labelMachine] = labelValue(req.Name)
	labels[labelKey] = labelValue(req.IdempotencyKey)
	item := func(k, v string) *computepb.Items {
		return &computepb.Items{Key: proto.String(k), Value: proto.String(v)}
	}
	disk := &computepb.AttachedDiskInitializeParams{SourceImage: proto.String(c.o.Image)}
	if c.o.DiskSizeGB > 0 {
		disk.DiskSizeGb = proto.Int64(c.o.DiskSizeGB)
	}
	nic := &computepb.NetworkInterface{Network: proto.String(c.o.Network)}
	if c.o.Subnetwork != "" {
		nic.Subnetwork = proto.String(c.o.Subnetwork)
	}
	if c.o.ExternalIP {
		nic.AccessConfigs = []*computepb.AccessConfig{{Name: proto.String("External NAT"), Type: proto.String("ONE_TO_ONE_NAT")}}
	}
	in := &computepb.Instance{
		Name:        proto.String(name),
		MachineType: proto.String("zones/" + req.Zone + "/machineTypes/" + req.MachineType),
		Labels:      labels,
		Metadata: &computepb.Metadata{Items: []*computepb.Items{
			item(metaScript, string(script)),
			item(labelCluster, req.Cluster), item(labelPool, req.Pool), item(labelMachine, req.Name),
			item(labelKey, req.IdempotencyKey),
		}},
		Disks: []*computepb.AttachedDisk{{
			Boot: proto.Bool(true), AutoDelete: proto.Bool(true), Type: proto.String("PERSISTENT"), InitializeParams: disk,
		}},
		NetworkInterfaces: []*computepb.NetworkInterface{nic},
	}
	if c.o.ServiceAccount != "" {
		in.ServiceAccounts = []*computepb.ServiceAccount{{
			Email: proto.String(c.o.ServiceAccount), Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"},
		}}
	}
	if req.Spot {
		in.Scheduling = &computepb.Scheduling{
			ProvisioningModel:         proto.String("SPOT"),
			InstanceTerminationAction: proto.String("DELETE"),
			AutomaticRestart:          proto.Bool(false),
			OnHostMaintenance:         proto.String("TERMINATE"),
		}
	}
	return in
}

// wait waits for zone operation op to be DONE (zoneOperations.wait answers
// when it is, or after about two minutes with it as it is then).
func (c *Cloud) wait(ctx context.Context, zone string, op *computepb.Operation) (*computepb.Operation, error) {
	if z := op.GetZone(); z != "" {
		zone = z[strings.LastIndex(z, "/")+1:]
	}
	for op.GetStatus() != computepb.Operation_DONE {
		err := c.call(ctx, "wait", func(ctx context.Context) error {
			o, err := c.ops.Wait(ctx, &computepb.WaitZoneOperationRequest{
				Project: c.o.Project, Zone: zone, Operation: op.GetName(),
			}, noLibraryRetry)
			if err == nil {
				op = o
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return op, nil
}
