package controller

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// --- pure parts ---

func deployIOS(s string) *api.IntOrString {
	if n, err := strconv.Atoi(s); err == nil {
		return api.Ptr(api.FromInt(int32(n)))
	}
	return api.Ptr(api.FromString(s))
}

func deployTestDeployment(replicas int32, surge, unavailable string) *api.Deployment {
	return &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default", UID: "deploy-uid", Generation: 1},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(replicas), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: rsTestTemplate(map[string]string{"app": "web"}, "registry.local/web:1"),
			Strategy: api.DeploymentStrategy{Type: api.RollingUpdateStrategy,
				RollingUpdate: &api.RollingUpdateDeployment{MaxSurge: deployIOS(surge), MaxUnavailable: deployIOS(unavailable)}},
		},
	}
}

// deployTestRS is a replica set of the given size, pods and available pods,
// created age ago, at a revision.
func deployTestRS(name string, size, pods, available int32, age time.Duration, revision int) *api.ReplicaSet {
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name, Generation: 1,
			CreationTimestamp: rsTestNow.Add(-age), Annotations: map[string]string{api.AnnotationRevision: strconv.Itoa(revision)}},
		Spec:   api.ReplicaSetSpec{Replicas: api.Ptr(size)},
		Status: api.ReplicaSetStatus{Replicas: pods, ReadyReplicas: available, AvailableReplicas: available, ObservedGeneration: 1},
	}
}

func TestDeploymentFenceposts(t *testing.T) {
	tests := []struct {
		name                   string
		replicas               int32
		surge, unavailable     string
		wantSurge, wantUnavail int32
		wantMaxUnavail         int32
	}{
		{"defaults of 10", 10, "25%", "25%", 3, 2, 2},
		{"counts", 10, "2", "0", 2, 0, 0},
		{"percent of 1: surge rounds up, unavailable down", 1, "25%", "25%", 1, 0, 0},
		{"both resolve to 0: one may be unavailable", 3, "0", "10%", 0, 1, 1},
		{"zero replicas", 0, "0%", "0%", 0, 1, 0},
		{"unavailable above replicas is capped", 2, "0", "5", 0, 5, 2},
		{"100 percent", 4, "100%", "100%", 4, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployTestDeployment(tt.replicas, tt.surge, tt.unavailable)
			s, u, err := deployFenceposts(d)
			if err != nil || s != tt.wantSurge || u != tt.wantUnavail {
				t.Errorf("deployFenceposts = %d, %d, %v; want %d, %d", s, u, err, tt.wantSurge, tt.wantUnavail)
			}
			if got := deployMaxUnavailable(d); got != tt.wantMaxUnavail {
				t.Errorf("deployMaxUnavailable = %d, want %d", got, tt.wantMaxUnavail)
			}
		})
	}
	d := deployTestDeployment(10, "lots", "1")
	if _, _, err := deployFenceposts(d); err == nil {
		t.Error("a malformed maxSurge must be an error")
	}
	d = deployTestDeployment(10, "2", "2")
	d.Spec.Strategy = api.DeploymentStrategy{Type: api.RecreateStrategy}
	if s, u, _ := deployFenceposts(d); s != 0 || u != 0 || deployMaxUnavailable(d) != 0 {
		t.Errorf("Recreate fenceposts = %d, %d", s, u)
	}
}

