package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTask(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    taskConfig
		wantErr string
	}{
		{name: "defaults", want: taskConfig{exitCode: 1}},
		{name: "appends in order", args: []string{"--append=/w/order=one", "--append", "/w/log=a=b"},
			want: taskConfig{exitCode: 1, appends: []fileLine{{"/w/order", "one"}, {"/w/log", "a=b"}}}},
		{name: "failures", args: []string{"--attempts-file=/w/tries", "--fail-times=2", "--exit-code=3", "--sleep=1s"},
			want: taskConfig{exitCode: 3, attemptsFile: "/w/tries", failTimes: 2, sleep: 1e9}},
		{name: "append without a line", args: []string{"--append=/w/order"}, wantErr: "want PATH=LINE"},
		{name: "failures without a count", args: []string{"--fail-times=1"}, wantErr: "needs --attempts-file"},
		{name: "exit code 0", args: []string{"--exit-code=0"}, wantErr: "--exit-code=0"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTask(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseTask(%q) error = %v, want one containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.exitCode != tc.want.exitCode || got.attemptsFile != tc.want.attemptsFile || got.failTimes != tc.want.failTimes ||
				got.sleep != tc.want.sleep || len(got.appends) != len(tc.want.appends) {
				t.Fatalf("parseTask(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
			for i := range got.appends {
				if got.appends[i] != tc.want.appends[i] {
					t.Errorf("append %d = %+v, want %+v", i, got.appends[i], tc.want.appends[i])
				}
			}
		})
	}
}

// A task that fails its first two runs succeeds on the third, and only
// then appends its line.
func TestTaskFailsThenSucceeds(t *testing.T) {
	dir := t.TempDir()
	order, tries := filepath.Join(dir, "work", "order"), filepath.Join(dir, "tries")
	cfg, err := parseTask([]string{"--append=" + order + "=two", "--attempts-file=" + tries, "--fail-times=2", "--exit-code=7"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for run, want := range []int{7, 7, 0, 0} {
		out.Reset()
		if code := runTask(cfg, &out); code != want {
			t.Fatalf("run %d: exit %d, want %d; output %q", run+1, code, want, out.String())
		}
	}
	if !strings.Contains(out.String(), `appended "two" to `+order) || !strings.HasSuffix(out.String(), "task done\n") {
		t.Errorf("output of the last run: %q", out.String())
	}
	if data, _ := os.ReadFile(order); string(data) != "two\ntwo\n" {
		t.Errorf("%s holds %q: want a line per successful run", order, data)
	}
	if data, _ := os.ReadFile(tries); string(data) != "run 1\nrun 2\nrun 3\nrun 4\n" {
		t.Errorf("%s holds %q", tries, data)
	}
}

// The real binary: `maestro-demo task` exits with the task's status.
func TestTaskSubcommandExitStatus(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string) {
		cmd := exec.Command(os.Args[0], append([]string{"task"}, args...)...)
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	tries := filepath.Join(dir, "tries")
	if code, out := run("--attempts-file="+tries, "--fail-times=1", "--exit-code=4"); code != 4 || !strings.Contains(out, "run 1: failing") {
		t.Errorf("first run: exit %d, %q; want 4", code, out)
	}
	if code, out := run("--attempts-file="+tries, "--fail-times=1", "--append="+filepath.Join(dir, "f")+"=x"); code != 0 {
		t.Errorf("second run: exit %d, %q; want 0", code, out)
	}
	if code, out := run("--bogus"); code != 2 || !strings.Contains(out, "bogus") {
		t.Errorf("bad flag: exit %d, %q; want 2 naming the flag", code, out)
	}
}
