package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
)

// Acceptance tests of the deployment controller on a test cluster
// (helpers_rs_test.go): rolling update bounds and rollback, progress
// deadline, Recreate, pause and resume.

const (
	deployImage1 = "registry.local/web:1"
	deployImage2 = "registry.local/web:2"
)

// createDeployment creates a deployment of pods labelled app=name.
func (c *rsCluster) createDeployment(t *testing.T, name string, replicas int32, mutate func(*api.Deployment)) *api.Deployment {
	t.Helper()
	d := &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: rsTestNamespace},
		Spec: api.DeploymentSpec{Replicas: api.Ptr(replicas), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: rsTestTemplate(map[string]string{"app": name}, deployImage1)},
	}
	if mutate != nil {
		mutate(d)
	}
	out, err := c.client.Deployments(rsTestNamespace).Create(c.ctx, d)
	if err != nil {
		t.Fatalf("creating deployment %s: %v", name, err)
	}
	return out
}

// replicaSets lists the replica sets of the deployment named name.
func (c *rsCluster) replicaSets(t *testing.T, name string) []*api.ReplicaSet {
	t.Helper()
	rss, _, err := c.client.ReplicaSets(rsTestNamespace).List(c.ctx, client.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		t.Fatalf("listing replica sets: %v", err)
	}
	return rss
}

// rsForImage returns the replica set whose template runs image.
func (c *rsCluster) rsForImage(t *testing.T, name, image string) *api.ReplicaSet {
	t.Helper()
	for _, rs := range c.replicaSets(t, name) {
		if rs.Spec.Template.Spec.Containers[0].Image == image {
			return rs
		}
	}
	t.Fatalf("no replica set of %s runs %s", name, image)
	return nil
}

// waitRolledOut waits until the deployment runs replicas available pods
// of image and nothing else, as its status and its replica sets report.
func (c *rsCluster) waitRolledOut(t *testing.T, name string, replicas int32, image string) *api.Deployment {
	t.Helper()
	var d *api.Deployment
	rsEventually(t, 30*time.Second, func() (bool, string) {
		var err error
		if d, err = c.client.Deployments(rsTestNamespace).Get(c.ctx, name); err != nil {
			return false, err.Error()
		}
		s := d.Status
		if d.Spec.Template.Spec.Containers[0].Image != image || s.ObservedGeneration < d.Generation || s.Replicas != replicas ||
			s.UpdatedReplicas != replicas || s.ReadyReplicas != replicas || s.AvailableReplicas != replicas || s.UnavailableReplicas != 0 {
			return false, fmt.Sprintf("waiting for %d available pods of %s; generation %d, status %+v", replicas, image, d.Generation, s)
		}
		for _, rs := range c.replicaSets(t, name) {
			want := int32(0)
			if rs.Spec.Template.Spec.Containers[0].Image == image {
				want = replicas
			}
			if deployRSReplicas(rs) != want || rs.Status.Replicas != want {
				return false, fmt.Sprintf("waiting for replica set %s to hold %d pods: spec %d, status %d", rs.Name, want, deployRSReplicas(rs), rs.Status.Replicas)
			}
		}
		return true, ""
	})
	return d
}

// imageCount counts the pods of the watcher's view by image.
func deployImageCount(pods map[string]*api.Pod) map[string]int {
	out := map[string]int{}
	for _, p := range pods {
		out[p.Spec.Containers[0].Image]++
	}
	return out
}

