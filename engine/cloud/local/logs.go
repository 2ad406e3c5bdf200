package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/cloud"
)

var _ cloud.LogReader = (*Cloud)(nil)

// logTailBytes bounds how much of a machine's log Logs reads.
const logTailBytes = 64 << 10

// Logs implements cloud.LogReader: the last lines of the machine's
// machine.log (its process's stdout and stderr).
func (c *Cloud) Logs(ctx context.Context, id string, lines int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("local: logs %q: %w", id, err)
	}
	if _, err := c.load("logs", id); err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(c.machineDir(id), "machine.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "reading the log of machine "+id)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		_, _ = f.Seek(-logTailBytes, io.SeekEnd)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "reading the log of machine "+id)
	}
	return string(LastLines(b, lines)), nil
}

// LastLines returns the last n lines of b (all of it when n <= 0), without
// a trailing newline.
func LastLines(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	if n <= 0 {
		return b
	}
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}
