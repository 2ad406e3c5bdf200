//go:build linux

package process

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/runtime"
)

// followPoll is how often a followed log is checked for new lines.
const followPoll = 100 * time.Millisecond

// Logs writes the container's log lines to w, without their timestamps
// unless asked. With Follow it returns once the container has exited and
// its last line is written, or when ctx ends (nil: the caller stopped).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	if _, err := r.loadContainer(id); err != nil {
		return err
	}
	out := &logWriter{w: w, opts: opts}
	path := filepath.Join(r.containerDir(id), logFile)
	f, err := os.Open(path)
	for errors.Is(err, fs.ErrNotExist) { // not started yet
		if !opts.Follow || r.finished(id) {
			return nil
		}
		if !sleepCtx(ctx, followPoll) {
			return nil
		}
		f, err = os.Open(path)
	}
	if err != nil {
		return err
	}
	defer f.Close()

	rd := &lineReader{f: f}
	if opts.TailLines > 0 && opts.Since.IsZero() {
		if rd.offset, err = tailOffset(f, opts.TailLines); err != nil {
			return err
		}
	}
	if opts.TailLines > 0 { // keep the last lines that pass the filter
		var ring [][]byte
		if err := rd.read(func(line []byte) error {
			if out.pass(line) {
				ring = append(ring, bytes.Clone(line))
				if int64(len(ring)) > opts.TailLines {
					ring = ring[1:]
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for _, line := range ring {
			if err := out.write(line); err != nil {
				return err
			}
		}
	}
	for {
		// Checked before reading, so the read after the end sees all.
		done := !opts.Follow || r.finished(id)
		if err := rd.read(out.emit); err != nil {
			return err
		}
		if done {
			return rd.flush(out.emit)
		}
		if !sleepCtx(ctx, followPoll) {
			return nil
		}
	}
}

// finished reports whether the container ran and ended, or is gone.
func (r *Runtime) finished(id string) bool {
	c, err := r.loadContainer(id)
	return err != nil || (c.state != nil && !c.running())
}

// logWriter applies the options to log lines.
type logWriter struct {
	w    io.Writer
	opts runtime.LogOptions
	buf  []byte
}

func (lw *logWriter) pass(line []byte) bool {
	if lw.opts.Since.IsZero() {
		return true
	}
	ts, _, _ := bytes.Cut(line, []byte{' '})
	t, err := time.Parse(LogTimeFormat, string(ts))
	return err != nil || !t.Before(lw.opts.Since)
}

func (lw *logWriter) write(line []byte) error {
	if !lw.opts.Timestamps {
		if _, text, ok := bytes.Cut(line, []byte{' '}); ok {
			line = text
		}
	}
	lw.buf = append(append(lw.buf[:0], line...), '\n')
	_, err := lw.w.Write(lw.buf)
	return err
}

func (lw *logWriter) emit(line []byte) error {
	if !lw.pass(line) {
		return nil
	}
	return lw.write(line)
}

// lineReader reads whole lines from offset on, keeping a partial last
// line (the shim may be writing it) for the next read.
type lineReader struct {
	f       *os.File
	offset  int64
	partial []byte
}

func (lr *lineReader) read(fn func([]byte) error) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := lr.f.ReadAt(buf, lr.offset)
		lr.offset += int64(n)
		data := append(lr.partial, buf[:n]...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if ferr := fn(data[:i]); ferr != nil {
				return ferr
			}
			data = data[i+1:]
		}
		lr.partial = bytes.Clone(data)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// flush emits a last line without its newline (a shim killed mid-write).
func (lr *lineReader) flush(fn func([]byte) error) error {
	if len(lr.partial) == 0 {
		return nil
	}
	line := lr.partial
	lr.partial = nil
	return fn(line)
}

// tailOffset is where the last n lines of f begin.
func tailOffset(f *os.File, n int64) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	buf := make([]byte, 64<<10)
	var count int64
	for pos := size; pos > 0; {
		chunk := min(int64(len(buf)), pos)
		pos -= chunk
		if _, err := f.ReadAt(buf[:chunk], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := chunk - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 { // the last line's own newline
				continue
			}
			if count++; count == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