// TestDeploymentRollingUpdateKeepsAvailability: 10 replicas, maxSurge 2,
// maxUnavailable 0. At every pod event of the rollout at least 10 pods are
// ready and at most 12 exist; then a rollback reuses revision 1's replica
// set as revision 3.
func TestDeploymentRollingUpdateKeepsAvailability(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 3)
	c.createDeployment(t, "web", 10, func(d *api.Deployment) {
		d.Spec.Strategy = api.DeploymentStrategy{Type: api.RollingUpdateStrategy,
			RollingUpdate: &api.RollingUpdateDeployment{MaxSurge: deployIOS("2"), MaxUnavailable: deployIOS("0")}}
	})
	d := c.waitRolledOut(t, "web", 10, deployImage1)
	rev1 := c.rsForImage(t, "web", deployImage1)
	if rev1.Annotations[api.AnnotationRevision] != "1" || d.Annotations[api.AnnotationRevision] != "1" {
		t.Fatalf("revisions after the first rollout: replica set %q, deployment %q", rev1.Annotations[api.AnnotationRevision], d.Annotations[api.AnnotationRevision])
	}

	w := c.watchPods(t, "app=web", func(pods map[string]*api.Pod) string {
		ready, total := 0, 0
		for _, p := range pods {
			if podIsActive(p) {
				total++
				if api.IsPodReady(p) {
					ready++
				}
			}
		}
		switch {
		case ready < 10:
			return fmt.Sprintf("%d ready pods, want at least 10 (%v)", ready, deployImageCount(pods))
		case total > 12:
			return fmt.Sprintf("%d pods, want at most 12 (%v)", total, deployImageCount(pods))
		}
		return ""
	})
	c.updateDeployment(t, "web", func(d *api.Deployment) { d.Spec.Template.Spec.Containers[0].Image = deployImage2 })
	d = c.waitRolledOut(t, "web", 10, deployImage2)
	rsEventually(t, 5*time.Second, func() (bool, string) {
		var counts map[string]int
		w.snapshot(func(pods map[string]*api.Pod) { counts = deployImageCount(pods) })
		return counts[deployImage2] == 10 && len(counts) == 1, fmt.Sprintf("watcher sees %v", counts)
	})
	fail, events := w.result()
	if fail != "" {
		t.Fatalf("rolling update broke its bounds %s", fail)
	}
	if events < 40 {
		t.Errorf("the watcher saw only %d events for 10 replaced pods", events)
	}
	rev2 := c.rsForImage(t, "web", deployImage2)
	if rev2.Annotations[api.AnnotationRevision] != "2" || d.Annotations[api.AnnotationRevision] != "2" {
		t.Errorf("revisions after the update: replica set %q, deployment %q", rev2.Annotations[api.AnnotationRevision], d.Annotations[api.AnnotationRevision])
	}
	if rev2.Spec.Template.Labels[api.LabelPodTemplateHash] == "" || rev2.Name != "web-"+rev2.Spec.Template.Labels[api.LabelPodTemplateHash] {
		t.Errorf("new replica set %s: template labels %v", rev2.Name, rev2.Spec.Template.Labels)
	}
	if _, ok := d.Spec.Template.Labels[api.LabelPodTemplateHash]; ok || len(d.Spec.Selector.MatchLabels) != 1 {
		t.Errorf("the deployment's template or selector was changed: %v, %v", d.Spec.Template.Labels, d.Spec.Selector.MatchLabels)
	}

	// Roll back to the previous revision: revision 1's replica set returns as revision 3.
	c.updateDeployment(t, "web", func(d *api.Deployment) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[api.AnnotationRollbackTo] = "0"
	})
	d = c.waitRolledOut(t, "web", 10, deployImage1)
	rsEventually(t, 10*time.Second, func() (bool, string) {
		d, err := c.client.Deployments(rsTestNamespace).Get(c.ctx, "web")
		return err == nil && d.Annotations[api.AnnotationRevision] == "3", fmt.Sprintf("deployment revision %q, want 3", d.Annotations[api.AnnotationRevision])
	})
	if _, ok := d.Annotations[api.AnnotationRollbackTo]; ok {
		t.Error("the rollback annotation was not removed")
	}
	reused := c.rsForImage(t, "web", deployImage1)
	if reused.UID != rev1.UID || reused.Annotations[api.AnnotationRevision] != "3" {
		t.Errorf("rollback replica set %s (uid %s) revision %q; want revision 1's replica set %s as revision 3",
			reused.Name, reused.UID, reused.Annotations[api.AnnotationRevision], rev1.Name)
	}
	if n := len(c.replicaSets(t, "web")); n != 2 {
		t.Errorf("%d replica sets after the rollback, want 2", n)
	}

	// A rollback to a revision that never existed is refused with a warning.
	c.updateDeployment(t, "web", func(d *api.Deployment) { d.Annotations[api.AnnotationRollbackTo] = "42" })
	rsEventually(t, 10*time.Second, func() (bool, string) {
		d, err := c.client.Deployments(rsTestNamespace).Get(c.ctx, "web")
		if err != nil {
			return false, err.Error()
		}
		if _, ok := d.Annotations[api.AnnotationRollbackTo]; ok {
			return false, "waiting for the rollback annotation to be removed"
		}
		events, _, err := c.client.Events(rsTestNamespace).List(c.ctx, client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, ev := range events {
			if ev.InvolvedObject.Name == "web" && ev.Reason == deployReasonRollbackNotFound && ev.Type == api.EventWarning &&
				strings.Contains(ev.Message, "revision 42") {
				return true, ""
			}
		}
		return false, "waiting for a RollbackRevisionNotFound event"
	})
	c.waitRolledOut(t, "web", 10, deployImage1)
}