func TestDeploymentNewRSReplicas(t *testing.T) {
	tests := []struct {
		name     string
		d        *api.Deployment
		old      []*api.ReplicaSet
		newRS    *api.ReplicaSet
		expected int32
	}{
		{"first step of a surge of 2", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 10, 10, 10, time.Hour, 1)}, deployTestRS("new", 0, 0, 0, 0, 2), 2},
		{"surge used up", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 10, 10, 10, time.Hour, 1)}, deployTestRS("new", 2, 2, 2, 0, 2), 2},
		{"old pods not gone yet still count", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 8, 10, 10, time.Hour, 1)}, deployTestRS("new", 2, 2, 2, 0, 2), 2},
		{"old pods gone", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 8, 8, 8, time.Hour, 1)}, deployTestRS("new", 2, 2, 2, 0, 2), 4},
		{"never beyond replicas", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 1, 1, 1, time.Hour, 1)}, deployTestRS("new", 9, 9, 9, 0, 2), 10},
		{"no old replica sets", deployTestDeployment(5, "25%", "25%"), nil, deployTestRS("new", 0, 0, 0, 0, 1), 5},
		{"percentages", deployTestDeployment(10, "25%", "25%"),
			[]*api.ReplicaSet{deployTestRS("old", 10, 10, 10, time.Hour, 1)}, deployTestRS("new", 0, 0, 0, 0, 2), 3},
		{"recreate takes everything at once", func() *api.Deployment {
			d := deployTestDeployment(4, "1", "1")
			d.Spec.Strategy = api.DeploymentStrategy{Type: api.RecreateStrategy}
			return d
		}(), nil, deployTestRS("new", 0, 0, 0, 0, 1), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := append(slices.Clone(tt.old), tt.newRS)
			if got := deployNewRSReplicas(tt.d, all, tt.newRS); got != tt.expected {
				t.Errorf("deployNewRSReplicas = %d, want %d", got, tt.expected)
			}
		})
	}
}

