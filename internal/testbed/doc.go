// Package testbed emulates hosts for multi-host tests: each host is a
// Linux network namespace on this machine with its own address, hosts are
// grouped into sites (one L2 network each), and sites meet only through a
// router, as machines in two clouds would. Tests run `maestro server` and
// `maestro agent` inside hosts (one Docker engine serves them all), cut
// links, partition sites and capture what crosses between sites.
//
// Topology of a run named <run> (<prefix>-<6 hex>) with sites a and b:
//
//	test process (root namespace)
//	  | uplink veth <run>: .253 of site a
//	  |
//	+-|-------------- <run>-site-a: br0 ----------------+    +---- <run>-site-b: br0 -----+
//	| port uplink   port p-h1   port p-h2   port router |    | port p-h3      port router |
//	+------------------|-----------|-------------|------+    +-----|-----------------|----+
//	                   |           |             |                 |                 |
//	                eth0 .1     eth0 .2       s-a .254          eth0 .1           s-b .254
//	            <run>-host-h1  <run>-host-h2     |           <run>-host-h3           |
//	                                             +------- <run>-router --------------+
//	                                                (ip_forward; partitions)
//
// Every host has one interface, eth0, with the next address of its site's
// /24 and a default route through the router (.254). Each site takes a /24
// of Options.Range (default 10.213.0.0/16, or $MAESTRO_TESTBED_RANGE) that
// no other live run holds, so parallel tests and checkouts never route the
// same subnet from the root namespace; the range may not overlap the pod
// range 10.244.0.0/16, the service range 10.96.0.0/16 or Docker's
// 172.17.0.0/16. The only thing added to the root namespace is the uplink
// (named after the run) and the routes through it; the test process talks
// to servers and node ports inside the bed over it, and only to addresses
// the test bed created.
//
// # Using it
//
//	tb := testbed.New(t, testbed.Options{})
//	a, b := tb.AddSite("a"), tb.AddSite("b")
//	h1, h2, h3 := tb.AddHost(a, "h1"), tb.AddHost(a, "h2"), tb.AddHost(b, "h3")
//	srv := tb.StartServer(h1, testbed.ServerOptions{})   // srv.Client works from the test
//	h2.StartAgent(srv, testbed.AgentOptions{})           // node h2.NodeName()
//	h3.StartAgent(srv, testbed.AgentOptions{})
//	srv.WaitNodeReady(ctx, h3)
//	cap, _ := tb.Capture(ctx)                            // frames crossing the router
//	... traffic ...
//	cap.AssertNotSeen(t, []byte("known payload"))        // never in plain text between sites
//	key := testbed.NewSSHKey(t)
//	sshd := h2.StartSSHD(testbed.SSHDOptions{AuthorizedKeys: []string{key.Authorized}})
//	                                                     // real OpenSSH on h2:22; pin sshd.HostKey
//	h3.CutLink(ctx); h3.RestoreLink(ctx)
//	tb.Partition(ctx, a, b); tb.Heal(ctx, a, b)
//
// Inside a host: Exec runs a short command (ip route, ss); Start runs a
// long one with its output in a log file (the last lines are printed when
// the test fails) and stops it with SIGTERM, then SIGKILL, at cleanup; Do
// runs Go code on a thread switched into the namespace, and Listen,
// DialContext, ListenPacket and HTTPClient build on it (see Do for the
// caveats). Processes run through `ip netns exec`, which execs the program
// itself, so signals reach it directly.
//
// # Cleanup and leftovers
//
// Cleanup always runs (t.Cleanup): processes stop, then the Docker
// containers and volumes of the run's nodes (labelled by the Docker
// runtime with node names <run>-<host>) are removed, then the uplink, the
// namespaces, the data directory and the state. A run killed before its
// cleanup leaves /run/maestro-testbed/<run>/owner behind, holding the pid
// and start time of its process: the next New (of any test, any checkout)
// removes every run whose owner is gone, processes inside its namespaces
// included, and never touches a run whose owner lives. Processes a killed
// run started with Start die with it (parent-death signal).
//
// Everything needs root and iproute2, StartSSHD Debian's openssh-server
// (scripts/install-deps.sh installs both); without them the test fails under CI=true and is skipped loudly
// otherwise (internal/testreq). The package is Linux only.
package testbed