// TestDeploymentProgressDeadlineExceeded: a pod that never turns ready
// fails the rollout once progressDeadlineSeconds pass without progress.
func TestDeploymentProgressDeadlineExceeded(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 1)
	start := time.Now()
	c.createDeployment(t, "stuck", 1, func(d *api.Deployment) {
		d.Spec.ProgressDeadlineSeconds = api.Ptr[int32](3)
		d.Spec.Template.Annotations = map[string]string{simnode.AnnotationReady: "false"}
	})
	var d *api.Deployment
	rsEventually(t, 5*time.Second, func() (bool, string) {
		var err error
		if d, err = c.client.Deployments(rsTestNamespace).Get(c.ctx, "stuck"); err != nil {
			return false, err.Error()
		}
		cond := api.FindCondition(d.Status.Conditions, api.DeploymentProgressing)
		return cond != nil && cond.Status == api.ConditionFalse && cond.Reason == api.ReasonProgressDeadlineExceeded,
			fmt.Sprintf("waiting for ProgressDeadlineExceeded; conditions %+v", d.Status.Conditions)
	})
	elapsed := time.Since(start)
	if elapsed < 3*time.Second {
		t.Errorf("deadline reported after %v, before the 3 s deadline", elapsed)
	}
	t.Logf("ProgressDeadlineExceeded observed %v after the deployment was created", elapsed.Round(time.Millisecond))
	rss := c.replicaSets(t, "stuck")
	if len(rss) != 1 {
		t.Fatalf("%d replica sets, want 1", len(rss))
	}
	cond := api.FindCondition(d.Status.Conditions, api.DeploymentProgressing)
	if want := fmt.Sprintf("ReplicaSet %q has timed out progressing.", rss[0].Name); cond.Message != want {
		t.Errorf("message %q, want %q", cond.Message, want)
	}
	if c := api.FindCondition(d.Status.Conditions, api.DeploymentAvailable); c == nil || c.Status != api.ConditionFalse {
		t.Errorf("available condition = %+v", c)
	}
}

// TestDeploymentRecreate: no pod of the new template exists while a pod of
// the old one does.
func TestDeploymentRecreate(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 2)
	c.createDeployment(t, "db", 3, func(d *api.Deployment) { d.Spec.Strategy = api.DeploymentStrategy{Type: api.RecreateStrategy} })
	c.waitRolledOut(t, "db", 3, deployImage1)
	w := c.watchPods(t, "app=db", func(pods map[string]*api.Pod) string {
		if counts := deployImageCount(pods); counts[deployImage1] > 0 && counts[deployImage2] > 0 {
			return fmt.Sprintf("old and new pods at once: %v", counts)
		}
		return ""
	})
	c.updateDeployment(t, "db", func(d *api.Deployment) { d.Spec.Template.Spec.Containers[0].Image = deployImage2 })
	c.waitRolledOut(t, "db", 3, deployImage2)
	rsEventually(t, 5*time.Second, func() (bool, string) {
		var counts map[string]int
		w.snapshot(func(pods map[string]*api.Pod) { counts = deployImageCount(pods) })
		return counts[deployImage2] == 3 && len(counts) == 1, fmt.Sprintf("watcher sees %v", counts)
	})
	if fail, _ := w.result(); fail != "" {
		t.Fatalf("Recreate overlapped %s", fail)
	}
}

