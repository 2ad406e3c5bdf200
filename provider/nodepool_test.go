package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

// spec is a defaulted pool spec of size n, changed by mut.
func spec(n int32, mut func(s *api.NodePoolSpec)) *api.NodePoolSpec {
	p := &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: n, MaxSize: n, Size: api.Ptr(n)}}
	if mut != nil {
		mut(&p.Spec)
	}
	api.Default(p)
	return &p.Spec
}

// poolImpact is the node pool impact addImpact asks internal/plan for,
// from the prior and planned specs (nil: create, destroy).
func poolImpact(prior, planned *api.NodePoolSpec) []string {
	c := &mplan.Change{Kind: "NodePool", Action: mplan.Update}
	switch {
	case prior == nil:
		c.Action = mplan.Create
	case planned == nil:
		c.Action = mplan.Delete
	}
	if prior != nil {
		c.Live = &api.NodePool{Spec: *prior}
	}
	if planned != nil {
		c.Desired = &api.NodePool{Spec: *planned}
	}
	return mplan.ChangeImpact(c, false)
}

func TestPoolImpact(t *testing.T) {
	labels := func(v string) func(s *api.NodePoolSpec) {
		return func(s *api.NodePoolSpec) { s.Labels = map[string]string{"tier": v} }
	}
	for _, tt := range []struct {
		name           string
		prior, planned *api.NodePoolSpec
		want           string
	}{
		{"create", nil, spec(2, nil), "create 2 machines"},
		{"create one", nil, spec(1, nil), "create 1 machine"},
		{"create empty", nil, spec(0, nil), "no machines yet (size 0)"},
		{"destroy", spec(3, nil), nil, "drain and delete 3 machines"},
		{"scale up", spec(2, nil), spec(3, nil), "create 1 machine"},
		{"scale down", spec(3, nil), spec(1, nil), "drain and delete 2 machines"},
		{"no change", spec(3, nil), spec(3, nil), ""},
		{"drain timeout is not the template", spec(3, nil), spec(3, func(s *api.NodePoolSpec) { s.DrainTimeoutSeconds = api.Ptr[int64](60) }), ""},
		{"zones are", spec(3, nil), spec(3, func(s *api.NodePoolSpec) { s.Zones = []string{"a", "b"} }),
			"replace 3 machines (drain first), one at a time (template changed: zones)"},
		{"template", spec(3, labels("a")), spec(3, labels("b")),
			"replace 3 machines (drain first), one at a time (template changed: labels)"},
		{"template and scale up", spec(3, labels("a")), spec(4, labels("b")),
			"replace 3 machines (drain first), one at a time (template changed: labels); create 1 machine"},
		{"template and scale down", spec(3, nil), spec(2, func(s *api.NodePoolSpec) { s.MachineType = "big"; s.Spot = true }),
			"replace 2 machines (drain first), one at a time (template changed: machine_type, spot); drain and delete 1 machine"},
		{"wider rollout", spec(4, labels("a")), spec(4, func(s *api.NodePoolSpec) {
			labels("b")(s)
			s.Rollout.MaxSurge = api.Ptr(api.FromString("50%"))
		}), "replace 4 machines (drain first), up to 2 at a time (template changed: labels)"},
		{"taints", spec(2, nil), spec(2, func(s *api.NodePoolSpec) { s.Taints = []api.Taint{{Key: "k", Effect: api.TaintNoSchedule}} }),
			"replace 2 machines (drain first), one at a time (template changed: taint)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(poolImpact(tt.prior, tt.planned), "; "); got != tt.want {
				t.Errorf("impact = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateChangesSSH(t *testing.T) {
	ssh := func(mut func(c *api.SSHPoolConfig)) *api.NodePoolSpec {
		return spec(2, func(s *api.NodePoolSpec) {
			s.Provider = api.ProviderSSH
			s.SSH = &api.SSHPoolConfig{Hosts: []string{"h1", "h2"}, HostKeys: []string{"k"}, PrivateKeySecretRef: "s"}
			if mut != nil {
				mut(s.SSH)
			}
		})
	}
	for _, tt := range []struct {
		name string
		b    *api.NodePoolSpec
		want string
	}{
		{"more hosts", ssh(func(c *api.SSHPoolConfig) { c.Hosts = append(c.Hosts, "h3") }), ""},
		{"host keys", ssh(func(c *api.SSHPoolConfig) { c.HostKeys = []string{"other"} }), "ssh.host_keys"},
		{"port and user", ssh(func(c *api.SSHPoolConfig) { c.Port, c.User = 2222, "admin" }), "ssh.user, ssh.port"},
		{"insecure", ssh(func(c *api.SSHPoolConfig) { c.InsecureIgnoreHostKey = true }), "ssh.insecure_ignore_host_key"},
		{"install dir", ssh(func(c *api.SSHPoolConfig) { c.InstallDir = "/opt/m" }), "ssh.install_dir"},
		{"to local", spec(2, nil), "provider"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(mplan.TemplateChanges(ssh(nil), tt.b), ", "); got != tt.want {
				t.Errorf("templateChanges = %q, want %q", got, tt.want)
			}
		})
	}
}

// model is a valid local pool model of size 2, changed by mut.
func model(mut func(m *NodePoolResourceModel)) *NodePoolResourceModel {
	m := &NodePoolResourceModel{
		ID: types.StringValue("pool-a"), Name: types.StringValue("pool-a"), Local: &poolLocalModel{},
		MachineType: types.StringNull(), Zones: types.ListNull(types.StringType), Labels: types.MapNull(types.StringType),
		Spot: types.BoolValue(false), Autoscaling: types.BoolValue(false), TemplateCapacity: types.MapNull(types.StringType), Size: types.Int64Value(2), MinSize: types.Int64Null(), MaxSize: types.Int64Null(),
		DrainTimeout: types.StringValue("5m"), WaitForReady: types.BoolValue(true),
	}
	if mut != nil {
		mut(m)
	}
	return m
}

func sshModel() *poolSSHModel {
	hosts, _ := types.ListValueFrom(context.Background(), types.StringType, []string{"10.0.0.5", "10.0.0.6"})
	keys, _ := types.ListValueFrom(context.Background(), types.StringType, []string{"ssh-ed25519 AAAA"})
	return &poolSSHModel{Hosts: hosts, User: types.StringValue("root"), Port: types.Int64Value(22), PrivateKey: types.StringValue("-----BEGIN KEY-----"),
		PrivateKeyVersion: types.Int64Null(), HostKeys: keys, InsecureIgnoreHostKey: types.BoolValue(false), InstallDir: types.StringValue(api.DefaultSSHInstallDir)}
}

func TestValidatePool(t *testing.T) {
	i := types.Int64Value
	for _, tt := range []struct {
		name string
		m    *NodePoolResourceModel
		want []string // "path: summary"
	}{
		{"valid size", model(nil), nil},
		{"valid range", model(func(m *NodePoolResourceModel) { m.Size, m.MinSize, m.MaxSize = types.Int64Null(), i(1), i(3) }), nil},
		{"min above max", model(func(m *NodePoolResourceModel) { m.Size, m.MinSize, m.MaxSize = types.Int64Null(), i(3), i(1) }),
			[]string{"max_size: Invalid max_size"}},
		{"size outside", model(func(m *NodePoolResourceModel) { m.Size, m.MinSize, m.MaxSize = i(5), i(1), i(3) }), []string{"size: Invalid size"}},
		{"no size", model(func(m *NodePoolResourceModel) { m.Size = types.Int64Null() }), []string{"size: Missing size"}},
		{"min without max", model(func(m *NodePoolResourceModel) { m.Size, m.MinSize = types.Int64Null(), i(1) }), []string{"max_size: Missing max_size"}},
		{"unknown size is not judged", model(func(m *NodePoolResourceModel) { m.Size, m.MinSize, m.MaxSize = types.Int64Unknown(), i(3), i(1) }), nil},
		{"no provider", model(func(m *NodePoolResourceModel) { m.Local = nil }), []string{": Missing machine provider"}},
		{"both providers", model(func(m *NodePoolResourceModel) { m.SSH = sshModel() }), []string{"ssh: Conflicting machine providers"}},
		{"ssh", model(func(m *NodePoolResourceModel) { m.Local, m.SSH = nil, sshModel() }), nil},
		{"ssh without key or host keys", model(func(m *NodePoolResourceModel) {
			m.Local, m.SSH = nil, sshModel()
			m.SSH.PrivateKey, m.SSH.HostKeys = types.StringNull(), types.ListNull(types.StringType)
		}), []string{"ssh.private_key: Missing private_key", "ssh.host_keys: Missing host_keys"}},
		{"ssh insecure", model(func(m *NodePoolResourceModel) {
			m.Local, m.SSH = nil, sshModel()
			m.SSH.HostKeys, m.SSH.InsecureIgnoreHostKey = types.ListNull(types.StringType), types.BoolValue(true)
		}), nil},
		// From the API's own validation, mapped to the attributes.
		{"duplicate host", model(func(m *NodePoolResourceModel) {
			m.Local, m.SSH = nil, sshModel()
			m.SSH.Hosts, _ = types.ListValueFrom(context.Background(), types.StringType, []string{"h", "h"})
		}), []string{"ssh.hosts[1]: Invalid node pool"}},
		{"bad label", model(func(m *NodePoolResourceModel) {
			m.Labels, _ = types.MapValueFrom(context.Background(), types.StringType, map[string]string{"bad key": "x"})
		}), []string{`labels["bad key"]: Invalid node pool`}},
		{"bad taint key", model(func(m *NodePoolResourceModel) {
			m.Taints = []poolTaintModel{{Key: types.StringValue("no good"), Value: types.StringNull(), Effect: types.StringValue("NoSchedule")}}
		}), []string{"taint[0].key: Invalid node pool"}},
		{"no surge and no unavailability", model(func(m *NodePoolResourceModel) {
			m.Rollout = &poolRolloutModel{MaxSurge: types.StringValue("0"), MaxUnavailable: types.StringValue("0%")}
		}), []string{"rollout.max_unavailable: Invalid node pool"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.Diagnostics
			validatePoolShape(tt.m, &d)
			if !d.HasError() && !tt.m.Size.IsUnknown() { // as ValidateConfig: the API's checks need a known config
				validatePoolAPI(context.Background(), tt.m, &d)
			}
			var got []string
			for _, e := range d.Errors() {
				p := ""
				if wp, ok := e.(diag.DiagnosticWithPath); ok {
					p = wp.Path().String()
				}
				got = append(got, p+": "+e.Summary())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPoolAttrPath(t *testing.T) {
	for field, want := range map[string]string{
		"metadata.name":                           "name",
		"spec.maxSize":                            "max_size",
		"spec.ssh.hostKeys":                       "ssh.host_keys",
		"spec.ssh.hosts[2]":                       "ssh.hosts[2]",
		`spec.labels["a/b"]`:                      `labels["a/b"]`,
		"spec.taints[0].effect":                   "taint[0].effect",
		"spec.remediation.startupTimeoutSeconds":  "remediation.startup_timeout",
		"spec.drainTimeoutSeconds":                "drain_timeout",
		"spec.ssh.privateKeySecretRef":            "ssh.private_key",
		"spec.aws.region":                         "aws.region",
		"spec.gcp.serviceAccount":                 "gcp.service_account",
		"spec.autoscaling":                        "",
		"status.readyMachines":                    "",
		"spec.rollout.maxSurge":                   "rollout.max_surge",
		"spec.remediation.maxInFlight":            "remediation.max_in_flight",
		"spec.ssh.insecureIgnoreHostKey":          "ssh.insecure_ignore_host_key",
		"spec.remediation.notReadyTimeoutSeconds": "remediation.not_ready_timeout",
	} {
		p, ok := poolAttrPath(field)
		got := ""
		if ok {
			got = p.String()
		}
		if got != want {
			t.Errorf("poolAttrPath(%q) = %q, want %q", field, got, want)
		}
	}
	_ = path.Empty()
}

// A model goes to the API and back unchanged; the private key never
// comes back; server defaults do not appear where the model left blocks
// out; durations keep the user's spelling when they mean the same.
func TestNodePoolConversion(t *testing.T) {
	ctx := context.Background()
	m := model(func(m *NodePoolResourceModel) {
		m.Local, m.SSH = nil, sshModel()
		m.SSH.PrivateKeyVersion = types.Int64Value(2)
		m.Size, m.MinSize, m.MaxSize = types.Int64Value(2), types.Int64Value(1), types.Int64Value(3)
		m.Labels, _ = types.MapValueFrom(ctx, types.StringType, map[string]string{"tier": "web"})
		m.Taints = []poolTaintModel{{Key: types.StringValue("dedicated"), Value: types.StringValue("web"), Effect: types.StringValue("NoSchedule")}}
		m.DrainTimeout = types.StringValue("300s")
		m.Remediation = &poolRemediationModel{StartupTimeout: types.StringValue("2m"), NotReadyTimeout: types.StringValue("5m"), MaxInFlight: types.StringValue("25%")}
	})
	var d diag.Diagnostics
	p := &api.NodePool{}
	expandNodePool(ctx, m, p, &d)
	api.Default(p)
	if d.HasError() {
		t.Fatal(d)
	}
	s := p.Spec
	if s.Provider != api.ProviderSSH || s.SSH.PrivateKeySecretRef != "nodepool-pool-a-ssh" || *s.Size != 2 || s.MinSize != 1 || s.MaxSize != 3 ||
		*s.DrainTimeoutSeconds != 300 || *s.Remediation.StartupTimeoutSeconds != 120 || s.Remediation.MaxInFlight.String() != "25%" ||
		s.Taints[0].Effect != api.TaintNoSchedule || s.Rollout.MaxSurge.IntVal != 1 {
		t.Fatalf("expanded spec = %+v ssh %+v", s, s.SSH)
	}
	back := *m
	back.SSH = &poolSSHModel{PrivateKeyVersion: m.SSH.PrivateKeyVersion}
	flattenNodePool(ctx, p, &back, false, &d)
	if !back.SSH.PrivateKey.IsNull() {
		t.Error("the private key came back into the model")
	}
	back.SSH.PrivateKey = m.SSH.PrivateKey
	flat := func(m NodePoolResourceModel) string {
		ssh, rem := *m.SSH, *m.Remediation
		m.SSH, m.Remediation = nil, nil
		return fmt.Sprintf("%+v %+v %+v", m, ssh, rem)
	}
	if got, want := flat(back), flat(*m); got != want {
		t.Errorf("round trip:\n got %s\nwant %s", got, want)
	}
	if back.Rollout != nil {
		t.Error("a rollout block appeared though the model had none")
	}

	// Import: blocks appear only for values other than the defaults.
	var imported NodePoolResourceModel
	flattenNodePool(ctx, p, &imported, true, &d)
	if imported.Rollout != nil || imported.Remediation == nil || imported.Remediation.StartupTimeout.ValueString() != (2*time.Minute).String() {
		t.Errorf("imported rollout %+v remediation %+v", imported.Rollout, imported.Remediation)
	}
}

func TestPoolProgress(t *testing.T) {
	pool := func(gen, observed int64, ready int32, cond *api.Condition) *api.NodePool {
		p := &api.NodePool{ObjectMeta: api.ObjectMeta{Name: "p", Generation: gen},
			Spec:   *spec(2, nil),
			Status: api.NodePoolStatus{ObservedGeneration: observed, Machines: 2, ReadyMachines: ready, UpdatedMachines: ready}}
		if cond != nil {
			p.Status.Conditions = []api.Condition{*cond}
		}
		return p
	}
	readyTrue := &api.Condition{Type: api.NodePoolReady, Status: api.ConditionTrue}
	scaling := &api.Condition{Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: "ScalingUp", Message: "1 machine provisioning"}
	machine := func(name, host string, phase string, conds ...api.Condition) *api.Machine {
		return &api.Machine{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.MachineSpec{Pool: "p", Host: host},
			Status: api.MachineStatus{Phase: phase, Conditions: conds}}
	}
	authFailed := api.Condition{Type: api.MachineProvisioned, Status: api.ConditionFalse, Reason: api.ReasonCloudError,
		Message: "ssh root@10.1.2.3:22: authentication failed: no supported methods remain"}
	notJoined := api.Condition{Type: api.MachineNodeReady, Status: api.ConditionFalse, Reason: api.ReasonNodeNotJoined,
		Message: "no node after 10m0s; agent log:\njoin: token rejected"}
	other := machine("q-1", "", api.MachineFailed)
	other.Spec.Pool = "q"
	for _, tt := range []struct {
		name        string
		pool        *api.NodePool
		ms          []*api.Machine
		done        bool
		failure     string // substring; "" = none
		progressHas string
	}{
		{"ready", pool(2, 2, 2, readyTrue), nil, true, "", ""},
		{"old generation", pool(3, 2, 2, readyTrue), nil, false, "", "has not yet seen this change"},
		{"scaling", pool(2, 2, 1, scaling), []*api.Machine{machine("p-1", "", api.MachineRunning)}, false, "", "1 of 2 machines ready (ScalingUp: 1 machine provisioning)"},
		{"ready condition but short of machines", pool(2, 2, 1, readyTrue), nil, false, "", "1 of 2"},
		{"ssh authentication failed", pool(2, 2, 0, scaling), []*api.Machine{machine("p-1", "10.1.2.3", api.MachineProvisioning, authFailed)},
			false, "machine p-1 (host 10.1.2.3) could not be created: ssh root@10.1.2.3:22: authentication failed", ""},
		{"never joined", pool(2, 2, 1, scaling), []*api.Machine{machine("p-2", "", api.MachineProvisioning, notJoined)},
			false, "machine p-2: its node never joined: no node after 10m0s; agent log:\njoin: token rejected", ""},
		{"failures of the previous generation wait for the controller", pool(3, 2, 1, scaling), []*api.Machine{machine("p-1", "10.1.2.3", api.MachineProvisioning, authFailed)},
			false, "", "has not yet seen this change"},
		{"node still joining", pool(2, 2, 1, scaling), []*api.Machine{machine("p-2", "", api.MachineProvisioning,
			api.Condition{Type: api.MachineNodeReady, Status: api.ConditionFalse, Reason: api.ReasonNodeJoining, Message: "waiting for node p-2 to join"})},
			false, "", "1 of 2 machines ready"},
		{"failed phase", pool(2, 2, 1, scaling), []*api.Machine{{ObjectMeta: api.ObjectMeta{Name: "p-3"}, Spec: api.MachineSpec{Pool: "p"},
			Status: api.MachineStatus{Phase: api.MachineFailed, Message: "quota exceeded"}}}, false, "machine p-3 failed: quota exceeded", ""},
		{"pool says machine failed", pool(2, 2, 1, &api.Condition{Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonMachineFailed, Message: "machine p-1: disk full"}),
			nil, false, "machine p-1: disk full", ""},
		{"ready machines on the old template", func() *api.NodePool {
			p := pool(2, 2, 2, readyTrue)
			p.Status.UpdatedMachines = 1
			return p
		}(), nil, false, "", "2 of 2 machines ready"},
		{"more machines than hosts", pool(2, 2, 1, &api.Condition{Type: api.NodePoolReady, Status: api.ConditionFalse, Reason: api.ReasonNotEnoughHosts, Message: "size 3 needs 1 more host(s)"}),
			nil, false, "size 3 needs 1 more host(s)", ""},
		{"another pool's machine is not ours", pool(2, 2, 2, readyTrue), []*api.Machine{other}, true, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := poolProgress(tt.pool, tt.ms)
			if st.done != tt.done {
				t.Errorf("done = %v, want %v (%+v)", st.done, tt.done, st)
			}
			if tt.failure == "" && st.failure != "" || !strings.Contains(st.failure, tt.failure) {
				t.Errorf("failure = %q, want %q", st.failure, tt.failure)
			}
			if !strings.Contains(st.progress, tt.progressHas) {
				t.Errorf("progress = %q, want it to contain %q", st.progress, tt.progressHas)
			}
		})
	}
}

func TestPlanSizes(t *testing.T) {
	i, null := types.Int64Value, types.Int64Null()
	for _, tt := range []struct {
		name                       string
		size, minSize, maxSz       types.Int64
		prior                      types.Int64
		wantSize, wantMin, wantMax int64
	}{
		{"size alone fixes the range", i(3), null, null, null, 3, 3, 3},
		{"range alone starts at min", null, i(1), i(4), null, 1, 1, 4},
		{"range keeps the current size", null, i(1), i(4), i(3), 3, 1, 4},
		{"range clamps the current size", null, i(1), i(2), i(3), 2, 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			config := &NodePoolResourceModel{Size: tt.size, MinSize: tt.minSize, MaxSize: tt.maxSz}
			plan := &NodePoolResourceModel{Size: tt.size, MinSize: tt.minSize, MaxSize: tt.maxSz}
			var state *NodePoolResourceModel
			if !tt.prior.IsNull() {
				state = &NodePoolResourceModel{Size: tt.prior}
			}
			planSizes(config, state, plan)
			if plan.Size.ValueInt64() != tt.wantSize || plan.MinSize.ValueInt64() != tt.wantMin || plan.MaxSize.ValueInt64() != tt.wantMax {
				t.Errorf("planned size %v min %v max %v, want %d %d %d", plan.Size, plan.MinSize, plan.MaxSize, tt.wantSize, tt.wantMin, tt.wantMax)
			}
		})
	}
}

// TestNodePoolAutoscalingOwnsSize: with autoscaling, size is the initial
// size only: an update keeps the live size (within new bounds) and a read
// keeps the configured one, so the autoscaler's changes are neither undone
// nor a diff.
func TestNodePoolAutoscalingOwnsSize(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name         string
		live         *int32 // nil: create
		minSize, max int64
		wantSpec     int32
	}{
		{"create: the initial size", nil, 1, 4, 1},
		{"update: the live size stays", api.Ptr[int32](3), 1, 4, 3},
		{"update: within a lower max", api.Ptr[int32](3), 1, 2, 2},
		{"update: within a higher min", api.Ptr[int32](1), 2, 4, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := model(func(m *NodePoolResourceModel) {
				m.Autoscaling = types.BoolValue(true)
				m.TemplateCapacity, _ = types.MapValueFrom(ctx, types.StringType, map[string]string{"memory": "16Gi", "cpu": "4"})
				m.Size, m.MinSize, m.MaxSize = types.Int64Value(1), types.Int64Value(tc.minSize), types.Int64Value(tc.max)
			})
			p := &api.NodePool{Spec: api.NodePoolSpec{Size: tc.live}}
			var d diag.Diagnostics
			expandNodePool(ctx, m, p, &d)
			if got := p.Annotations[api.AnnotationTemplateCapacity]; got != "cpu=4,memory=16Gi" {
				t.Errorf("template capacity annotation %q, want cpu=4,memory=16Gi", got)
			}
			if d.HasError() || !p.Spec.Autoscaling || *p.Spec.Size != tc.wantSpec {
				t.Fatalf("spec autoscaling %v size %d, want true %d (%v)", p.Spec.Autoscaling, *p.Spec.Size, tc.wantSpec, d)
			}
			back := *m
			flattenNodePool(ctx, p, &back, false, &d)
			if !back.TemplateCapacity.Equal(m.TemplateCapacity) {
				t.Errorf("read: template capacity %v, want %v", back.TemplateCapacity, m.TemplateCapacity)
			}
			if back.Size.ValueInt64() != 1 || !back.Autoscaling.ValueBool() {
				t.Errorf("read: size %v autoscaling %v; want the configured 1 and true", back.Size, back.Autoscaling)
			}
		})
	}
}
