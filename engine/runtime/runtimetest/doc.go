// Package runtimetest is the conformance suite of runtime.Runtime: one test
// body (Run) that every implementation passes, plus the helpers its tests
// and other packages' end-to-end tests share: building the test programs
// under testdata/ and preparing a Docker engine for tests (DockerEnv).
//
// The test program (testdata/testprog) does what its flags say: print its
// arguments, environment or a file, print numbered lines, handle or ignore
// SIGTERM, serve or fetch HTTP, allocate memory, burn cpu, sleep, exit with
// a code. testdata/pause stands in for the infra container's program.
package runtimetest