// TestDeploymentPauseAndResume: a paused deployment does not roll out a
// new template but still scales; resuming rolls it out.
func TestDeploymentPauseAndResume(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 2)
	c.createDeployment(t, "api", 2, nil)
	c.waitRolledOut(t, "api", 2, deployImage1)

	waitObserved := func(d *api.Deployment, reason string) *api.Deployment {
		t.Helper()
		var cur *api.Deployment
		rsEventually(t, 10*time.Second, func() (bool, string) {
			var err error
			if cur, err = c.client.Deployments(rsTestNamespace).Get(c.ctx, d.Name); err != nil {
				return false, err.Error()
			}
			cond := api.FindCondition(cur.Status.Conditions, api.DeploymentProgressing)
			return cur.Status.ObservedGeneration >= d.Generation && cond != nil && cond.Reason == reason,
				fmt.Sprintf("waiting for generation %d and Progressing %s; status %+v", d.Generation, reason, cur.Status)
		})
		return cur
	}
	d := c.updateDeployment(t, "api", func(d *api.Deployment) { d.Spec.Paused = true })
	waitObserved(d, api.ReasonDeploymentPaused)
	d = c.updateDeployment(t, "api", func(d *api.Deployment) { d.Spec.Template.Spec.Containers[0].Image = deployImage2 })
	waitObserved(d, api.ReasonDeploymentPaused)
	if rss := c.replicaSets(t, "api"); len(rss) != 1 {
		t.Fatalf("a paused deployment created a replica set: %d replica sets", len(rss))
	}

	// Scaling still works while paused.
	d = c.updateDeployment(t, "api", func(d *api.Deployment) { d.Spec.Replicas = api.Ptr[int32](3) })
	waitObserved(d, api.ReasonDeploymentPaused)
	rsEventually(t, 10*time.Second, func() (bool, string) {
		pods := c.activePods(t, "app=api")
		ready := 0
		for _, p := range pods {
			if api.IsPodReady(p) && p.Spec.Containers[0].Image == deployImage1 {
				ready++
			}
		}
		return ready == 3 && len(pods) == 3, fmt.Sprintf("waiting for 3 ready pods of the old template; %d pods, %d ready", len(pods), ready)
	})
	if rss := c.replicaSets(t, "api"); len(rss) != 1 {
		t.Fatalf("scaling a paused deployment created a replica set: %d replica sets", len(rss))
	}

	c.updateDeployment(t, "api", func(d *api.Deployment) { d.Spec.Paused = false })
	d = c.waitRolledOut(t, "api", 3, deployImage2)
	rsEventually(t, 10*time.Second, func() (bool, string) {
		cur, err := c.client.Deployments(rsTestNamespace).Get(c.ctx, "api")
		if err != nil {
			return false, err.Error()
		}
		cond := api.FindCondition(cur.Status.Conditions, api.DeploymentProgressing)
		return cond != nil && cond.Reason == api.ReasonNewReplicaSetAvailable && cond.Status == api.ConditionTrue,
			fmt.Sprintf("waiting for NewReplicaSetAvailable; conditions %+v", cur.Status.Conditions)
	})
	if d.Annotations[api.AnnotationRevision] != "2" {
		t.Errorf("revision after resume = %q, want 2", d.Annotations[api.AnnotationRevision])
	}
}
