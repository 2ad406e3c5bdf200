package gcefake_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
)

// token gets an access token from the fake's token endpoint the way a
// service account does: a JWT bearer grant signed with the key file's key.
func token(t *testing.T, s *gcefake.Server) string {
	t.Helper()
	var sa struct {
		PrivateKey string `json:"private_key"`
		Email      string `json:"client_email"`
		TokenURI   string `json:"token_uri"`
	}
	if err := json.Unmarshal(s.CredentialsJSON(), &sa); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(sa.PrivateKey))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	now := time.Now().Unix()
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": sa.Email, "aud": sa.TokenURI, "iat": now, "exp": now + 3600})
	h := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.(*rsa.PrivateKey), crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(sa.TokenURI, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {signed + "." + base64.RawURLEncoding.EncodeToString(sig)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func do(t *testing.T, method, u, tok, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, u, b)
	}
	return resp.StatusCode, m
}

// TestWire checks the fake's answers as Compute Engine gives them: the
// error JSON, bearer tokens, requestId replay, operations and pages.
func TestWire(t *testing.T) {
	s := gcefake.New(gcefake.Options{Zones: []string{"us-central1-a"}, Listen: "127.0.0.1:0"})
	t.Cleanup(s.Close)
	base := s.URL() + "/compute/v1/projects/" + s.Project() + "/zones/us-central1-a"
	code, body := do(t, "GET", base+"/instances", "", "")
	if code != 401 || body["error"].(map[string]any)["status"] != "UNAUTHENTICATED" {
		t.Fatalf("call without a token: %d %v", code, body)
	}
	if code, _ := do(t, "GET", base+"/instances", "ya29.not-issued", ""); code != 401 {
		t.Fatalf("call with a token not issued: %d, want 401", code)
	}
	tok := token(t, s)
	insert := func(name string) (int, map[string]any) {
		return do(t, "POST", base+"/instances?requestId=6f1b2d44-8a53-4c1e-9a0e-"+fmt.Sprintf("%012d", len(name)), tok,
			`{"name":"`+name+`","machineType":"zones/us-central1-a/machineTypes/e2-small","labels":{"maestro-cluster":"c1"}}`)
	}
	code, op := insert("vm-1")
	if code != 200 || op["kind"] != "compute#operation" || op["operationType"] != "insert" {
		t.Fatalf("insert: %d %v", code, op)
	}
	_, again := insert("vm-2") // same requestId (same length): the first operation back
	if again["name"] != op["name"] || len(s.Instances()) != 1 {
		t.Fatalf("replayed insert: %v, instances %+v; want operation %v and one instance", again["name"], s.Instances(), op["name"])
	}
	_, done := do(t, "POST", base+"/operations/"+op["name"].(string)+"/wait", tok, "")
	if done["status"] != "DONE" {
		t.Fatalf("wait: %v", done)
	}
	code, body = do(t, "GET", base+"/instances/nope", tok, "")
	e := body["error"].(map[string]any)
	if code != 404 || e["code"].(float64) != 404 || e["errors"].([]any)[0].(map[string]any)["reason"] != "notFound" {
		t.Fatalf("get of a missing instance: %d %v", code, body)
	}
	for _, n := range []string{"vm-10", "vm-100", "vm-1000"} {
		if code, b := insert(n); code != 200 {
			t.Fatalf("insert %s: %d %v", n, code, b)
		}
	}
	var names []string
	next := ""
	for pages := 0; pages < 10; pages++ {
		q := url.Values{"maxResults": {"3"}, "filter": {`(labels.maestro-cluster = "c1")`}}
		if next != "" {
			q.Set("pageToken", next)
		}
		_, page := do(t, "GET", s.URL()+"/compute/v1/projects/"+s.Project()+"/aggregated/instances?"+q.Encode(), tok, "")
		for _, in := range page["items"].(map[string]any)["zones/us-central1-a"].(map[string]any)["instances"].([]any) {
			names = append(names, in.(map[string]any)["name"].(string))
		}
		if next, _ = page["nextPageToken"].(string); next == "" {
			break
		}
	}
	if strings.Join(names, ",") != "vm-1,vm-10,vm-100,vm-1000" {
		t.Errorf("aggregated list in pages of 3: %v", names)
	}
	if code, body := do(t, "GET", base+"/instances?filter="+url.QueryEscape(`machineFamily = "e2"`), tok, ""); code != 400 {
		t.Errorf("filter on a field the fake does not know: %d %v, want 400", code, body)
	}
	_, other := do(t, "GET", base+"/instances?filter="+url.QueryEscape(`labels.maestro-cluster = "c2"`), tok, "")
	if other["items"] != nil {
		t.Errorf("filter on another cluster listed %v", other["items"])
	}
}
