package apiserver_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	admin := env.Client
	for _, s := range []string{"used", "unused"} {
		if _, err := admin.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: s},
			StringData: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	mine := pod("mine", "node-1")
	mine.Spec.Volumes = []api.Volume{{Name: "s", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "used"}}}}
	for _, p := range []*api.Pod{mine, pod("theirs", "node-2")} {
		if _, err := admin.Pods("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-2"}}); err != nil {
		t.Fatal(err)
	}

	viewer := env.ClientAs(t, "viewer", "")
	node := env.ClientAs(t, "node", "node-1")
	type check struct {
		name    string
		do      func(c *client.Client) error
		allowed bool
	}
	checks := []struct {
		client *client.Client
		role   string
		checks []check
	}{
		{viewer, "viewer", []check{
			{"list pods", func(c *client.Client) error { _, _, err := c.Pods("").List(ctx, client.ListOptions{}); return err }, true},
			{"get pod", func(c *client.Client) error { _, err := c.Pods("default").Get(ctx, "mine"); return err }, true},
			{"create pod", func(c *client.Client) error { _, err := c.Pods("default").Create(ctx, pod("v", "")); return err }, false},
			{"delete pod", func(c *client.Client) error { return c.Pods("default").Delete(ctx, "mine") }, false},
			{"read secret", func(c *client.Client) error { _, err := c.Secrets("default").Get(ctx, "used"); return err }, false},
			{"list secrets", func(c *client.Client) error {
				_, _, err := c.Secrets("default").List(ctx, client.ListOptions{})
				return err
			}, false},
			{"create token", func(c *client.Client) error {
				_, err := c.CreateToken(ctx, api.TokenRequest{Role: "admin"})
				return err
			}, false},
		}},
		{node, "node", []check{
			{"register itself", func(c *client.Client) error {
				_, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-1"}})
				return err
			}, true},
			{"register another node", func(c *client.Client) error {
				_, err := c.Nodes().Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "node-9"}})
				return err
			}, false},
			{"update another node", func(c *client.Client) error {
				n, err := c.Nodes().Get(ctx, "node-2")
				if err != nil {
					return err
				}
				_, err = c.Nodes().UpdateStatus(ctx, n)
				return err
			}, false},
			{"list all pods", func(c *client.Client) error { _, _, err := c.Pods("").List(ctx, client.ListOptions{}); return err }, false},
			{"list its pods", func(c *client.Client) error {
				pods, _, err := c.Pods("").List(ctx, client.ListOptions{FieldSelector: "spec.nodeName=node-1"})
				if err == nil && (len(pods) != 1 || pods[0].Name != "mine") {
					t.Errorf("node-1 sees pods %v", pods)
				}
				return err
			}, true},
			{"list another node's pods", func(c *client.Client) error {
				_, _, err := c.Pods("").List(ctx, client.ListOptions{FieldSelector: "spec.nodeName=node-2"})
				return err
			}, false},
			{"update its pod's status", func(c *client.Client) error {
				p, err := c.Pods("default").Get(ctx, "mine")
				if err != nil {
					return err
				}
				p.Status.Phase = api.PodRunning
				_, err = c.Pods("default").UpdateStatus(ctx, p)
				return err
			}, true},
			{"update its pod's spec", func(c *client.Client) error {
				p, err := admin.Pods("default").Get(ctx, "mine")
				if err != nil {
					return err
				}
				p.Spec.Containers[0].Image = "evil:1"
				_, err = c.Pods("default").Update(ctx, p)
				return err
			}, false},
			{"get another node's pod", func(c *client.Client) error { _, err := c.Pods("default").Get(ctx, "theirs"); return err }, false},
			{"read a secret its pod mounts", func(c *client.Client) error {
				s, err := c.Secrets("default").Get(ctx, "used")
				if err == nil && string(s.Data["k"]) != "v" {
					t.Errorf("secret data %q, want v", s.Data["k"])
				}
				return err
			}, true},
			{"read a secret no pod of its uses", func(c *client.Client) error { _, err := c.Secrets("default").Get(ctx, "unused"); return err }, false},
			{"list secrets", func(c *client.Client) error {
				_, _, err := c.Secrets("default").List(ctx, client.ListOptions{})
				return err
			}, false},
			{"read services", func(c *client.Client) error { _, _, err := c.Services("").List(ctx, client.ListOptions{}); return err }, true},
			{"create a deployment", func(c *client.Client) error {
				_, err := c.Deployments("default").Create(ctx, deployment("x", 1))
				return err
			}, false},
		}},
	}
	for _, group := range checks {
		for _, c := range group.checks {
			t.Run(group.role+"/"+c.name, func(t *testing.T) {
				err := c.do(group.client)
				switch {
				case c.allowed && err != nil:
					t.Fatalf("refused: %v", err)
				case !c.allowed && !api.IsForbidden(err):
					t.Fatalf("got %v, want 403 Forbidden", err)
				case !c.allowed && !strings.Contains(err.Error(), "role "+group.role):
					t.Fatalf("forbidden message %q does not name the role", err)
				}
			})
		}
	}
}

