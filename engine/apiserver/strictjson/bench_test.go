package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// BenchmarkStrictDecode compares the strict decode of a body with the plain
// one the API server did before (json.Decoder with DisallowUnknownFields),
// and reports the ratio: the cost of the duplicate-key and path checks.
func BenchmarkStrictDecode(b *testing.B) {
	dep, err := json.Marshal(realisticDeployment())
	if err != nil {
		b.Fatal(err)
	}
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "big", Namespace: "default"}, Data: map[string]string{}}
	for i := range 1000 {
		cm.Data[fmt.Sprintf("key-%04d", i)] = fmt.Sprintf("value number %d of a config map with many keys", i)
	}
	cmJSON, err := json.Marshal(cm)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body []byte
		into func() any
	}{
		{"deployment", dep, func() any { return &api.Deployment{} }},
		{"configmap-1000-keys", cmJSON, func() any { return &api.ConfigMap{} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			plain, strict := measure(b, func() error {
				dec := json.NewDecoder(bytes.NewReader(tc.body))
				dec.DisallowUnknownFields()
				return dec.Decode(tc.into())
			}, func() error { return Unmarshal(tc.body, tc.into()) })
			b.ReportMetric(float64(plain.Nanoseconds()), "plain-ns/op")
			b.ReportMetric(float64(strict.Nanoseconds()), "strict-ns/op")
			b.ReportMetric(float64(strict)/float64(plain), "strict/plain")
			b.SetBytes(int64(len(tc.body)))
		})
	}
}

// measure runs f and g b.N times each, interleaved so that load from
// elsewhere on a shared machine weighs on both alike, and returns the
// time per call of each.
func measure(b *testing.B, f, g func() error) (tf, tg time.Duration) {
	b.Helper()
	for range b.N {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := g(); err != nil {
			b.Fatal(err)
		}
		tf += mid.Sub(start)
		tg += time.Since(mid)
	}
	return tf / time.Duration(b.N), tg / time.Duration(b.N)
}
