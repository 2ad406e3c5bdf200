package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestVisitCounter(t *testing.T) {
	tests := []struct {
		name    string
		initial string // file content before the first increment; "-" for no file
		want    []int  // counts returned by successive increments
		wantErr string
	}{
		{name: "no file yet", initial: "-", want: []int{1, 2, 3}},
		{name: "existing count", initial: "41\n", want: []int{42, 43}},
		{name: "count without newline", initial: "7", want: []int{8}},
		{name: "not a number", initial: "lots\n", wantErr: `holds "lots\n", not a visit count`},
		{name: "negative", initial: "-3\n", wantErr: "not a visit count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested", "dirs")
			path := filepath.Join(dir, "visits")
			if tt.initial != "-" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.initial), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := &visitCounter{path: path}
			if tt.wantErr != "" {
				if _, err := c.increment(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			for _, want := range tt.want {
				n, err := c.increment()
				if err != nil {
					t.Fatal(err)
				}
				if n != want {
					t.Errorf("increment = %d, want %d", n, want)
				}
			}
			last := tt.want[len(tt.want)-1]
			if n, err := (&visitCounter{path: path}).load(); err != nil || n != last {
				t.Errorf("a new counter on the file loads %d (%v), want %d", n, err, last)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the counter (no temporary files left)", len(entries))
			}
		})
	}
}

func TestVisitCounterConcurrent(t *testing.T) {
	c := &visitCounter{path: filepath.Join(t.TempDir(), "visits")}
	const visits = 50
	seen := make([]bool, visits+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range visits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := c.increment()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if n < 1 || n > visits || seen[n] {
				t.Errorf("count %d returned twice or out of range", n)
				return
			}
			seen[n] = true
		}()
	}
	wg.Wait()
	if n, err := c.load(); err != nil || n != visits {
		t.Errorf("count %d (%v) after %d concurrent visits", n, err, visits)
	}
}
