package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func configMap(mut func(*ConfigMap)) *ConfigMap    { return defaulted(baseConfigMap(), mut) }
func secret(mut func(*Secret)) *Secret             { return defaulted(baseSecret(), mut) }
func autoscaler(mut func(*Autoscaler)) *Autoscaler { return defaulted(baseAutoscaler(), mut) }
func nodePool(mut func(*NodePool)) *NodePool       { return defaulted(baseNodePool(), mut) }
func machine(mut func(*Machine)) *Machine          { return defaulted(baseMachine(), mut) }
func node(mut func(*Node)) *Node                   { return defaulted(baseNode(), mut) }
func event(mut func(*Event)) *Event                { return defaulted(baseEvent(), mut) }
func namespace(mut func(*Namespace)) *Namespace    { return defaulted(baseNamespace(), mut) }

func TestValidateConfigMapAndSecretInvalid(t *testing.T) {
	big := strings.Repeat("x", 1024*1024)
	runInvalidCases(t, []invalidCase{
		{"config map name with uppercase", configMap(func(c *ConfigMap) { c.Name = "Web-Config" }), []string{"invalid metadata.name"}},
		{"config map namespace missing", configMap(func(c *ConfigMap) { c.Namespace = "" }), []string{"required metadata.namespace"}},
		{"config map key with a slash", configMap(func(c *ConfigMap) { c.Data["conf/app"] = "x" }), []string{`invalid data["conf/app"]`}},
		{"config map key '..'", configMap(func(c *ConfigMap) { c.Data[".."] = "x" }), []string{`invalid data[".."]`}},
		{"config map key starting with '..'", configMap(func(c *ConfigMap) { c.Data["..data"] = "x" }), []string{`invalid data["..data"]`}},
		{"config map empty key", configMap(func(c *ConfigMap) { c.Data[""] = "x" }), []string{`invalid data[""]`}},
		{"binary key also in data", configMap(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"app.conf": {0}} }),
			[]string{`duplicate binaryData["app.conf"]`}},
		{"binary key invalid", configMap(func(c *ConfigMap) { c.BinaryData = map[string][]byte{"a b": {0}} }), []string{`invalid binaryData["a b"]`}},
		{"config map over 1MiB", configMap(func(c *ConfigMap) { c.Data["big"] = big }), []string{"toolong data"}},
		{"config map over 1MiB counting binary data", configMap(func(c *ConfigMap) {
			c.BinaryData = map[string][]byte{"blob": []byte(big[:len(big)/2+1])}
			c.Data["text"] = big[:len(big)/2]
		}), []string{"toolong data"}},

		{"secret key with a space", secret(func(s *Secret) { s.Data["pass word"] = []byte("x") }), []string{`invalid data["pass word"]`}},
		{"secret type missing", secret(func(s *Secret) { s.Type = "" }), []string{"required type"}},
		{"secret over 1MiB", secret(func(s *Secret) { s.Data["big"] = []byte(big) }), []string{"toolong data"}},
		{"secret name with underscore", secret(func(s *Secret) { s.Name = "web_secret" }), []string{"invalid metadata.name"}},
	})
}

// TestValidateSecretNeverShowsValues: secret values must not leak into error
// messages, API error bodies or logs of them, whatever is wrong with the key.
func TestValidateSecretNeverShowsValues(t *testing.T) {
	const value = "s3cr3t-value"
	for _, key := range []string{"bad key", "../escape", "..", "a/b", strings.Repeat("k", 300)} {
		t.Run(key[:min(len(key), 20)], func(t *testing.T) {
			s := secret(func(s *Secret) { s.Data = map[string][]byte{key: []byte(value), "ok": []byte(value)} })
			errs := Validate(s)
			assertErrors(t, errs, []string{"invalid " + NewPath("data").Key(key).String()})
			if strings.Contains(errs.Error(), value) {
				t.Errorf("error message shows the secret value: %s", errs.Error())
			}
			body, err := json.Marshal(NewInvalid("Secret", s.Name, errs).Status)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), value) {
				t.Errorf("API error body shows the secret value: %s", body)
			}
		})
	}
}

