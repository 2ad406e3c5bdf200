//go:build linux

package multihost_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/loadgen"
)

// proxySettle is how long after its endpoints leave a service every proxy
// may still send a request to the lost host (the proxies' watch latency).
const proxySettle = 2 * time.Second

// TestHostLossAcrossSites cuts the link of the only host of site b while
// 50 requests/s go through a service with endpoints on all three hosts,
// and reports how many requests failed and when the last one failed
// relative to the node going NotReady. Once the node is NotReady and its
// endpoints are gone (and the proxies had proxySettle to see it), no
// request may fail.
func TestHostLossAcrossSites(t *testing.T) {
	b := newBed(t)
	b.createDeployment(b.demoDeployment("backend", 3))
	svc := b.createService(service("backend", "backend"))
	pods := b.readyPods("backend", 3, 3*time.Minute)
	lost := b.podOn(pods, b.h3)

	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	res := make(chan loadgen.Result, 1)
	go func() {
		res <- loadgen.Run(ctx, loadgen.Config{URL: nodePortURL(b.h1, svc), Rate: 50, Workers: 16,
			Duration: 5 * time.Minute, Timeout: 3 * time.Second})
	}()
	time.Sleep(3 * time.Second)
	cutAt := time.Now()
	if err := b.h3.CutLink(b.ctx); err != nil {
		t.Fatal(err)
	}
	var notReadyAt, goneAt time.Time
	b.eventually(2*time.Minute, "the cut host's node NotReady and its endpoints gone", func() (bool, string) {
		n, err := b.c.Nodes().Get(b.ctx, b.h3.NodeName())
		if err != nil {
			return false, err.Error()
		}
		if notReadyAt.IsZero() && !api.IsNodeReady(n) {
			notReadyAt = time.Now()
		}
		ep, err := b.c.Endpoints("default").Get(b.ctx, "backend")
		if err != nil {
			return false, err.Error()
		}
		addrs := readyAddresses(ep)
		if goneAt.IsZero() && !slices.Contains(addrs, lost.Status.PodIP) {
			goneAt = time.Now()
		}
		return !notReadyAt.IsZero() && !goneAt.IsZero(), fmt.Sprintf("ready endpoints %v", addrs)
	})
	settled := goneAt.Add(proxySettle)
	time.Sleep(time.Until(settled) + 15*time.Second)
	cancel()
	r := <-res

	failures := r.Failures()
	var last time.Time
	var late []loadgen.Sample
	for _, f := range failures {
		if f.Start.After(last) {
			last = f.Start
		}
		if f.Start.After(settled) {
			late = append(late, f)
		}
	}
	t.Logf("load: %s", r.Summary())
	t.Logf("link cut at 0s; node NotReady at %.1fs; endpoints gone at %.1fs; %d of %d requests failed",
		notReadyAt.Sub(cutAt).Seconds(), goneAt.Sub(cutAt).Seconds(), len(failures), len(r.Samples))
	if !last.IsZero() {
		t.Logf("last failed request started %.1fs after the cut, %+.1fs relative to NotReady",
			last.Sub(cutAt).Seconds(), last.Sub(notReadyAt).Seconds())
	}
	if after := samplesAfter(r, settled); after < 500 {
		t.Fatalf("only %d requests after the endpoints left: the load did not run", after)
	}
	if len(late) > 0 {
		t.Fatalf("%d requests failed after the node was NotReady and its endpoints gone (+%v); first: %+v",
			len(late), proxySettle, late[0])
	}
	for _, s := range r.Samples {
		if s.Start.After(settled) && strings.Contains(s.Body, "pod="+lost.Name) {
			t.Fatalf("the lost pod %s still answered after its endpoints left: %+v", lost.Name, s)
		}
	}
}

// readyAddresses are the ready endpoint IPs of ep.
func readyAddresses(ep *api.Endpoints) []string {
	var out []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			out = append(out, a.IP)
		}
	}
	return out
}

// samplesAfter counts the requests that started after t.
func samplesAfter(r loadgen.Result, t time.Time) int {
	n := 0
	for _, s := range r.Samples {
		if s.Start.After(t) {
			n++
		}
	}
	return n
}
