// Command testprog is the program the runtime suite runs in containers.
// Its flags are actions, done in the order they are listed below; the
// program then waits (-sleep) and exits with -exit.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		printArgs  = flag.Bool("print-args", false, "print the arguments (without argv[0])")
		printEnv   = flag.String("print-env", "", "print NAME=value for each comma-separated name")
		printCwd   = flag.Bool("print-cwd", false, "print the working directory")
		printHost  = flag.Bool("print-hostname", false, "print the hostname")
		text       = flag.String("print", "", "print this line")
		toStderr   = flag.String("stderr", "", "print this line on stderr")
		lines      = flag.Int("lines", 0, "print this many numbered lines")
		interval   = flag.Duration("interval", 0, "pause between numbered lines")
		nbytes     = flag.Int("bytes", 0, "print this many bytes")
		writeFile  = flag.String("write-file", "", "path=content: write a file")
		readFile   = flag.String("read-file", "", "print a file's content")
		get        = flag.String("get", "", "GET this URL and print the body")
		listen     = flag.String("listen", "", "serve HTTP on this address")
		allocMB    = flag.Int("alloc-mb", 0, "allocate and touch this many MiB")
		burn       = flag.Bool("burn", false, "burn one cpu")
		termExit   = flag.Int("term-exit", -1, "on SIGTERM print \"got SIGTERM\" and exit with this code")
		ignoreTerm = flag.Bool("ignore-term", false, "on SIGTERM print \"ignoring SIGTERM\" and go on")
		sleep      = flag.Duration("sleep", 0, "wait this long before exiting")
		exit       = flag.Int("exit", 0, "exit code")
	)
	flag.Parse()

	// Signal handling first, so a stop that races the start is seen.
	signals := make(chan os.Signal, 4)
	if *termExit >= 0 || *ignoreTerm {
		signal.Notify(signals, syscall.SIGTERM)
	}
	go func() {
		for range signals {
			if *termExit >= 0 {
				fmt.Println("got SIGTERM")
				os.Exit(*termExit)
			}
			fmt.Println("ignoring SIGTERM")
		}
	}()

	if *printArgs {
		fmt.Println("args=" + strings.Join(os.Args[1:], " "))
	}
	if *printEnv != "" {
		for _, name := range strings.Split(*printEnv, ",") {
			fmt.Printf("%s=%s\n", name, os.Getenv(name))
		}
	}
	if *printCwd {
		wd, _ := os.Getwd()
		fmt.Println("cwd=" + wd)
	}
	if *printHost {
		h, _ := os.Hostname()
		fmt.Println("hostname=" + h)
	}
	if *text != "" {
		fmt.Println(*text)
	}
	if *toStderr != "" {
		fmt.Fprintln(os.Stderr, *toStderr)
	}
	for i := 1; i <= *lines; i++ {
		fmt.Printf("line %d\n", i)
		time.Sleep(*interval)
	}
	if *nbytes > 0 {
		fmt.Print(strings.Repeat("x", *nbytes))
	}
	if *writeFile != "" {
		path, content, _ := strings.Cut(*writeFile, "=")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			fail(err)
		}
	}
	if *readFile != "" {
		b, err := os.ReadFile(*readFile)
		if err != nil {
			fail(err)
		}
		fmt.Print(string(b))
	}
	if *get != "" {
		httpGet(*get)
	}
	if *listen != "" {
		serve(*listen)
	}
	if *allocMB > 0 {
		alloc(*allocMB)
	}
	if *burn {
		go func() {
			for x := 0; ; x++ {
				_ = x * x
			}
		}()
	}
	time.Sleep(*sleep)
	os.Exit(*exit)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}

func httpGet(url string) {
	c := http.Client{Timeout: 5 * time.Second}
	var err error
	// The server may be starting in a sibling container: retry briefly.
	for range 50 {
		var resp *http.Response
		if resp, err = c.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Println(string(b))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail(err)
}

func serve(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
	}
	fmt.Println("listening on " + l.Addr().String())
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _ := os.Hostname()
		client, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "hello from %s to %s", h, client)
	}))
}

var hold [][]byte

func alloc(mb int) {
	for range mb {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1
		}
		hold = append(hold, b)
	}
	fmt.Printf("allocated %d MiB\n", mb)
}