// TestValidateSecretStringDataFolded: keys given through stringData are
// checked once defaulting folds them into data.
func TestValidateSecretStringDataFolded(t *testing.T) {
	s := baseSecret()
	s.StringData = map[string]string{"bad key": "s3cr3t-value"}
	Default(s)
	errs := Validate(s)
	assertErrors(t, errs, []string{`invalid data["bad key"]`})
	if strings.Contains(errs.Error(), "s3cr3t-value") {
		t.Errorf("error message shows the secret value: %s", errs.Error())
	}
}

func TestValidateAutoscalerInvalid(t *testing.T) {
	const m0 = "spec.metrics[0].resource"
	metric := func(name ResourceName, target MetricTarget) func(*Autoscaler) {
		return func(a *Autoscaler) {
			a.Spec.Metrics = []MetricSpec{{Resource: ResourceMetricSource{Name: name, Target: target}}}
		}
	}
	runInvalidCases(t, []invalidCase{
		{"target kind Pod", autoscaler(func(a *Autoscaler) { a.Spec.ScaleTargetRef.Kind = "Pod" }), []string{"unsupported spec.scaleTargetRef.kind"}},
		{"target kind in lowercase", autoscaler(func(a *Autoscaler) { a.Spec.ScaleTargetRef.Kind = "deployment" }),
			[]string{"unsupported spec.scaleTargetRef.kind"}},
		{"target name missing", autoscaler(func(a *Autoscaler) { a.Spec.ScaleTargetRef.Name = "" }), []string{"required spec.scaleTargetRef.name"}},
		{"target name invalid", autoscaler(func(a *Autoscaler) { a.Spec.ScaleTargetRef.Name = "Web" }), []string{"invalid spec.scaleTargetRef.name"}},
		{"minReplicas 0", autoscaler(func(a *Autoscaler) { a.Spec.MinReplicas = Ptr[int32](0) }), []string{"invalid spec.minReplicas"}},
		{"maxReplicas below minReplicas", autoscaler(func(a *Autoscaler) { a.Spec.MinReplicas = Ptr[int32](6) }), []string{"invalid spec.maxReplicas"}},
		{"maxReplicas 0", autoscaler(func(a *Autoscaler) { a.Spec.MaxReplicas = 0 }), []string{"invalid spec.maxReplicas"}},
		{"metric on pods", autoscaler(metric(ResourcePods, MetricTarget{Type: UtilizationMetric, AverageUtilization: Ptr[int32](50)})),
			[]string{"unsupported " + m0 + ".name"}},
		{"utilization without a value", autoscaler(metric(ResourceCPU, MetricTarget{Type: UtilizationMetric})),
			[]string{"required " + m0 + ".target.averageUtilization"}},
		{"utilization 0", autoscaler(metric(ResourceCPU, MetricTarget{Type: UtilizationMetric, AverageUtilization: Ptr[int32](0)})),
			[]string{"invalid " + m0 + ".target.averageUtilization"}},
		{"average value missing", autoscaler(metric(ResourceMemory, MetricTarget{Type: AverageValueMetric})),
			[]string{"required " + m0 + ".target.averageValue"}},
		{"average value 0", autoscaler(metric(ResourceMemory, MetricTarget{Type: AverageValueMetric, AverageValue: Ptr(qty("0"))})),
			[]string{"invalid " + m0 + ".target.averageValue"}},
		{"target type unknown", autoscaler(metric(ResourceCPU, MetricTarget{Type: "Value"})), []string{"unsupported " + m0 + ".target.type"}},
		{"scale-down window over an hour", autoscaler(func(a *Autoscaler) {
			a.Spec.Behavior.ScaleDown.StabilizationWindowSeconds = Ptr[int32](3601)
		}), []string{"invalid spec.behavior.scaleDown.stabilizationWindowSeconds"}},
		{"both windows out of range", autoscaler(func(a *Autoscaler) {
			a.Spec.Behavior.ScaleDown.StabilizationWindowSeconds = Ptr[int32](-1)
			a.Spec.Behavior.ScaleUp.StabilizationWindowSeconds = Ptr[int32](7200)
		}), []string{"invalid spec.behavior.scaleDown.stabilizationWindowSeconds", "invalid spec.behavior.scaleUp.stabilizationWindowSeconds"}},
		{"select policy unknown", autoscaler(func(a *Autoscaler) {
			a.Spec.Behavior.ScaleUp.SelectPolicy = Ptr[ScalingPolicySelect]("Average")
		}), []string{"unsupported spec.behavior.scaleUp.selectPolicy"}},
		{"no policies", autoscaler(func(a *Autoscaler) { a.Spec.Behavior.ScaleDown.Policies = []ScalingPolicy{} }),
			[]string{"required spec.behavior.scaleDown.policies"}},
		{"policy wrong", autoscaler(func(a *Autoscaler) {
			a.Spec.Behavior.ScaleUp.Policies = []ScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 1801}}
		}), []string{"unsupported spec.behavior.scaleUp.policies[0].type", "invalid spec.behavior.scaleUp.policies[0].value",
			"invalid spec.behavior.scaleUp.policies[0].periodSeconds"}},
	})
}

func TestValidateNodePoolAndMachineInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"pool with a namespace", nodePool(func(p *NodePool) { p.Namespace = "default" }), []string{"forbidden metadata.namespace"}},
		{"pool name with a dot", nodePool(func(p *NodePool) { p.Name = "pool.a" }), []string{"invalid metadata.name"}},
		{"provider unknown", nodePool(func(p *NodePool) { p.Spec.Provider = "azure" }), []string{"unsupported spec.provider"}},
		{"provider missing", nodePool(func(p *NodePool) { p.Spec.Provider = "" }), []string{"unsupported spec.provider"}},
		{"ssh without hosts", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderSSH; p.Spec.SSH = &SSHPoolConfig{User: "root"} }),
			[]string{"required spec.ssh.hosts"}},
		{"ssh without config", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderSSH }), []string{"required spec.ssh.hosts"}},
		{"ssh without host keys or key secret", nodePool(func(p *NodePool) {
			p.Spec.Provider = ProviderSSH
			p.Spec.SSH = &SSHPoolConfig{Hosts: []string{"10.0.0.5", "10.0.0.5"}, Port: 70000}
		}), []string{"duplicate spec.ssh.hosts[1]", "invalid spec.ssh.port", "required spec.ssh.hostKeys", "required spec.ssh.privateKeySecretRef"}},
		{"rollout with no surge and no unavailability", nodePool(func(p *NodePool) {
			p.Spec.Rollout = NodePoolRollout{MaxSurge: Ptr(FromInt(0)), MaxUnavailable: Ptr(FromString("0%"))}
		}), []string{"invalid spec.rollout.maxUnavailable"}},
		{"bad rollout and remediation values", nodePool(func(p *NodePool) {
			p.Spec.Rollout.MaxSurge = Ptr(FromString("lots"))
			p.Spec.DrainTimeoutSeconds = Ptr[int64](-1)
			p.Spec.Remediation = MachineRemediation{StartupTimeoutSeconds: Ptr[int64](0), MaxInFlight: Ptr(FromInt(-1))}
		}), []string{"invalid spec.rollout.maxSurge", "invalid spec.drainTimeoutSeconds",
			"invalid spec.remediation.startupTimeoutSeconds", "invalid spec.remediation.maxInFlight"}},
		{"aws without config", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderAWS }), []string{"required spec.aws"}},
		{"aws without region and AMI", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderAWS; p.Spec.AWS = &AWSPoolConfig{} }),
			[]string{"required spec.aws.region", "required spec.aws.ami"}},
		{"gcp without config", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderGCP }), []string{"required spec.gcp"}},
		{"gcp without project and image", nodePool(func(p *NodePool) { p.Spec.Provider = ProviderGCP; p.Spec.GCP = &GCPPoolConfig{} }),
			[]string{"required spec.gcp.project", "required spec.gcp.image"}},
		{"negative minSize", nodePool(func(p *NodePool) { p.Spec.MinSize = -1 }), []string{"invalid spec.minSize"}},
		{"maxSize below minSize", nodePool(func(p *NodePool) { p.Spec.MinSize = 3; p.Spec.MaxSize = 2; p.Spec.Size = Ptr[int32](2) }),
			[]string{"invalid spec.maxSize", "invalid spec.size"}},
		{"size above maxSize", nodePool(func(p *NodePool) { p.Spec.Size = Ptr[int32](4) }), []string{"invalid spec.size"}},
		{"size below minSize", nodePool(func(p *NodePool) { p.Spec.Size = Ptr[int32](0) }), []string{"invalid spec.size"}},
		{"node label key invalid", nodePool(func(p *NodePool) { p.Spec.Labels = map[string]string{"bad key": "x"} }), []string{`invalid spec.labels["bad key"]`}},
		{"taint effect unknown", nodePool(func(p *NodePool) { p.Spec.Taints = []Taint{{Key: "gpu", Effect: "Evict"}} }),
			[]string{"unsupported spec.taints[0].effect"}},
		{"duplicate taint key and effect", nodePool(func(p *NodePool) {
			p.Spec.Taints = []Taint{{Key: "gpu", Value: "a", Effect: TaintNoSchedule}, {Key: "gpu", Value: "b", Effect: TaintNoSchedule}}
		}), []string{"duplicate spec.taints[1]"}},
		{"empty zone", nodePool(func(p *NodePool) { p.Spec.Zones = []string{"eu-west-1a", ""} }), []string{"required spec.zones[1]"}},

		{"machine with a namespace", machine(func(m *Machine) { m.Namespace = "default" }), []string{"forbidden metadata.namespace"}},
		{"machine name with uppercase", machine(func(m *Machine) { m.Name = "Pool-A-1" }), []string{"invalid metadata.name"}},
		{"machine without pool", machine(func(m *Machine) { m.Spec.Pool = "" }), []string{"required spec.pool"}},
		{"machine pool name invalid", machine(func(m *Machine) { m.Spec.Pool = "pool.a" }), []string{"invalid spec.pool"}},
		{"machine provider unknown", machine(func(m *Machine) { m.Spec.Provider = "vsphere" }), []string{"unsupported spec.provider"}},
	})
}

func TestValidateNodeEventNamespaceInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"node name with underscore", node(func(n *Node) { n.Name = "node_1" }), []string{"invalid metadata.name"}},
		{"node with a namespace", node(func(n *Node) { n.Namespace = "default" }), []string{"forbidden metadata.namespace"}},
		{"node taint without effect", node(func(n *Node) { n.Spec.Taints[0].Effect = "" }), []string{"unsupported spec.taints[0].effect"}},
		{"node taint without key", node(func(n *Node) { n.Spec.Taints[0].Key = "" }), []string{"invalid spec.taints[0].key"}},
		{"node taint value invalid", node(func(n *Node) { n.Spec.Taints[0].Value = "gpu only" }), []string{"invalid spec.taints[0].value"}},
		{"node duplicate taint", node(func(n *Node) {
			n.Spec.Taints = append(n.Spec.Taints, Taint{Key: "dedicated", Value: "db", Effect: TaintNoSchedule})
		}), []string{"duplicate spec.taints[1]"}},
		{"node label value invalid", node(func(n *Node) { n.Labels[LabelZone] = "zone a" }), []string{`invalid metadata.labels["` + LabelZone + `"]`}},

		{"event without involved object", event(func(e *Event) { e.InvolvedObject = ObjectReference{} }),
			[]string{"required involvedObject.kind", "required involvedObject.name"}},
		{"event without reason", event(func(e *Event) { e.Reason = "" }), []string{"required reason"}},
		{"event type unknown", event(func(e *Event) { e.Type = "Error" }), []string{"unsupported type"}},
		{"event namespace missing", event(func(e *Event) { e.Namespace = "" }), []string{"required metadata.namespace"}},
		{"event name with uppercase", event(func(e *Event) { e.Name = "Web.17a" }), []string{"invalid metadata.name"}},

		{"namespace name with underscore", namespace(func(n *Namespace) { n.Name = "team_a" }), []string{"invalid metadata.name"}},
		{"namespace name with a dot", namespace(func(n *Namespace) { n.Name = "team.a" }), []string{"invalid metadata.name"}},
		{"namespace name missing", namespace(func(n *Namespace) { n.Name = "" }), []string{"required metadata.name"}},
		{"namespace inside a namespace", namespace(func(n *Namespace) { n.Namespace = "default" }), []string{"forbidden metadata.namespace"}},
	})
}
