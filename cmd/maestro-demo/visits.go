package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// visitCounter is a count kept in a file, so it survives restarts of the
// process (and, on a persistent volume, of the pod). Every increment reads
// the file and replaces it atomically (a temporary file renamed over it):
// a crash mid-write leaves the old count, never a torn one.
type visitCounter struct {
	path string
	mu   sync.Mutex // one read-increment-write at a time
}

// load returns the count in the file, 0 when the file does not exist yet.
func (c *visitCounter) load() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read()
}

// increment adds one visit and returns the new count.
func (c *visitCounter) increment() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.read()
	if err != nil {
		return 0, err
	}
	n++
	if err := c.write(n); err != nil {
		return 0, err
	}
	return n, nil
}

func (c *visitCounter) read() (int, error) {
	data, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", c.path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s holds %q, not a visit count", c.path, data)
	}
	return n, nil
}

func (c *visitCounter) write(n int) error {
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(c.path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.WriteString(strconv.Itoa(n) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	return nil
}