func TestDeploymentPlanScaleDownOld(t *testing.T) {
	tests := []struct {
		name  string
		d     *api.Deployment
		old   []*api.ReplicaSet
		newRS *api.ReplicaSet
		want  map[string]int32
	}{
		{"new pods not available yet", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 10, 10, 10, time.Hour, 1)}, deployTestRS("new", 2, 2, 0, 0, 2), nil},
		{"new pods available", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 10, 10, 10, time.Hour, 1)}, deployTestRS("new", 2, 2, 2, 0, 2),
			map[string]int32{"uid-old": 8}},
		{"stale availability of a shrinking replica set is not trusted", deployTestDeployment(10, "2", "0"),
			[]*api.ReplicaSet{deployTestRS("old", 8, 10, 10, time.Hour, 1)}, deployTestRS("new", 4, 4, 4, 0, 2),
			map[string]int32{"uid-old": 6}},
		{"unhealthy old pods go first", deployTestDeployment(10, "0", "2"),
			[]*api.ReplicaSet{deployTestRS("sick", 5, 5, 2, 2*time.Hour, 1), deployTestRS("fine", 5, 5, 5, time.Hour, 2)},
			deployTestRS("new", 0, 0, 0, 0, 3), map[string]int32{"uid-sick": 3}},
		{"oldest first", deployTestDeployment(6, "4", "0"),
			[]*api.ReplicaSet{deployTestRS("b", 3, 3, 3, time.Hour, 2), deployTestRS("a", 3, 3, 3, 2*time.Hour, 1)},
			deployTestRS("new", 4, 4, 4, 0, 3), map[string]int32{"uid-a": 0, "uid-b": 2}},
		{"maxUnavailable lets old pods go before new ones exist", deployTestDeployment(4, "0", "1"),
			[]*api.ReplicaSet{deployTestRS("old", 4, 4, 4, time.Hour, 1)}, deployTestRS("new", 0, 0, 0, 0, 2),
			map[string]int32{"uid-old": 3}},
		{"nothing old left", deployTestDeployment(4, "1", "1"),
			[]*api.ReplicaSet{deployTestRS("old", 0, 0, 0, time.Hour, 1)}, deployTestRS("new", 4, 4, 4, 0, 2), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deployPlanScaleDownOld(tt.d, tt.old, tt.newRS)
			if len(got) != len(tt.want) || (len(got) > 0 && !maps.Equal(got, tt.want)) {
				t.Errorf("deployPlanScaleDownOld = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploymentScalePlan(t *testing.T) {
	withMax := func(rs *api.ReplicaSet, desired, maxReplicas int) *api.ReplicaSet {
		rs.Annotations[deployDesiredReplicasAnnotation] = strconv.Itoa(desired)
		rs.Annotations[deployMaxReplicasAnnotation] = strconv.Itoa(maxReplicas)
		return rs
	}
	sizes := func(plan []deployResize) map[string]int32 {
		out := map[string]int32{}
		for _, r := range plan {
			out[r.rs.Name] = r.size
		}
		return out
	}
	tests := []struct {
		name  string
		d     *api.Deployment
		old   []*api.ReplicaSet
		newRS *api.ReplicaSet
		want  map[string]int32
	}{
		{"single active replica set takes all", deployTestDeployment(7, "1", "1"),
			[]*api.ReplicaSet{deployTestRS("old", 0, 0, 0, time.Hour, 1)}, deployTestRS("new", 5, 5, 5, 0, 2), map[string]int32{"new": 7}},
		{"nothing active: the newest", deployTestDeployment(3, "1", "1"),
			[]*api.ReplicaSet{deployTestRS("older", 0, 0, 0, 2*time.Hour, 1), deployTestRS("newer", 0, 0, 0, time.Hour, 2)}, nil,
			map[string]int32{"newer": 3}},
		{"already sized", deployTestDeployment(5, "1", "1"), nil, deployTestRS("new", 5, 5, 5, 0, 1), map[string]int32{}},
		{"saturated new replica set empties the old", deployTestDeployment(4, "1", "1"),
			[]*api.ReplicaSet{deployTestRS("old", 1, 1, 1, time.Hour, 1)}, withMax(deployTestRS("new", 4, 4, 4, 0, 2), 4, 5),
			map[string]int32{"old": 0}},
		{"scale up mid-rollout in proportion", deployTestDeployment(20, "3", "2"),
			[]*api.ReplicaSet{withMax(deployTestRS("old", 8, 8, 8, time.Hour, 1), 10, 13)}, withMax(deployTestRS("new", 5, 5, 0, 0, 2), 10, 13),
			map[string]int32{"old": 14, "new": 9}},
		{"scale down mid-rollout in proportion", deployTestDeployment(10, "3", "2"),
			[]*api.ReplicaSet{withMax(deployTestRS("old", 14, 14, 14, time.Hour, 1), 20, 23)}, withMax(deployTestRS("new", 9, 9, 0, 0, 2), 20, 23),
			map[string]int32{"old": 8, "new": 5}},
		{"scale to zero", deployTestDeployment(0, "3", "2"),
			[]*api.ReplicaSet{withMax(deployTestRS("old", 4, 4, 4, time.Hour, 1), 5, 8)}, withMax(deployTestRS("new", 3, 3, 0, 0, 2), 5, 8),
			map[string]int32{"old": 0, "new": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sizes(deployScalePlan(tt.d, tt.newRS, tt.old)); !maps.Equal(got, tt.want) {
				t.Errorf("deployScalePlan = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploymentTemplateHash(t *testing.T) {
	d := deployTestDeployment(1, "1", "0")
	h := deployTemplateHash(&d.Spec.Template, nil)
	if len(h) != 10 || strings.Trim(h, "bcdfghjklmnpqrstvwxz2456789") != "" {
		t.Fatalf("hash %q: want 10 characters of the safe alphabet", h)
	}
	// Stable across copies and a JSON round trip (what the API stores).
	var decoded api.PodTemplateSpec
	b, _ := json.Marshal(d.Spec.Template)
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if got := deployTemplateHash(&decoded, nil); got != h {
		t.Errorf("hash after a round trip = %q, want %q", got, h)
	}
	if got := deployTemplateHash(&d.Spec.Template, api.Ptr[int32](0)); got == h {
		t.Error("collisionCount must change the hash")
	}
	if a, b := deployTemplateHash(&d.Spec.Template, api.Ptr[int32](1)), deployTemplateHash(&d.Spec.Template, api.Ptr[int32](2)); a == b {
		t.Error("different collision counts gave the same hash")
	}
	changed := deployCloneTemplate(&d.Spec.Template)
	changed.Spec.Containers[0].Image = "registry.local/web:2"
	if deployTemplateHash(&changed, nil) == h {
		t.Error("a new image must change the hash")
	}
	if d.Spec.Template.Spec.Containers[0].Image != "registry.local/web:1" {
		t.Error("deployCloneTemplate shares containers with its source")
	}
	// Golden value: the hash names replica sets in running clusters, so it
	// must not change between releases for the same template.
	golden := api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "nginx:1.27"}}}}
	if got := deployTemplateHash(&golden, nil); got != deployGoldenHash {
		t.Errorf("hash of the golden template = %q, want %q", got, deployGoldenHash)
	}

	d.Spec.MinReadySeconds = 7
	rs := deployNewReplicaSet(d, h, 3)
	if rs.Spec.MinReadySeconds != 7 || deployRSReplicas(rs) != 0 {
		t.Errorf("new replica set spec: minReadySeconds %d, replicas %d", rs.Spec.MinReadySeconds, deployRSReplicas(rs))
	}
	if rs.Name != "web-"+h || rs.Labels[api.LabelPodTemplateHash] != h || rs.Spec.Template.Labels[api.LabelPodTemplateHash] != h ||
		rs.Spec.Selector.MatchLabels[api.LabelPodTemplateHash] != h || rs.Annotations[api.AnnotationRevision] != "3" {
		t.Errorf("new replica set = %+v", rs.ObjectMeta)
	}
	if _, ok := d.Spec.Template.Labels[api.LabelPodTemplateHash]; ok || len(d.Spec.Selector.MatchLabels) != 1 {
		t.Error("building the replica set mutated the deployment's template or selector")
	}
	if !deployTemplatesEqual(&d.Spec.Template, &rs.Spec.Template) {
		t.Error("templates differing only by the hash label must be equal")
	}
	if deployTemplatesEqual(&changed, &rs.Spec.Template) {
		t.Error("templates with different images must differ")
	}
	if n := deployRSName(strings.Repeat("a", 63), h); len(n) != 63 || !strings.HasSuffix(n, "-"+h) {
		t.Errorf("long name = %q", n)
	}
}

// deployGoldenHash is the hash of the golden template in TestDeploymentTemplateHash.
const deployGoldenHash = "44b66c8d9b"

func TestDeploymentRevisions(t *testing.T) {
	rss := []*api.ReplicaSet{deployTestRS("r1", 0, 0, 0, 3*time.Hour, 1), deployTestRS("r3", 0, 0, 0, time.Hour, 3),
		deployTestRS("r2", 0, 0, 0, 2*time.Hour, 2)}
	if got := deployMaxRevision(rss); got != 3 {
		t.Errorf("max revision = %d", got)
	}
	tests := []struct {
		value    string
		wantName string
		wantRev  int64
		problem  string
	}{
		{"", "r2", 2, ""},
		{"0", "r2", 2, ""},
		{"1", "r1", 1, ""},
		{"3", "r3", 3, ""},
		{"9", "", 9, "Unable to find revision 9"},
		{"x", "", 0, "invalid revision"},
		{"-1", "", 0, "invalid revision"},
	}
	for _, tt := range tests {
		rs, rev, problem := deployRollbackTarget(tt.value, rss)
		name := ""
		if rs != nil {
			name = rs.Name
		}
		if name != tt.wantName || rev != tt.wantRev || !strings.Contains(problem, tt.problem) || (tt.problem == "") != (problem == "") {
			t.Errorf("deployRollbackTarget(%q) = %q, %d, %q; want %q, %d, %q", tt.value, name, rev, problem, tt.wantName, tt.wantRev, tt.problem)
		}
	}
	if _, _, problem := deployRollbackTarget("", rss[:1]); problem == "" {
		t.Error("rolling back a deployment with one revision must be refused")
	}

	d := deployTestDeployment(1, "1", "0")
	d.Annotations = map[string]string{"team": "payments", api.AnnotationRollbackTo: "1"}
	got, changed := deployRSAnnotations(d, map[string]string{api.AnnotationRevision: "1"}, 4)
	if !changed || got[api.AnnotationRevision] != "4" || got["team"] != "payments" || got[api.AnnotationRollbackTo] != "" {
		t.Errorf("deployRSAnnotations = %v, %v", got, changed)
	}
	if _, changed := deployRSAnnotations(d, got, 4); changed {
		t.Error("annotations already in sync reported as changed")
	}
	if got, _ := deployRSAnnotations(d, map[string]string{api.AnnotationRevision: "7"}, 4); got[api.AnnotationRevision] != "7" {
		t.Error("a revision must never go down")
	}
}

func TestDeploymentHistoryToDelete(t *testing.T) {
	unobserved := deployTestRS("r2", 0, 0, 0, 3*time.Hour, 2)
	unobserved.Generation = 2
	deleting := deployTestRS("gone", 0, 0, 0, 9*time.Hour, 0)
	deleting.DeletionTimestamp = &rsTestNow
	tests := []struct {
		name  string
		old   []*api.ReplicaSet
		limit int32
		want  []string
	}{
		{"within the limit", []*api.ReplicaSet{deployTestRS("r1", 0, 0, 0, time.Hour, 1)}, 2, nil},
		{"oldest revisions first", []*api.ReplicaSet{deployTestRS("r4", 0, 0, 0, time.Hour, 4), deployTestRS("r1", 0, 0, 0, 2*time.Hour, 1),
			deployTestRS("r3", 0, 0, 0, 3*time.Hour, 3), deployTestRS("r2", 0, 0, 0, 4*time.Hour, 2)}, 2, []string{"r1", "r2"}},
		{"replica sets with pods are kept", []*api.ReplicaSet{deployTestRS("r1", 1, 1, 1, time.Hour, 1), deployTestRS("r2", 0, 1, 0, time.Hour, 2),
			deployTestRS("r3", 0, 0, 0, time.Hour, 3)}, 1, nil},
		{"unobserved scale-down is kept", []*api.ReplicaSet{unobserved, deployTestRS("r3", 0, 0, 0, time.Hour, 3)}, 1, nil},
		{"limit 0 deletes all idle", []*api.ReplicaSet{deployTestRS("r1", 0, 0, 0, time.Hour, 1), deployTestRS("r2", 0, 0, 0, time.Hour, 2)}, 0,
			[]string{"r1", "r2"}},
		{"being deleted is not counted", []*api.ReplicaSet{deleting, deployTestRS("r1", 0, 0, 0, time.Hour, 1)}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, rs := range deployHistoryToDelete(tt.old, tt.limit) {
				got = append(got, rs.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("deployHistoryToDelete = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploymentProgress(t *testing.T) {
	progressing := func(reason string, status api.ConditionStatus, updated time.Time) []api.Condition {
		return []api.Condition{{Type: api.DeploymentProgressing, Status: status, Reason: reason,
			LastUpdateTime: updated, LastTransitionTime: updated}}
	}
	counts := func(replicas, updated, ready, available int32) api.DeploymentStatus {
		return api.DeploymentStatus{Replicas: replicas, UpdatedReplicas: updated, ReadyReplicas: ready, AvailableReplicas: available, ObservedGeneration: 1}
	}
	newRS := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-abc"}}
	tests := []struct {
		name       string
		deadline   *int32
		prev, cur  api.DeploymentStatus
		prevConds  []api.Condition
		wantReason string
		wantStatus api.ConditionStatus
		wantMsg    string
		wantUpdate time.Time
		wantWait   time.Duration
	}{
		{"complete", api.Ptr[int32](3), counts(2, 1, 1, 1), counts(2, 2, 2, 2),
			progressing(api.ReasonReplicaSetUpdated, api.ConditionTrue, rsTestNow.Add(-time.Second)),
			api.ReasonNewReplicaSetAvailable, api.ConditionTrue, `ReplicaSet "web-abc" has successfully progressed.`, rsTestNow, 0},
		{"progress moves lastUpdateTime", api.Ptr[int32](3), counts(3, 1, 2, 2), counts(3, 2, 2, 2),
			progressing(deployReasonNewRSCreated, api.ConditionTrue, rsTestNow.Add(-2*time.Second)),
			api.ReasonReplicaSetUpdated, api.ConditionTrue, `ReplicaSet "web-abc" is progressing.`, rsTestNow, 3 * time.Second},
		{"no progress yet: check again at the deadline", api.Ptr[int32](3), counts(2, 1, 1, 1), counts(2, 1, 1, 1),
			progressing(api.ReasonReplicaSetUpdated, api.ConditionTrue, rsTestNow.Add(-2*time.Second)),
			api.ReasonReplicaSetUpdated, api.ConditionTrue, "", rsTestNow.Add(-2 * time.Second), time.Second},
		{"deadline passed", api.Ptr[int32](3), counts(2, 1, 1, 1), counts(2, 1, 1, 1),
			progressing(api.ReasonReplicaSetUpdated, api.ConditionTrue, rsTestNow.Add(-4*time.Second)),
			api.ReasonProgressDeadlineExceeded, api.ConditionFalse, `ReplicaSet "web-abc" has timed out progressing.`, rsTestNow, 0},
		{"resumed: the deadline counts from the resume", api.Ptr[int32](3), counts(2, 1, 1, 1), counts(2, 1, 1, 1),
			progressing(api.ReasonDeploymentResumed, api.ConditionUnknown, rsTestNow),
			api.ReasonDeploymentResumed, api.ConditionUnknown, "", rsTestNow, 3 * time.Second},
		{"completed rollouts are not re-estimated", api.Ptr[int32](3), counts(2, 2, 2, 2), counts(2, 2, 1, 1),
			progressing(api.ReasonNewReplicaSetAvailable, api.ConditionTrue, rsTestNow.Add(-time.Hour)),
			api.ReasonNewReplicaSetAvailable, api.ConditionTrue, "", rsTestNow.Add(-time.Hour), 0},
		{"no deadline: no condition", nil, counts(2, 1, 1, 1), counts(2, 1, 1, 1),
			progressing(api.ReasonReplicaSetUpdated, api.ConditionTrue, rsTestNow.Add(-time.Hour)), "", "", "", time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployTestDeployment(2, "1", "0")
			d.Spec.ProgressDeadlineSeconds = tt.deadline
			d.Status = tt.prev
			d.Status.Conditions = tt.prevConds
			st := tt.cur
			st.Conditions = slices.Clone(tt.prevConds)
			wait := deployProgress(d, &st, newRS, rsTestNow)
			c := api.FindCondition(st.Conditions, api.DeploymentProgressing)
			if tt.wantReason == "" {
				if c != nil {
					t.Fatalf("condition = %+v, want none", c)
				}
				return
			}
			if c == nil || c.Reason != tt.wantReason || c.Status != tt.wantStatus || (tt.wantMsg != "" && c.Message != tt.wantMsg) {
				t.Fatalf("condition = %+v, want %s/%s %q", c, tt.wantStatus, tt.wantReason, tt.wantMsg)
			}
			if !c.LastUpdateTime.Equal(tt.wantUpdate) {
				t.Errorf("lastUpdateTime = %v, want %v", c.LastUpdateTime, tt.wantUpdate)
			}
			if wait != tt.wantWait {
				t.Errorf("wait = %v, want %v", wait, tt.wantWait)
			}
		})
	}
}

func TestDeploymentCalculateStatus(t *testing.T) {
	d := deployTestDeployment(10, "2", "1")
	d.Generation = 7
	old := deployTestRS("old", 4, 5, 4, time.Hour, 1)
	newRS := deployTestRS("new", 7, 6, 5, 0, 2)
	newRS.Status.ReadyReplicas = 6
	st := deployCalculateStatus(d, []*api.ReplicaSet{old, newRS}, newRS, rsTestNow)
	want := api.DeploymentStatus{ObservedGeneration: 7, Replicas: 11, UpdatedReplicas: 6, ReadyReplicas: 10, AvailableReplicas: 9, UnavailableReplicas: 2}
	got := st
	got.Conditions = nil
	if !rsJSONEqual(got, want) {
		t.Errorf("status = %+v, want %+v", got, want)
	}
	if c := api.FindCondition(st.Conditions, api.DeploymentAvailable); c == nil || c.Status != api.ConditionTrue || c.Reason != api.ReasonMinimumReplicasAvailable {
		t.Errorf("available condition = %+v", c)
	}
	old.Status.AvailableReplicas = 3
	st = deployCalculateStatus(d, []*api.ReplicaSet{old, newRS}, newRS, rsTestNow)
	if c := api.FindCondition(st.Conditions, api.DeploymentAvailable); c == nil || c.Status != api.ConditionFalse || c.Reason != api.ReasonMinimumReplicasUnavailable {
		t.Errorf("available condition with 8 of 10 available and maxUnavailable 1 = %+v", c)
	}
	newRS.Status.Conditions = []api.Condition{{Type: rsReplicaFailure, Status: api.ConditionTrue, Reason: rsReasonFailedCreate, Message: "quota"}}
	st = deployCalculateStatus(d, []*api.ReplicaSet{old, newRS}, newRS, rsTestNow)
	if c := api.FindCondition(st.Conditions, rsReplicaFailure); c == nil || c.Reason != rsReasonFailedCreate || !strings.Contains(c.Message, "quota") {
		t.Errorf("replica failure condition = %+v", c)
	}
}
