package apiserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawHTTP sends a request with exactly the given body and headers, for
// checks the typed client would not let through.
type rawHTTP struct {
	env    *testenv.Env
	client *http.Client
}

func newRaw(t *testing.T, env *testenv.Env) *rawHTTP {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(env.Config.CertificateAuthorityData)) {
		t.Fatal("no CA in client config")
	}
	return &rawHTTP{env: env, client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

type rawResponse struct {
	Code   int
	Body   []byte
	Status api.Status
}

func (r *rawHTTP) do(t *testing.T, method, path, token, contentType string, body []byte) rawResponse {
	t.Helper()
	return r.doWith(t, method, path, token, body, map[string]string{"Content-Type": contentType})
}

// doWith is do with any headers ("" values are not sent).
func (r *rawHTTP) doWith(t *testing.T, method, path, token string, body []byte, headers map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, r.env.Config.Server+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{Code: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, &out.Status)
	return out
}

func deployment(name string, replicas int32) *api.Deployment {
	labels := map[string]string{"app": name}
	return &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"tier": "web"}},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(replicas),
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: labels},
				Spec: api.PodSpec{Containers: []api.Container{{
					Name: "app", Image: "demo:1",
					Resources: api.ResourceRequirements{Requests: api.ResourceList{
						api.ResourceCPU: resource.MustParse("250m"), api.ResourceMemory: resource.MustParse("64Mi"),
					}},
				}}},
			},
		},
	}
}

func pod(name, node string) *api.Pod {
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "p"}},
		Spec:       api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Image: "demo:1"}}},
	}
}

func causes(err error) []string {
	var out []string
	if se, ok := err.(*api.StatusError); ok && se.Status.Details != nil {
		for _, c := range se.Status.Details.Causes {
			out = append(out, c.Field)
		}
	}
	return out
}
