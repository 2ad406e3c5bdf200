package localserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
)

// Start runs the server under its supervisor, detached, and waits until it
// answers /readyz (at most until ctx ends). It refuses a data directory
// where a server of ours still runs. When the server does not become
// ready, everything started is stopped again, and a data directory Start
// made is removed: the error carries the last lines of the server's log.
func Start(ctx context.Context, s Spec) (Record, client.Config, error) {
	if !filepath.IsAbs(s.DataDir) {
		return Record{}, client.Config{}, fmt.Errorf("data_dir %q: must be an absolute path", s.DataDir)
	}
	if r, err := Load(s.DataDir); err == nil && alive(r.PID, s.DataDir) {
		return Record{}, client.Config{}, fmt.Errorf("a maestro server already runs with data dir %s (supervisor pid %d): import it, or choose another data_dir", s.DataDir, r.PID)
	}
	_, statErr := os.Stat(s.DataDir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return Record{}, client.Config{}, fmt.Errorf("creating data dir: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(s.DataDir, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Record{}, client.Config{}, fmt.Errorf("opening the server log: %w", err)
	}
	defer logf.Close()
	_ = os.Remove(filepath.Join(s.DataDir, ClientConfigFile)) // a stale one must not pass for ready
	argv := s.Command()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.DataDir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := detach(cmd); err != nil {
		return Record{}, client.Config{}, err
	}
	if err := cmd.Start(); err != nil {
		return Record{}, client.Config{}, fmt.Errorf("starting %s supervise: %w", s.Binary, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaps it while we run; init does after
	rec := Record{PID: cmd.Process.Pid, Listen: s.Listen, RequestedListen: s.RequestedListen, AdvertiseAddress: s.AdvertiseAddress,
		Binary: s.Binary, Args: s.Args, StartedAt: time.Now().UTC()}
	fail := func(err error) (Record, client.Config, error) {
		_ = stopGroup(rec.PID, exited, 10*time.Second)
		tail := LogTail(s.DataDir, 15)
		if created {
			_ = os.RemoveAll(s.DataDir)
		}
		if tail != "" {
			err = fmt.Errorf("%w\nlast lines of the server log:\n%s", err, tail)
		}
		return Record{}, client.Config{}, err
	}
	if err := writeRecord(s.DataDir, rec); err != nil {
		return fail(err)
	}
	cfg, err := waitReady(ctx, s.DataDir, exited)
	if err != nil {
		return fail(err)
	}
	return rec, cfg, nil
}

// waitReady polls the client config and /readyz until the server answers.
func waitReady(ctx context.Context, dataDir string, exited <-chan struct{}) (client.Config, error) {
	var last error = errors.New("no client config written yet")
	for {
		cfg, err := ClientConfig(dataDir)
		if err == nil {
			if err = Ready(ctx, cfg); err == nil {
				return cfg, nil
			}
		}
		last = err
		select {
		case <-exited:
			return client.Config{}, errors.New("the supervisor exited before the server was ready")
		case <-ctx.Done():
			return client.Config{}, fmt.Errorf("the server was not ready in time: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Status is what Check found.
type Status struct {
	Record Record
	// Running: the supervisor of the record runs.
	Running bool
	// Config is the server's client config (zero if unreadable).
	Config client.Config
	// ReadyErr is why the server is not ready (nil: ready).
	ReadyErr error
}

// Check reports whether the data directory's server runs and is ready.
func Check(ctx context.Context, dataDir string) (Status, error) {
	rec, err := Load(dataDir)
	if err != nil {
		return Status{}, err
	}
	st := Status{Record: rec, Running: alive(rec.PID, dataDir)}
	if !st.Running {
		return st, nil
	}
	st.Config, err = ClientConfig(dataDir)
	if err != nil {
		st.ReadyErr = err
		return st, nil
	}
	st.ReadyErr = Ready(ctx, st.Config)
	return st, nil
}

// Shutdown stops the data directory's server, keeping its data: SIGTERM
// to its supervisor, which stops the server; whatever of its session
// remains after timeout is killed.
func Shutdown(dataDir string, timeout time.Duration) error {
	if rec, err := Load(dataDir); err == nil && alive(rec.PID, dataDir) {
		return stopGroup(rec.PID, nil, timeout)
	}
	return nil
}

// Stop shuts the data directory's server down and removes the data
// directory. A data directory without a running server is just removed.
func Stop(dataDir string, timeout time.Duration) error {
	if !filepath.IsAbs(dataDir) {
		return fmt.Errorf("data_dir %q: must be an absolute path", dataDir)
	}
	if err := Shutdown(dataDir, timeout); err != nil {
		return err
	}
	if err := os.RemoveAll(dataDir); err != nil {
		return fmt.Errorf("removing data dir: %w", err)
	}
	return nil
}