func TestRevokedAndExpiredTokens(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	resp, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "viewer", Description: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config
	cfg.Token = resp.Token
	viewer, _ := client.New(cfg)
	if _, _, err := viewer.Pods("default").List(ctx, client.ListOptions{}); err != nil {
		t.Fatalf("fresh viewer token: %v", err)
	}
	tokens, err := env.Client.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		if strings.Contains(resp.Token, tk.ID+".") && tk.Role != "viewer" {
			t.Errorf("listed token %+v", tk)
		}
	}
	if err := env.Client.DeleteToken(ctx, resp.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := viewer.Pods("default").List(ctx, client.ListOptions{}); !api.IsUnauthorized(err) {
		t.Fatalf("revoked token: %v, want 401", err)
	}
	_, err = env.Client.CreateToken(ctx, api.TokenRequest{Role: "root"})
	if !api.IsInvalid(err) || !strings.Contains(err.Error(), "role") {
		t.Fatalf("unknown role: %v, want Invalid naming role", err)
	}
}

func TestTokenRequestValidation(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	before := len(listTokens(t, env))
	cases := []struct {
		req   api.TokenRequest
		field string
	}{
		{api.TokenRequest{Role: "viewer", Uses: 2}, "uses"},
		{api.TokenRequest{Role: "node", Node: "n1", Addresses: []string{"10.0.0.1"}}, "addresses"},
		{api.TokenRequest{Role: "admin", Labels: map[string]string{"a": "b"}}, "labels"},
		{api.TokenRequest{Role: "join", Uses: -1}, "uses"},
		{api.TokenRequest{Role: "join", Addresses: []string{"10.0.0.1", "node-1.example"}}, "addresses[1]"},
		{api.TokenRequest{Role: "join", Addresses: []string{"0.0.0.0"}}, "addresses[0]"},
		{api.TokenRequest{Role: "join", Labels: map[string]string{"bad key!": "x"}}, "labels"},
		{api.TokenRequest{Role: "join", Node: "Not_A_Name"}, "node"},
	}
	for _, tc := range cases {
		_, err := env.Client.CreateToken(ctx, tc.req)
		if !api.IsInvalid(err) || !slices.ContainsFunc(causes(err), func(f string) bool { return strings.HasPrefix(f, tc.field) }) {
			t.Errorf("CreateToken(%+v) = %v (fields %v), want 422 naming %s", tc.req, err, causes(err), tc.field)
		}
	}
	if tokens := listTokens(t, env); len(tokens) != before {
		t.Errorf("refused requests stored tokens: %+v", tokens)
	}
	resp, err := env.Client.CreateToken(ctx, api.TokenRequest{Role: "join", Uses: 3, Node: "n1", Addresses: []string{"::ffff:10.0.0.1"},
		Labels: map[string]string{api.LabelZone: "zone-a"}})
	if err != nil || resp.Uses != 3 {
		t.Fatalf("join token with bindings: %+v, %v", resp, err)
	}
	for _, info := range listTokens(t, env) {
		if info.ID == resp.ID && (info.UsesLeft != 3 || info.Node != "n1" || len(info.Addresses) != 1 || info.Addresses[0] != "10.0.0.1" ||
			info.Labels[api.LabelZone] != "zone-a") {
			t.Errorf("listed %+v", info)
		}
	}
}
