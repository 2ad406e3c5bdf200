package gcp

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/maestro-dev/maestro/engine/cloud"
)

var _ cloud.LogReader = (*Cloud)(nil)

// Logs implements cloud.LogReader with the instance's serial console (port
// 1), where the guest environment writes what the startup script prints:
// a bootstrap that could not fetch the CA or the agent says so there. The
// script writes the join token only into a file, never to its output.
func (c *Cloud) Logs(ctx context.Context, id string, lines int) (string, error) {
	zone, name, ok := splitID(id)
	if !ok {
		return "", cloud.Errorf(cloud.ErrNotFound, provider, "logs", "machine %q: no such instance (IDs are zone/name)", id)
	}
	var out *computepb.SerialPortOutput
	err := c.call(ctx, "getSerialPortOutput", func(ctx context.Context) error {
		var err error
		out, err = c.in.GetSerialPortOutput(ctx, &computepb.GetSerialPortOutputInstanceRequest{
			Project: c.o.Project, Zone: zone, Instance: name, Port: proto.Int32(1),
		}, noLibraryRetry)
		return err
	})
	if err != nil {
		return "", classify("logs", fmt.Sprintf("reading the serial console of instance %s (machine %s)", name, id), err)
	}
	return lastLines(out.GetContents(), lines), nil
}

// lastLines is the last n lines of s (all of them when n <= 0).
func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if n > 0 && len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
