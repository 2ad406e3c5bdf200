package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/cloud"
)

var _ cloud.LogReader = (*Cloud)(nil)

// maxLogRead bounds how much of machine.log Logs reads (from its end).
const maxLogRead = 1 << 20

// Logs implements cloud.LogReader: the last lines of the machine's
// machine.log (its process's output).
func (c *Cloud) Logs(ctx context.Context, id string, lines int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("local: logs %q: %w", id, err)
	}
	if _, err := c.load("logs", id); err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(c.machineDir(id), "machine.log"))
	if err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "reading the log of machine "+id)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "reading the log of machine "+id)
	}
	off := max(st.Size()-maxLogRead, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return "", cloud.Wrap(cloud.ErrTransient, provider, "logs", err, "reading the log of machine "+id)
	}
	return string(tail(buf, lines)), nil
}

// tail returns the last n lines of b (all of b when it has fewer).
func tail(b []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	i := len(b)
	if i > 0 && b[i-1] == '\n' {
		i-- // a final newline ends the last line, it does not start another
	}
	for ; n > 0; n-- {
		j := bytes.LastIndexByte(b[:i], '\n')
		if j < 0 {
			return b
		}
		i = j
	}
	return b[i+1:]
}
