package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// SpotMarkedForTermination is the status code of a spot instance request
// whose instance EC2 has announced it reclaims: Machine.Interrupted.
const SpotMarkedForTermination = "marked-for-termination"

// Get implements cloud.Cloud.
func (c *Cloud) Get(ctx context.Context, id string) (cloud.Machine, error) {
	ms, err := c.describe(ctx, "get", &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return cloud.Machine{}, err
	}
	if len(ms) == 0 {
		return cloud.Machine{}, cloud.Errorf(cloud.ErrNotFound, provider, "get", "instance %s: none", id)
	}
	return ms[0], nil
}

// List implements cloud.Cloud: the instances tagged with f's cluster (and
// pool), terminated ones included (EC2 shows them for about an hour) so
// that the controller sees a machine that died.
func (c *Cloud) List(ctx context.Context, f cloud.Filter) ([]cloud.Machine, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	filters := []types.Filter{{Name: sdk.String("tag:" + TagCluster), Values: []string{f.Cluster}}}
	if f.Pool != "" {
		filters = append(filters, types.Filter{Name: sdk.String("tag:" + TagPool), Values: []string{f.Pool}})
	}
	ms, err := c.describe(ctx, "list", &ec2.DescribeInstancesInput{Filters: filters, MaxResults: sdk.Int32(1000)})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ms, func(a, b cloud.Machine) int { return strings.Compare(a.ID, b.ID) })
	return ms, nil
}

// describe runs DescribeInstances through every page and marks the spot
// machines EC2 is about to reclaim (one DescribeSpotInstanceRequests for
// all of them). An unknown or malformed instance ID is ErrNotFound.
func (c *Cloud) describe(ctx context.Context, op string, in *ec2.DescribeInstancesInput) ([]cloud.Machine, error) {
	what := "instances"
	if len(in.InstanceIds) > 0 {
		what = "instance " + strings.Join(in.InstanceIds, ", ")
	}
	var ms []cloud.Machine
	spot := map[string]int{} // spot request ID -> index in ms
	pages := ec2.NewDescribeInstancesPaginator(c.ec2, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, mapError(err, op, what)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				m := machine(i)
				if id := sdk.ToString(i.SpotInstanceRequestId); id != "" && m.State != cloud.StateTerminated {
					spot[id] = len(ms)
				}
				ms = append(ms, m)
			}
		}
	}
	if len(spot) == 0 {
		return ms, nil
	}
	ids := make([]string, 0, len(spot))
	for id := range spot {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out, err := c.ec2.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: ids})
	if err != nil {
		return nil, mapError(err, op, "spot requests of "+what)
	}
	for _, r := range out.SpotInstanceRequests {
		if r.Status != nil && sdk.ToString(r.Status.Code) == SpotMarkedForTermination {
			ms[spot[sdk.ToString(r.SpotInstanceRequestId)]].Interrupted = true
		}
	}
	return ms, nil
}

// machine is the cloud.Machine of an EC2 instance.
func machine(i types.Instance) cloud.Machine {
	m := cloud.Machine{
		ID: sdk.ToString(i.InstanceId), MachineType: string(i.InstanceType),
		CreatedAt: sdk.ToTime(i.LaunchTime), Spot: i.InstanceLifecycle == types.InstanceLifecycleTypeSpot,
		State: cloud.StateTerminated,
	}
	if i.Placement != nil {
		m.Zone = sdk.ToString(i.Placement.AvailabilityZone)
	}
	for _, t := range i.Tags {
		switch sdk.ToString(t.Key) {
		case TagCluster:
			m.Cluster = sdk.ToString(t.Value)
		case TagPool:
			m.Pool = sdk.ToString(t.Value)
		case TagMachine:
			m.Name = sdk.ToString(t.Value)
		}
	}
	if i.State != nil {
		switch i.State.Name {
		case types.InstanceStateNamePending:
			m.State = cloud.StatePending
		case types.InstanceStateNameRunning:
			m.State = cloud.StateRunning
		case types.InstanceStateNameShuttingDown, types.InstanceStateNameStopping:
			m.State = cloud.StateStopping
		}
		// stopped: maestro never stops an instance, so one that is stopped
		// will not come back by itself: terminated, and replaced.
	}
	for _, a := range []*string{i.PrivateIpAddress, i.PublicIpAddress} {
		if s := sdk.ToString(a); s != "" {
			m.Addresses = append(m.Addresses, s)
		}
	}
	return m
}

// Delete implements cloud.Cloud: TerminateInstances, then it waits until
// EC2 reports the instance terminated (bounded by ctx). An instance that
// is gone, never was, or whose ID is malformed is already deleted.
func (c *Cloud) Delete(ctx context.Context, id string) error {
	out, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		err = mapError(err, "delete", "instance "+id)
		if errors.Is(err, cloud.ErrNotFound) {
			return nil
		}
		return err
	}
	for _, sc := range out.TerminatingInstances {
		if sc.PreviousState != nil && sc.PreviousState.Name != types.InstanceStateNameShuttingDown &&
			sc.PreviousState.Name != types.InstanceStateNameTerminated {
			c.log.Info("machine deleted", "machine", id)
		}
	}
	for {
		m, err := c.Get(ctx, id)
		switch {
		case errors.Is(err, cloud.ErrNotFound):
			return nil
		case err != nil:
			return err
		case m.State == cloud.StateTerminated:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("aws: delete: waiting for instance %s to terminate (it is %s): %w", id, m.State, ctx.Err())
		case <-time.After(c.opts.PollInterval):
		}
	}
}

// Logs implements cloud.LogReader with GetConsoleOutput: the instance's
// serial console (its boot and the user data script's output), the last
// lines of it. A terminated instance has none (ErrNotFound).
func (c *Cloud) Logs(ctx context.Context, id string, lines int) (string, error) {
	m, err := c.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if m.State == cloud.StateTerminated {
		return "", cloud.Errorf(cloud.ErrNotFound, provider, "logs", "instance %s: terminated", id)
	}
	out, err := c.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: sdk.String(id), Latest: sdk.Bool(true)})
	if err != nil {
		return "", mapError(err, "logs", "instance "+id)
	}
	b, err := base64.StdEncoding.DecodeString(sdk.ToString(out.Output))
	if err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "instance "+id+": decoding the console output")
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if lines > 0 && len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n"), nil
}
