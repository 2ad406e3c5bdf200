// Command maestro-demo is the application maestro's tests and demos run in
// containers: an HTTP server (and optionally a UDP echo) whose answers say
// which pod served them, and whose health, readiness, CPU use, files and
// exit are driven from outside, by requests or by flags, so a test can
// provoke liveness failures, crash loops, slow shutdowns and the like.
// It uses the standard library only and is built static (CGO_ENABLED=0).
//
// Endpoints (text answers end with a newline):
//
//	GET  /                     pod=<name> namespace=<ns> version=<v> host=<hostname>
//	                           [node=<node>] [visits=<n>], then the upstream's answer, indented
//	GET  /healthz              200 ok, or 500 after POST /fail-health (POST /recover-health undoes it)
//	GET  /readyz               200 ready, or 503 after POST /unready (POST /ready undoes it)
//	POST /burn?seconds=N&cores=K  burn CPU on K goroutines for N seconds (answers at once)
//	GET  /env                  the environment, sorted, KEY=value per line
//	GET  /file?path=P          the file's content (404 if missing)
//	POST /file?path=P          write the request body to P (parents created)
//	POST /exit?code=N          answer, then exit with status N (default 0)
//	GET  /call?url=U           fetch U and answer with its status and body (502 if unreachable)
//	GET  /whoami               remote=<ip:port>: the caller's address as this pod sees it
//	GET  /udp?addr=A&data=D    send D to the UDP address A, answer with the reply (504 if none)
//
// The pod name is $POD_NAME (the hostname when unset), the namespace
// $POD_NAMESPACE, the node $NODE_NAME (left out when unset), the version
// --version or $VERSION (default v1), the port --port or $PORT (default 8080).
//
// Two flags make a chain of services out of several copies of the demo:
// with --upstream URL ($UPSTREAM) GET / also fetches URL and answers with
// its own identity line followed by the upstream's answer indented under
// "  -> ", so frontend -> backend -> store reads as a tree (502, naming
// the URL, when the upstream fails); with --counter-file PATH
// ($COUNTER_FILE) GET / counts its visits in that file, which survives
// restarts, and adds visits=N to its identity line.
//
// `maestro-demo task` runs once and exits instead of serving, the shape of
// an init container: --append PATH=LINE (repeatable, in order) appends lines
// to files, --attempts-file PATH with --fail-times N fails (--exit-code) the
// first N runs counted in that file, --sleep D waits first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags and the environment ask for.
type config struct {
	port, udpPort   int
	version         string
	podName         string
	namespace       string
	nodeName        string
	hostname        string
	upstream        string // GET / appends this URL's answer ("": none)
	counterFile     string // GET / counts visits in this file ("": no counter)
	exitAfter       time.Duration
	exitCode        int
	unreadyAfter    time.Duration
	failHealthAfter time.Duration
	ignoreSIGTERM   bool
	shutdownDelay   time.Duration
}

// parseConfig reads the flags, with the environment (getenv) filling in
// what they leave unset; a flag given explicitly wins over the environment.
func parseConfig(args []string, getenv func(string) string, hostname string) (config, error) {
	cfg := config{hostname: hostname}
	fs := flag.NewFlagSet("maestro-demo", flag.ContinueOnError)
	var usage strings.Builder
	fs.SetOutput(&usage)
	fs.IntVar(&cfg.port, "port", 8080, "HTTP port; $PORT when not given")
	fs.IntVar(&cfg.udpPort, "udp-port", 0, "also echo UDP datagrams on this port (0: no UDP)")
	fs.StringVar(&cfg.version, "version", "v1", "version to report; $VERSION when not given")
	fs.DurationVar(&cfg.exitAfter, "exit-after", 0, "exit with --exit-code after this long (0: never)")
	fs.IntVar(&cfg.exitCode, "exit-code", 1, "exit status used by --exit-after")
	fs.DurationVar(&cfg.unreadyAfter, "unready-after", 0, "turn /readyz to 503 after this long (0: never)")
	fs.DurationVar(&cfg.failHealthAfter, "fail-health-after", 0, "turn /healthz to 500 after this long (0: never)")
	fs.BoolVar(&cfg.ignoreSIGTERM, "ignore-sigterm", false, "log SIGTERM and keep running (only SIGKILL stops it)")
	fs.DurationVar(&cfg.shutdownDelay, "shutdown-delay", 0, "keep serving this long after SIGTERM before exiting")
	fs.StringVar(&cfg.upstream, "upstream", "", "GET / also answers with this http(s) URL's answer; $UPSTREAM when not given")
	fs.StringVar(&cfg.counterFile, "counter-file", "", "GET / counts visits in this file; $COUNTER_FILE when not given")
	if err := fs.Parse(args); err != nil {
		return config{}, usageError{err: err, usage: strings.TrimSpace(usage.String())}
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if p := getenv("PORT"); p != "" && !set["port"] {
		n, err := strconv.Atoi(p)
		if err != nil {
			return config{}, fmt.Errorf("$PORT=%q is not a port number", p)
		}
		cfg.port = n
	}
	if v := getenv("VERSION"); v != "" && !set["version"] {
		cfg.version = v
	}
	if v := getenv("UPSTREAM"); v != "" && !set["upstream"] {
		cfg.upstream = v
	}
	if v := getenv("COUNTER_FILE"); v != "" && !set["counter-file"] {
		cfg.counterFile = v
	}
	if cfg.upstream != "" {
		if !isHTTPURL(cfg.upstream) {
			return config{}, fmt.Errorf("--upstream=%q is not an http:// or https:// URL", cfg.upstream)
		}
	}
	if cfg.port < 1 || cfg.port > 65535 {
		return config{}, fmt.Errorf("--port=%d is not a port number", cfg.port)
	}
	if cfg.udpPort < 0 || cfg.udpPort > 65535 {
		return config{}, fmt.Errorf("--udp-port=%d is not a port number", cfg.udpPort)
	}
	cfg.podName = getenv("POD_NAME")
	if cfg.podName == "" {
		cfg.podName = hostname
	}
	cfg.namespace = getenv("POD_NAMESPACE")
	cfg.nodeName = getenv("NODE_NAME")
	return cfg, nil
}

// usageError is a flag error (or a request for help): what the flag
// package printed, the error line and the defaults of every flag.
type usageError struct {
	err   error
	usage string
}

func (e usageError) Error() string { return e.usage }
func (e usageError) Unwrap() error { return e.err }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "task" {
		os.Exit(task(os.Args[2:]))
	}
	hostname, _ := os.Hostname()
	cfg, err := parseConfig(os.Args[1:], os.Getenv, hostname)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "maestro-demo: %v\n", err)
		os.Exit(2)
	}
	os.Exit(run(cfg, log.New(os.Stdout, "", 0)))
}

