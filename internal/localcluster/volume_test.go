package localcluster_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dfilters "github.com/docker/docker/api/types/filters"
	dvolume "github.com/docker/docker/api/types/volume"

	"github.com/maestro-dev/maestro/engine/agent/volumes"
	"github.com/maestro-dev/maestro/engine/api"
)

// A visit counter on a persistent volume keeps counting however often its
// pod is replaced: the replacement always goes to the node holding the
// data. When that node cannot take it (cordoned) or is gone, the pod waits,
// pending with a reason naming the node, rather than starting over on an
// empty copy elsewhere; when the node comes back, so does the count.
func TestVolumeStaysWithItsData(t *testing.T) {
	c := startCluster(t, 3)
	removeNodeVolumes(t, c) // a failed run's data (node names repeat)
	c.create(t, c.demoDeployment("counter", 1, func(d *api.Deployment) {
		s := &d.Spec.Template.Spec
		s.Volumes = []api.Volume{{Name: "data", VolumeSource: api.VolumeSource{Persistent: &api.PersistentVolumeSource{Name: "counter"}}}}
		app := &s.Containers[0]
		app.Args = []string{"--counter-file", "/data/visits"}
		app.VolumeMounts = []api.VolumeMount{{Name: "data", MountPath: "/data"}}
		app.ReadinessProbe = &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/readyz", Port: api.FromInt(8080)}}, PeriodSeconds: 1}
	}))
	pod := c.readyPods(t, "app=counter", 1, 60*time.Second)[0]
	home := pod.Spec.NodeName
	count := 0
	for range 3 {
		count = visit(t, pod)
	}
	t.Logf("pod %s on %s counts %d", pod.Name, home, count)
	// The scheduler created the Volume on first use, where the pod went.
	eventually(t, 10*time.Second, "the counter's Volume bound on "+home, func() (bool, string) {
		v, err := c.Client.Volumes("default").Get(c.ctx, "counter")
		if err != nil {
			return false, err.Error()
		}
		return v.Status.NodeName == home && v.Status.Phase == api.VolumeBound && slices.Equal(v.Status.UsedBy, []string{pod.Name}),
			fmt.Sprintf("%+v", v.Status)
	})

	for i := range 4 {
		pod = replacePod(t, c, pod)
		got := visit(t, pod)
		if pod.Spec.NodeName != home || got != count+1 {
			t.Fatalf("replacement %d: pod %s on %s counts %d; want it on %s (where the data is) counting %d",
				i+1, pod.Name, pod.Spec.NodeName, got, home, count+1)
		}
		count = got
	}

	// A pod bound by hand to another node: that node's agent refuses it.
	intruder := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "intruder", Namespace: "default"}, Spec: pod.Spec}
	intruder.Spec.NodeName = otherNode(c, home)
	if _, err := c.Client.Pods("default").Create(c.ctx, intruder); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the intruder refused by "+intruder.Spec.NodeName, func() (bool, string) {
		p, err := c.Client.Pods("default").Get(c.ctx, "intruder")
		if err != nil {
			return false, err.Error()
		}
		w := containerStatus(p, "app").State.Waiting
		return w != nil && strings.Contains(w.Message, `lives on node "`+home+`"`), podState(p)
	})
	if n := len(dockerContainers(t, c.docker, intruder.Spec.NodeName)); n > 1 { // its sandbox at most
		t.Fatalf("%d containers of the intruder's node run", n)
	}
	if err := c.Client.Pods("default").Delete(c.ctx, "intruder"); err != nil {
		t.Fatal(err)
	}

	// Cordoned: the replacement waits rather than running elsewhere.
	setUnschedulable(t, c, home, true)
	deletePod(t, c, pod)
	waitPending(t, c, home, regexp.MustCompile(`volume "counter" is on node "`+home+`"`))

	// Gone: it still waits, and says why.
	c.Node(home).Stop()
	if err := c.Client.Nodes().Delete(c.ctx, home); err != nil {
		t.Fatal(err)
	}
	waitPending(t, c, home, regexp.MustCompile(`volume "counter" lives on node "`+home+`", which is gone`))

	// Back: the pod follows its data and the count goes on.
	if err := c.Node(home).Start(); err != nil {
		t.Fatal(err)
	}
	pod = c.readyPods(t, "app=counter", 1, 60*time.Second)[0]
	if got := visit(t, pod); pod.Spec.NodeName != home || got != count+1 {
		t.Fatalf("after the node came back: pod %s on %s counts %d; want it on %s counting %d",
			pod.Name, pod.Spec.NodeName, got, home, count+1)
	}
	if err := c.Client.Deployments("default").Delete(c.ctx, "counter"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the counter's pods gone", func() (bool, string) {
		left := c.pods(t, "app=counter")
		return len(left) == 0, fmt.Sprint(len(left), " pods")
	})
	removeNodeVolumes(t, c)
}

