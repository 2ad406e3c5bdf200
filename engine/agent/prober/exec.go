package prober

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxMessage bounds how much command output a failure message carries.
const maxMessage = 1 << 10

// probeExec succeeds when the command exits 0. A command that outlives the
// timeout fails (as kubelet's exec probes do since 1.20); a runtime that
// cannot run it at all is an error.
func probeExec(ctx context.Context, exec Execer, containerID string, cmd []string, timeout time.Duration) (Result, string, error) {
	if containerID == "" {
		return Unknown, "", errors.New("no container to exec in")
	}
	res, err := exec.Exec(ctx, containerID, cmd, timeout)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			return Failure, fmt.Sprintf("command %q timed out after %s", cmd, timeout), nil
		}
		return Unknown, "", fmt.Errorf("exec %q: %w", cmd, err)
	}
	if res.ExitCode == 0 {
		return Success, "", nil
	}
	out := strings.TrimSpace(string(res.Output))
	if len(out) > maxMessage {
		out = out[:maxMessage] + "..."
	}
	msg := fmt.Sprintf("command %q exited with %d", cmd, res.ExitCode)
	if out != "" {
		msg += ": " + out
	}
	return Failure, msg, nil
}
