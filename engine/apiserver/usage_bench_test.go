package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

const (
	benchNodes       = 1000
	benchPodsPerNode = 30
	benchSenders     = 32 // concurrent agents on the wire at once
)

// benchAgent is one simulated node: its token and its report, encoded
// once (what each agent sends every 10 s).
type benchAgent struct {
	node   string
	token  string
	client *client.Client
	body   json.RawMessage
}

func benchAgents(b *testing.B, env *testenv.Env) []*benchAgent {
	ctx := context.Background()
	agents := make([]*benchAgent, benchNodes)
	for i := range agents {
		node := fmt.Sprintf("node-%04d", i)
		resp, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "node", Node: node})
		if err != nil {
			b.Fatal(err)
		}
		cfg := env.Config
		cfg.Token = resp.Token
		c, err := client.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		pods := make([]*api.Pod, benchPodsPerNode)
		for j := range pods {
			pods[j] = &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("%s-pod-%02d", node, j), UID: fmt.Sprintf("uid-%d-%d", i, j)},
				Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Resources: api.ResourceRequirements{
					Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse("128Mi")}}}}}}
		}
		body, err := json.Marshal(simnode.UsageReport(node, pods, time.Now(), 10*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		agents[i] = &benchAgent{node: node, token: resp.Token, client: c, body: body}
	}
	return agents
}

// cycle sends every agent's report once, benchSenders at a time.
func cycle(b *testing.B, agents []*benchAgent, send func(*benchAgent) error) {
	work := make(chan *benchAgent, len(agents))
	for _, a := range agents {
		work <- a
	}
	close(work)
	var wg sync.WaitGroup
	for range benchSenders {
		wg.Go(func() {
			for a := range work {
				if err := send(a); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkMetricsPipeline: 1,000 simulated nodes of 30 pods report their
// usage (one op is one cycle: every node reports once, as every 10 s)
// to a real API server over embedded etcd, each with its node token.
//
//   - cpu-ms/cycle: the API server's handler (auth, flow control, strict
//     decoding, validation, store) called in process, without TLS;
//   - https-cpu-ms/cycle: the whole process over HTTPS, the 1,000 agents'
//     client side included (an upper bound of the server's share);
//   - cores@10s: cpu-ms/cycle as a share of one core at a 10 s interval;
//   - MB-retained: the heap the store keeps for 30,000 pods.
//
// It fails if the etcd revision moves while the reports flow: usage is
// never written to etcd.
func BenchmarkMetricsPipeline(b *testing.B) {
	env := testenv.Start(b)
	ctx := context.Background()
	agents := benchAgents(b, env)
	handler := env.CP.APIServer().Handler()
	direct := func(a *benchAgent) error {
		req := httptest.NewRequest(http.MethodPost, "/v1/nodemetrics/"+a.node, bytes.NewReader(a.body))
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			return fmt.Errorf("report of %s: %d %s", a.node, rec.Code, rec.Body)
		}
		return nil
	}
	overHTTPS := func(a *benchAgent) error {
		return a.client.Do(ctx, http.MethodPost, "/v1/nodemetrics/"+a.node, nil, a.body, nil)
	}
	store := env.CP.APIServer().UsageStore()

	cycle(b, agents, overHTTPS) // warm up: connections, token caches
	cycle(b, agents, direct)
	if nodes, pods := store.Len(); nodes != benchNodes || pods != benchNodes*benchPodsPerNode {
		b.Fatalf("the store holds %d nodes and %d pods, want %d and %d", nodes, pods, benchNodes, benchNodes*benchPodsPerNode)
	}
	// What the store retains: the heap with every report in, less the heap
	// once they are all forgotten.
	full := heapMB()
	for _, a := range agents {
		store.Forget(a.node)
	}
	retained := full - heapMB()
	cycle(b, agents, direct)
	revBefore, err := env.CP.Store().CurrentRevision(ctx)
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	var directCPU, httpsCPU time.Duration
	for range b.N {
		c0 := cpuTime()
		cycle(b, agents, direct)
		c1 := cpuTime()
		cycle(b, agents, overHTTPS)
		httpsCPU += cpuTime() - c1
		directCPU += c1 - c0
	}
	b.StopTimer()

	revAfter, err := env.CP.Store().CurrentRevision(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if revAfter != revBefore {
		b.Fatalf("etcd revision moved from %d to %d during %d report cycles: usage reports must never write to etcd", revBefore, revAfter, 2*b.N)
	}
	perCycle := float64(directCPU.Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(perCycle, "cpu-ms/cycle")
	b.ReportMetric(float64(httpsCPU.Microseconds())/1000/float64(b.N), "https-cpu-ms/cycle")
	b.ReportMetric(perCycle/10000, "cores@10s")
	b.ReportMetric(retained, "MB-retained")
	b.ReportMetric(0, "etcd-writes")
}
