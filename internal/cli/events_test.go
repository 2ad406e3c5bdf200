package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestGetSeveralKinds: `maestro get deploy,svc` prints one table per kind
// with kind/name rows, as kubectl does; JSON is one List of them all.
func TestGetSeveralKinds(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	if _, err := env.Client.Deployments("default").Create(ctx, testenv.DemoDeployment("demo:1", "web", 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.Services("default").Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80}}}}); err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, cfg, "get", "deploy,svc,cm")
	if err != nil {
		t.Fatal(err)
	}
	tables := strings.Split(strings.TrimSpace(out), "\n\n")
	if len(tables) != 2 {
		t.Fatalf("want two tables (deployments, services; no config maps), got %d:\n%s", len(tables), out)
	}
	for i, want := range []string{`(?s)^NAME\s+READY\s+UP-TO-DATE.*\ndeployment/web\s+0/2\s`, `(?s)^NAME\s+TYPE\s+CLUSTER-IP.*\nservice/web\s+ClusterIP\s`} {
		if !regexp.MustCompile(want).MatchString(tables[i]) {
			t.Errorf("table %d does not match %s:\n%s", i, want, tables[i])
		}
	}

	out, _, err = run(t, cfg, "get", "svc,deployments", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string
		Items []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if list.Kind != "List" || len(list.Items) != 2 || list.Items[0].Kind != "Service" || list.Items[1].Kind != "Deployment" {
		t.Errorf("-o json: %+v, want a List of the service then the deployment", list)
	}

	_, errOut, err := run(t, cfg, "get", "pods,cm", "-n", "default")
	if err != nil || !strings.Contains(errOut, "No resources found in default namespace.") {
		t.Errorf("no objects of any kind: %v, stderr %q", err, errOut)
	}
	for _, args := range [][]string{{"get", "deploy,svc", "web"}, {"get", "deploy,svc", "--watch"}, {"get", "deploy,nosuchkind"}, {"get", "deploy,"}} {
		if _, _, err := run(t, cfg, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestEvents: `maestro events` lists a namespace's events oldest first in
// kubectl's columns, --for narrows them to one object (short kind names
// too), -A adds the namespace, and --watch prints new ones.
func TestEvents(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	cfg := writeConfig(t, env)
	ctx := context.Background()
	if _, err := env.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "other"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	record := func(ns, name, kind, object, typ, reason, msg string, last time.Time) {
		t.Helper()
		if _, err := env.Client.Events(ns).Create(ctx, &api.Event{ObjectMeta: api.ObjectMeta{Name: name},
			InvolvedObject: api.ObjectReference{Kind: kind, Name: object, Namespace: ns}, Type: typ, Reason: reason, Message: msg,
			FirstTimestamp: last, LastTimestamp: last}); err != nil {
			t.Fatal(err)
		}
	}
	// Created out of order: the table is in the order they happened.
	record("default", "e2", "Pod", "web-1", api.EventWarning, "FailedScheduling", "0/3 nodes are available", now.Add(-2*time.Minute))
	record("default", "e1", "Deployment", "web", api.EventNormal, "ScalingReplicaSet", "Scaled up replica set web-1 to 2", now.Add(-10*time.Minute))
	record("default", "e3", "Deployment", "web", api.EventNormal, "ScalingReplicaSet", "Scaled down replica set web-0 to 0", now.Add(-30*time.Second))
	record("other", "e4", "Pod", "db-0", api.EventWarning, "BackOff", "Back-off restarting failed container", now.Add(-time.Minute))

	out, _, err := run(t, cfg, "events")
	if err != nil {
		t.Fatal(err)
	}
	want := `^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n` +
		`\d+m\s+Normal\s+ScalingReplicaSet\s+deployment/web\s+Scaled up replica set web-1 to 2\n` +
		`\d+[sm]\s+Warning\s+FailedScheduling\s+pod/web-1\s+0/3 nodes are available\n` +
		`\d+s\s+Normal\s+ScalingReplicaSet\s+deployment/web\s+Scaled down replica set web-0 to 0\n$`
	if !regexp.MustCompile(want).MatchString(out) {
		t.Errorf("events:\n%s\nwant to match %s", out, want)
	}

	out, _, err = run(t, cfg, "events", "--for", "deploy/web")
	if err != nil || strings.Count(out, "deployment/web") != 2 || strings.Contains(out, "pod/") {
		t.Errorf("events --for deploy/web: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "events", "-A")
	if err != nil || !regexp.MustCompile(`(?m)^NAMESPACE\s+LAST SEEN`).MatchString(out) || !regexp.MustCompile(`(?m)^other\s+\S+\s+Warning\s+BackOff\s+pod/db-0`).MatchString(out) {
		t.Errorf("events -A:\n%s (%v)", out, err)
	}
	_, errOut, err := run(t, cfg, "events", "--for", "pod/nothing")
	if err != nil || !strings.Contains(errOut, "No events found for pod/nothing in namespace default.") {
		t.Errorf("no events: %v, stderr %q", err, errOut)
	}
	for _, args := range [][]string{{"events", "--for", "web"}, {"events", "--for", "nosuchkind/web"}, {"events", "-o", "wide"}} {
		if _, _, err := run(t, cfg, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}

	watch, stop := startWatch(t, cfg, "events", "--watch", "--for", "pod/web-1")
	waitFor(t, watch, `FailedScheduling\s+pod/web-1`)
	record("default", "e5", "Pod", "web-1", api.EventNormal, "Scheduled", "Successfully assigned default/web-1 to node-2", now)
	record("default", "e6", "Pod", "web-2", api.EventNormal, "Scheduled", "Successfully assigned default/web-2 to node-1", now)
	waitFor(t, watch, `(?s)FailedScheduling.*\n\S+\s+Normal\s+Scheduled\s+pod/web-1\s+Successfully assigned default/web-1 to node-2\n`)
	if err := stop(); err != nil {
		t.Errorf("events --watch: %v", err)
	}
	if strings.Contains(watch.String(), "web-2") {
		t.Errorf("--for pod/web-1 printed another pod's event:\n%s", watch.String())
	}
}
