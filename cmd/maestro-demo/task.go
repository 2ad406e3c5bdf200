package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// taskConfig is what `maestro-demo task` is asked to do: a short job that
// runs once and exits, the shape of an init container.
type taskConfig struct {
	appends      []fileLine // lines to append, in order
	sleep        time.Duration
	attemptsFile string // counts runs ("": no count)
	failTimes    int    // the first failTimes runs fail (needs attemptsFile)
	exitCode     int    // the failing runs' status
}

type fileLine struct{ path, line string }

// appendFlags collects repeated --append PATH=LINE flags.
type appendFlags struct{ lines *[]fileLine }

func (a appendFlags) String() string { return "" }

func (a appendFlags) Set(v string) error {
	path, line, ok := strings.Cut(v, "=")
	if !ok || path == "" {
		return fmt.Errorf("%q: want PATH=LINE", v)
	}
	*a.lines = append(*a.lines, fileLine{path, line})
	return nil
}

func parseTask(args []string) (taskConfig, error) {
	cfg := taskConfig{exitCode: 1}
	fs := flag.NewFlagSet("maestro-demo task", flag.ContinueOnError)
	var usage strings.Builder
	fs.SetOutput(&usage)
	fs.Var(appendFlags{&cfg.appends}, "append", "append LINE and a newline to PATH, parents created (repeatable: PATH=LINE)")
	fs.DurationVar(&cfg.sleep, "sleep", 0, "wait this long before doing anything")
	fs.StringVar(&cfg.attemptsFile, "attempts-file", "", "count runs in this file (one line per run)")
	fs.IntVar(&cfg.failTimes, "fail-times", 0, "fail the first N runs counted in --attempts-file")
	fs.IntVar(&cfg.exitCode, "exit-code", 1, "exit status of a failing run")
	if err := fs.Parse(args); err != nil {
		return taskConfig{}, usageError{err: err, usage: strings.TrimSpace(usage.String())}
	}
	switch {
	case fs.NArg() > 0:
		return taskConfig{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.failTimes > 0 && cfg.attemptsFile == "":
		return taskConfig{}, errors.New("--fail-times needs --attempts-file to count runs in")
	case cfg.exitCode < 1 || cfg.exitCode > 255:
		return taskConfig{}, fmt.Errorf("--exit-code=%d: must be in [1, 255]", cfg.exitCode)
	}
	return cfg, nil
}

// runTask does the task and returns the exit status: a line per step on
// out, so `maestro logs -c <init container>` shows what happened.
func runTask(cfg taskConfig, out io.Writer) int {
	if cfg.sleep > 0 {
		fmt.Fprintf(out, "sleeping %s\n", cfg.sleep)
		time.Sleep(cfg.sleep)
	}
	if cfg.attemptsFile != "" {
		run, err := countRun(cfg.attemptsFile)
		if err != nil {
			fmt.Fprintf(out, "counting runs: %v\n", err)
			return 2
		}
		if run <= cfg.failTimes {
			fmt.Fprintf(out, "run %d: failing with exit code %d (--fail-times=%d)\n", run, cfg.exitCode, cfg.failTimes)
			return cfg.exitCode
		}
		fmt.Fprintf(out, "run %d\n", run)
	}
	for _, a := range cfg.appends {
		if err := appendLine(a.path, a.line); err != nil {
			fmt.Fprintf(out, "appending to %s: %v\n", a.path, err)
			return 2
		}
		fmt.Fprintf(out, "appended %q to %s\n", a.line, a.path)
	}
	fmt.Fprintln(out, "task done")
	return 0
}

// countRun records one more run in path and returns its number (1 first).
func countRun(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	run := strings.Count(string(data), "\n") + 1
	return run, appendLine(path, fmt.Sprintf("run %d", run))
}

func appendLine(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, line+"\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