func otherNode(c *lc, name string) string {
	for _, n := range c.Nodes {
		if n.Name != name {
			return n.Name
		}
	}
	return ""
}

var visitsRE = regexp.MustCompile(`visits=(\d+)`)

// visit GETs the counter pod's / and returns the count it answers.
func visit(t *testing.T, p *api.Pod) int {
	t.Helper()
	body, err := get("http://" + p.Status.PodIP + ":8080/")
	if err != nil {
		t.Fatalf("visiting %s: %v", p.Name, err)
	}
	m := visitsRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("pod %s answered %q, no visit count", p.Name, body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func deletePod(t *testing.T, c *lc, p *api.Pod) {
	t.Helper()
	if err := c.Client.Pods(p.Namespace).Delete(c.ctx, p.Name); err != nil {
		t.Fatal(err)
	}
}

// replacePod deletes p and returns its replacement once it is ready and p
// is gone (so the count is read from the new pod alone).
func replacePod(t *testing.T, c *lc, p *api.Pod) *api.Pod {
	t.Helper()
	deletePod(t, c, p)
	var next *api.Pod
	eventually(t, 60*time.Second, "a ready replacement of "+p.Name, func() (bool, string) {
		next = nil
		var states []string
		for _, q := range c.pods(t, "app=counter") {
			states = append(states, q.Name+"@"+q.Spec.NodeName+":"+podState(q))
			if q.UID == p.UID {
				return false, strings.Join(states, " ")
			}
			if q.DeletionTimestamp == nil && api.IsPodReady(q) {
				next = q
			}
		}
		return next != nil, strings.Join(states, " ")
	})
	return next
}

// waitPending waits until the counter's pod is unschedulable with a reason
// matching want, and checks that no pod of it runs anywhere meanwhile.
func waitPending(t *testing.T, c *lc, home string, want *regexp.Regexp) {
	t.Helper()
	eventually(t, 60*time.Second, "the counter pending: "+want.String(), func() (bool, string) {
		var states []string
		pending := false
		for _, q := range c.pods(t, "app=counter") {
			cond := api.FindCondition(q.Status.Conditions, api.PodScheduled)
			msg := ""
			if cond != nil {
				msg = cond.Message
			}
			states = append(states, fmt.Sprintf("%s@%s:%s %q", q.Name, q.Spec.NodeName, podState(q), msg))
			if q.Spec.NodeName != "" && q.Spec.NodeName != home {
				t.Fatalf("pod %s was placed on %s, away from its data on %s", q.Name, q.Spec.NodeName, home)
			}
			if q.Spec.NodeName == "" && cond != nil && cond.Status == api.ConditionFalse && want.MatchString(msg) {
				pending = true
				t.Logf("pod %s pending: %s", q.Name, msg)
			}
		}
		return pending, strings.Join(states, " ")
	})
}

func setUnschedulable(t *testing.T, c *lc, name string, v bool) {
	t.Helper()
	n, err := c.Client.Nodes().Get(c.ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.Unschedulable = v
	if _, err := c.Client.Nodes().Update(c.ctx, n); err != nil {
		t.Fatal(err)
	}
}

// removeNodeVolumes removes the Docker volumes of the cluster's nodes
// (persistent volumes outlive pods and the cluster on purpose).
func removeNodeVolumes(t *testing.T, c *lc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.Nodes {
		prefix := volumes.PersistentVolumePrefix(n.Name)
		list, err := c.docker.VolumeList(ctx, dvolume.ListOptions{Filters: dfilters.NewArgs(dfilters.Arg("name", prefix))})
		if err != nil {
			t.Errorf("listing the volumes of %s: %v", n.Name, err)
			return
		}
		for _, v := range list.Volumes {
			if strings.HasPrefix(v.Name, prefix) {
				if err := c.docker.VolumeRemove(ctx, v.Name, true); err != nil {
					t.Errorf("removing volume %s: %v", v.Name, err)
				}
			}
		}
	}
}