// task runs `maestro-demo task` and returns its exit status.
func task(args []string) int {
	cfg, err := parseTask(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, err)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "maestro-demo task: %v\n", err)
		return 2
	}
	return runTask(cfg, os.Stdout)
}

// run serves until a signal (or a request, or --exit-after) ends the
// process, and returns the exit status.
func run(cfg config, logger *log.Logger) int {
	// Catch signals before announcing anything: a SIGTERM sent as soon as
	// the startup line appears must shut down cleanly, not kill.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := newServer(ctx, cfg, logger, os.Exit)

	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		logger.Printf("listening: %v", err)
		return 1
	}
	if cfg.udpPort != 0 {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: cfg.udpPort})
		if err != nil {
			logger.Printf("listening on udp: %v", err)
			return 1
		}
		logger.Printf("maestro-demo listening on udp :%d", cfg.udpPort)
		go serveUDP(ctx, conn, cfg.podName, logger)
	}
	if srv.visits != nil {
		// Read the counter once now: an unreadable file is reported at
		// start, not on the first visit.
		n, err := srv.visits.load()
		if err != nil {
			logger.Printf("counter file: %v", err)
			return 1
		}
		logger.Printf("counting visits in %s (visits=%d)", cfg.counterFile, n)
	}
	httpServer := &http.Server{Handler: srv.routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	logger.Printf("maestro-demo listening on :%d version=%s pod=%s", cfg.port, cfg.version, cfg.podName)

	scheduleFaults(cfg, srv, logger)

	for {
		select {
		case err := <-served:
			logger.Printf("serving: %v", err)
			return 1
		case sig := <-signals:
			name := "SIGINT"
			if sig == syscall.SIGTERM {
				name = "SIGTERM"
				if cfg.ignoreSIGTERM {
					logger.Printf("received SIGTERM, ignoring it (--ignore-sigterm)")
					continue
				}
			}
			logger.Printf("received %s, shutting down", name)
			return shutdown(httpServer, cfg.shutdownDelay, logger)
		}
	}
}

// scheduleFaults arms the --exit-after, --unready-after and
// --fail-health-after timers.
func scheduleFaults(cfg config, srv *server, logger *log.Logger) {
	if cfg.exitAfter > 0 {
		time.AfterFunc(cfg.exitAfter, func() {
			logger.Printf("exiting with code %d after %s (--exit-after)", cfg.exitCode, cfg.exitAfter)
			srv.exit(cfg.exitCode)
		})
	}
	if cfg.unreadyAfter > 0 {
		time.AfterFunc(cfg.unreadyAfter, func() {
			srv.unready.Store(true)
			logger.Printf("now not ready (--unready-after %s)", cfg.unreadyAfter)
		})
	}
	if cfg.failHealthAfter > 0 {
		time.AfterFunc(cfg.failHealthAfter, func() {
			srv.unhealthy.Store(true)
			logger.Printf("now failing health checks (--fail-health-after %s)", cfg.failHealthAfter)
		})
	}
}

// shutdown keeps serving for delay (as an application draining
// connections would), then closes the server and returns 0.
func shutdown(httpServer *http.Server, delay time.Duration, logger *log.Logger) int {
	if delay > 0 {
		logger.Printf("waiting %s before exiting (--shutdown-delay)", delay)
		time.Sleep(delay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(ctx); err != nil {
		logger.Printf("closing connections: %v", err)
	}
	logger.Printf("exiting")
	return 0
}
