package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	mplan "github.com/maestro-dev/maestro/internal/plan"
)

func strList(v ...string) types.List {
	l, _ := types.ListValueFrom(context.Background(), types.StringType, append([]string{}, v...))
	return l
}

func strMap(kv ...string) types.Map {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	v, _ := types.MapValueFrom(context.Background(), types.StringType, m)
	return v
}

// awsModel is an aws block with every setting but the aliases and the
// credentials.
func awsModel() *poolAWSModel {
	return &poolAWSModel{
		Region: types.StringValue("us-east-1"), AMI: types.StringValue("ami-0abcdef1234567890"),
		InstanceType: types.StringNull(), Zones: types.ListNull(types.StringType), Spot: types.BoolNull(),
		SubnetIDs: strList("subnet-1", "subnet-2"), SecurityGroupIDs: strList("sg-1"),
		InstanceProfile: types.StringValue("maestro-node"), KeyName: types.StringValue("ops"), Tags: strMap("team", "infra"),
		Endpoint: types.StringNull(), AccessKeyID: types.StringNull(), SecretAccessKey: types.StringNull(), CredentialsVersion: types.Int64Null(),
	}
}

func gcpModel() *poolGCPModel {
	return &poolGCPModel{
		Project: types.StringValue("acme"), Image: types.StringValue("projects/debian-cloud/global/images/family/debian-12"),
		MachineType: types.StringNull(), Zones: types.ListNull(types.StringType), Spot: types.BoolNull(),
		Network: types.StringValue("default"), Subnetwork: types.StringNull(), ServiceAccount: types.StringValue("nodes@acme.iam.gserviceaccount.com"),
		Labels: strMap("team", "infra"), Endpoint: types.StringValue("http://127.0.0.1:9/"), CredentialsJSON: types.StringNull(), CredentialsVersion: types.Int64Null(),
	}
}

// An aws or gcp pool goes to the API and back unchanged, whether its
// machine type, zones and spot are said in the block or at the pool's
// level; credentials never come back; import puts the aliases at the
// pool's level.
func TestCloudPoolConversion(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		m    *NodePoolResourceModel
		want func(s *api.NodePoolSpec) string // "" = as expected
	}{
		{"aws with aliases in the block", model(func(m *NodePoolResourceModel) {
			m.Local, m.AWS = nil, awsModel()
			m.AWS.InstanceType, m.AWS.Zones, m.AWS.Spot = types.StringValue("t3.medium"), strList("us-east-1a", "us-east-1b"), types.BoolValue(true)
			m.Spot = types.BoolValue(true) // as ModifyPlan plans it
			m.AWS.CredentialsVersion = types.Int64Value(3)
		}), func(s *api.NodePoolSpec) string {
			a := s.AWS
			if s.Provider != api.ProviderAWS || s.MachineType != "t3.medium" || fmt.Sprint(s.Zones) != "[us-east-1a us-east-1b]" || !s.Spot ||
				a.Region != "us-east-1" || a.AMI != "ami-0abcdef1234567890" || fmt.Sprint(a.SubnetIDs) != "[subnet-1 subnet-2]" ||
				fmt.Sprint(a.SecurityGroupIDs) != "[sg-1]" || a.InstanceProfile != "maestro-node" || a.KeyName != "ops" ||
				a.Tags["team"] != "infra" || a.Endpoint != "" || a.CredentialsSecretRef != "" || s.SSH != nil || s.GCP != nil {
				return fmt.Sprintf("%+v aws %+v", *s, *a)
			}
			return ""
		}},
		{"aws with the pool's attributes", model(func(m *NodePoolResourceModel) {
			m.Local, m.AWS = nil, awsModel()
			m.MachineType, m.Zones = types.StringValue("m5.large"), strList("us-east-1c")
			m.AWS.Endpoint = types.StringValue("http://127.0.0.1:9/")
		}), func(s *api.NodePoolSpec) string {
			if s.MachineType != "m5.large" || fmt.Sprint(s.Zones) != "[us-east-1c]" || s.Spot || s.AWS.Endpoint != "http://127.0.0.1:9/" {
				return fmt.Sprintf("%+v aws %+v", *s, *s.AWS)
			}
			return ""
		}},
		{"aws with both, the same", model(func(m *NodePoolResourceModel) {
			m.Local, m.AWS = nil, awsModel()
			m.MachineType, m.AWS.InstanceType = types.StringValue("t3.small"), types.StringValue("t3.small")
		}), func(s *api.NodePoolSpec) string {
			if s.MachineType != "t3.small" {
				return s.MachineType
			}
			return ""
		}},
		{"aws with empty settings as written", model(func(m *NodePoolResourceModel) {
			m.Local, m.AWS = nil, awsModel()
			m.AWS.SubnetIDs, m.AWS.Tags, m.AWS.Endpoint, m.AWS.KeyName = strList(), strMap(), types.StringValue(""), types.StringValue("")
		}), func(s *api.NodePoolSpec) string {
			if len(s.AWS.SubnetIDs) != 0 || len(s.AWS.Tags) != 0 || s.AWS.Endpoint != "" {
				return fmt.Sprintf("%+v", *s.AWS)
			}
			return ""
		}},
		{"gcp with empty settings as written", model(func(m *NodePoolResourceModel) {
			m.Local, m.GCP = nil, gcpModel()
			m.GCP.Labels, m.GCP.Endpoint, m.GCP.Network = strMap(), types.StringValue(""), types.StringValue("")
		}), func(s *api.NodePoolSpec) string {
			if len(s.GCP.Labels) != 0 || s.GCP.Endpoint != "" || s.GCP.Network != "" {
				return fmt.Sprintf("%+v", *s.GCP)
			}
			return ""
		}},
		{"gcp with aliases in the block", model(func(m *NodePoolResourceModel) {
			m.Local, m.GCP = nil, gcpModel()
			m.GCP.MachineType, m.GCP.Zones, m.GCP.Spot = types.StringValue("e2-medium"), strList("us-central1-a"), types.BoolValue(false)
		}), func(s *api.NodePoolSpec) string {
			g := s.GCP
			if s.Provider != api.ProviderGCP || s.MachineType != "e2-medium" || fmt.Sprint(s.Zones) != "[us-central1-a]" || s.Spot ||
				g.Project != "acme" || g.Image != "projects/debian-cloud/global/images/family/debian-12" || g.Network != "default" ||
				g.Subnetwork != "" || g.ServiceAccount != "nodes@acme.iam.gserviceaccount.com" || g.Labels["team"] != "infra" ||
				g.Endpoint != "http://127.0.0.1:9/" || g.CredentialsSecretRef != "" || s.AWS != nil {
				return fmt.Sprintf("%+v gcp %+v", *s, *g)
			}
			return ""
		}},
		{"gcp with the pool's attributes", model(func(m *NodePoolResourceModel) {
			m.Local, m.GCP = nil, gcpModel()
			m.MachineType, m.Zones, m.Spot = types.StringValue("n2-standard-2"), strList("europe-west1-b", "europe-west1-c"), types.BoolValue(true)
			m.GCP.CredentialsVersion = types.Int64Value(1)
		}), func(s *api.NodePoolSpec) string {
			if s.MachineType != "n2-standard-2" || len(s.Zones) != 2 || !s.Spot {
				return fmt.Sprintf("%+v", *s)
			}
			return ""
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.Diagnostics
			p := &api.NodePool{}
			expandNodePool(ctx, tt.m, p, &d)
			api.Default(p)
			if d.HasError() {
				t.Fatal(d)
			}
			if msg := tt.want(&p.Spec); msg != "" {
				t.Fatalf("expanded: %s", msg)
			}
			if errs := api.Validate(p); len(errs) > 0 {
				t.Fatalf("the API refuses the pool: %v", errs)
			}

			// Back, into a model holding the planned values (min_size
			// and max_size as ModifyPlan plans them) with credentials as
			// state has them (write-only: null).
			prior := *tt.m
			prior.MinSize, prior.MaxSize = prior.Size, prior.Size
			if prior.AWS != nil {
				a := *prior.AWS
				a.AccessKeyID, a.SecretAccessKey = types.StringNull(), types.StringNull()
				prior.AWS = &a
			}
			back := prior
			flattenNodePool(ctx, p, &back, false, &d)
			if d.HasError() {
				t.Fatal(d)
			}
			flat := func(m NodePoolResourceModel) string {
				var a poolAWSModel
				var g poolGCPModel
				if m.AWS != nil {
					a = *m.AWS
				}
				if m.GCP != nil {
					g = *m.GCP
				}
				m.AWS, m.GCP = nil, nil
				return fmt.Sprintf("%+v\naws %+v\ngcp %+v", m, a, g)
			}
			if got, want := flat(back), flat(prior); got != want {
				t.Errorf("round trip:\n got %s\nwant %s", got, want)
			}

			// Import: the same pool, the aliases at the pool's level.
			var imported NodePoolResourceModel
			flattenNodePool(ctx, p, &imported, true, &d)
			if imported.Local != nil || imported.SSH != nil || (imported.AWS == nil) == (imported.GCP == nil) {
				t.Fatalf("imported blocks: local %v ssh %v aws %v gcp %v", imported.Local, imported.SSH, imported.AWS, imported.GCP)
			}
			again := &api.NodePool{}
			expandNodePool(ctx, &imported, again, &d)
			api.Default(again)
			if msg := tt.want(&again.Spec); msg != "" {
				t.Errorf("imported pool expands to another: %s", msg)
			}
			if imported.AWS != nil && (!imported.AWS.InstanceType.IsNull() || !imported.AWS.Zones.IsNull() || !imported.AWS.Spot.IsNull()) ||
				imported.GCP != nil && (!imported.GCP.MachineType.IsNull() || !imported.GCP.Zones.IsNull() || !imported.GCP.Spot.IsNull()) {
				t.Errorf("import put aliases in the block: aws %+v gcp %+v", imported.AWS, imported.GCP)
			}
		})
	}
}

// The credentials secret a pool names survives an update that does not
// send the credentials again.
func TestCloudPoolKeepsCredentialsRef(t *testing.T) {
	ctx := context.Background()
	var d diag.Diagnostics
	live := &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderAWS, AWS: &api.AWSPoolConfig{Region: "us-east-1", CredentialsSecretRef: "nodepool-pool-a-aws"}}}
	expandNodePool(ctx, model(func(m *NodePoolResourceModel) { m.Local, m.AWS = nil, awsModel() }), live, &d)
	if live.Spec.AWS.CredentialsSecretRef != "nodepool-pool-a-aws" || live.Spec.AWS.AMI != "ami-0abcdef1234567890" {
		t.Errorf("aws config after update = %+v", live.Spec.AWS)
	}
	live = &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderGCP, GCP: &api.GCPPoolConfig{CredentialsSecretRef: "nodepool-pool-a-gcp"}}}
	expandNodePool(ctx, model(func(m *NodePoolResourceModel) { m.Local, m.GCP = nil, gcpModel() }), live, &d)
	if live.Spec.GCP.CredentialsSecretRef != "nodepool-pool-a-gcp" {
		t.Errorf("gcp config after update = %+v", live.Spec.GCP)
	}
	for _, tt := range []struct {
		name         string
		plan, state  *NodePoolResourceModel
		wantResend   bool
		planned, old int64
	}{
		{"same version", model(func(m *NodePoolResourceModel) { m.AWS = awsModel() }), model(func(m *NodePoolResourceModel) { m.AWS = awsModel() }), false, 0, 0},
		{"new version", model(func(m *NodePoolResourceModel) { m.AWS = awsModel(); m.AWS.CredentialsVersion = types.Int64Value(2) }),
			model(func(m *NodePoolResourceModel) { m.AWS = awsModel(); m.AWS.CredentialsVersion = types.Int64Value(1) }), true, 2, 1},
		{"pool comes to gcp", model(func(m *NodePoolResourceModel) { m.GCP = gcpModel() }), model(nil), true, 0, 0},
		{"gcp version", model(func(m *NodePoolResourceModel) { m.GCP = gcpModel(); m.GCP.CredentialsVersion = types.Int64Value(1) }),
			model(func(m *NodePoolResourceModel) { m.GCP = gcpModel() }), true, 1, 0},
		{"local", model(nil), model(nil), false, 0, 0},
	} {
		if got := cloudCredentialsChanged(tt.plan, tt.state); got != tt.wantResend {
			t.Errorf("%s: credentials sent again = %v, want %v", tt.name, got, tt.wantResend)
		}
	}
}

// Mistakes in a cloud block fail the plan at their attribute, offline.
func TestValidateCloudPool(t *testing.T) {
	aws := func(mut func(m *NodePoolResourceModel)) *NodePoolResourceModel {
		return model(func(m *NodePoolResourceModel) {
			m.Local, m.AWS = nil, awsModel()
			mut(m)
		})
	}
	gcp := func(mut func(m *NodePoolResourceModel)) *NodePoolResourceModel {
		return model(func(m *NodePoolResourceModel) {
			m.Local, m.GCP = nil, gcpModel()
			mut(m)
		})
	}
	for _, tt := range []struct {
		name string
		m    *NodePoolResourceModel
		want []string // "path: summary"
	}{
		{"aws", aws(func(*NodePoolResourceModel) {}), nil},
		{"gcp", gcp(func(*NodePoolResourceModel) {}), nil},
		{"aws with keys", aws(func(m *NodePoolResourceModel) {
			m.AWS.AccessKeyID, m.AWS.SecretAccessKey = types.StringValue("AKIA"), types.StringValue("s")
		}), nil},
		{"aws without region and ami", aws(func(m *NodePoolResourceModel) { m.AWS.Region, m.AWS.AMI = types.StringValue(""), types.StringNull() }),
			[]string{"aws.region: Missing aws.region", "aws.ami: Missing aws.ami"}},
		{"unknown region is not judged", aws(func(m *NodePoolResourceModel) { m.AWS.Region = types.StringUnknown() }), nil},
		{"gcp without project and image", gcp(func(m *NodePoolResourceModel) { m.GCP.Project, m.GCP.Image = types.StringNull(), types.StringValue("") }),
			[]string{"gcp.project: Missing gcp.project", "gcp.image: Missing gcp.image"}},
		{"instance type twice", aws(func(m *NodePoolResourceModel) {
			m.MachineType, m.AWS.InstanceType = types.StringValue("t3.small"), types.StringValue("t3.large")
		}), []string{"aws.instance_type: Conflicting machine_type and aws.instance_type"}},
		{"instance type twice, the same", aws(func(m *NodePoolResourceModel) {
			m.MachineType, m.AWS.InstanceType = types.StringValue("t3.small"), types.StringValue("t3.small")
		}), nil},
		{"zones twice", aws(func(m *NodePoolResourceModel) { m.Zones, m.AWS.Zones = strList("a"), strList("b") }),
			[]string{"aws.zones: Conflicting zones and aws.zones"}},
		{"spot twice", gcp(func(m *NodePoolResourceModel) { m.Spot, m.GCP.Spot = types.BoolValue(false), types.BoolValue(true) }),
			[]string{"gcp.spot: Conflicting spot and gcp.spot"}},
		{"gcp machine type twice", gcp(func(m *NodePoolResourceModel) {
			m.MachineType, m.GCP.MachineType = types.StringValue("e2-small"), types.StringValue("e2-medium")
		}), []string{"gcp.machine_type: Conflicting machine_type and gcp.machine_type"}},
		{"access key alone", aws(func(m *NodePoolResourceModel) { m.AWS.AccessKeyID = types.StringValue("AKIA") }),
			[]string{"aws.secret_access_key: Missing aws.secret_access_key"}},
		{"secret key alone", aws(func(m *NodePoolResourceModel) { m.AWS.SecretAccessKey = types.StringValue("s") }),
			[]string{"aws.access_key_id: Missing aws.access_key_id"}},
		{"aws and ssh", aws(func(m *NodePoolResourceModel) { m.SSH = sshModel() }), []string{"aws: Conflicting machine providers"}},
		{"aws and gcp", aws(func(m *NodePoolResourceModel) { m.GCP = gcpModel() }), []string{"gcp: Conflicting machine providers"}},
		{"local and gcp", gcp(func(m *NodePoolResourceModel) { m.Local = &poolLocalModel{} }), []string{"gcp: Conflicting machine providers"}},
		// From the API's own validation, mapped to the attributes.
		{"empty zone", aws(func(m *NodePoolResourceModel) { m.Zones = strList("us-east-1a", "") }), []string{"zones[1]: Invalid node pool"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.Diagnostics
			validatePoolShape(tt.m, &d)
			if !d.HasError() && (tt.m.AWS == nil || !tt.m.AWS.Region.IsUnknown()) {
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

// A changed cloud setting is a template change the plan names.
func TestTemplateChangesCloud(t *testing.T) {
	aws := func(mut func(c *api.AWSPoolConfig)) *api.NodePoolSpec {
		return spec(2, func(s *api.NodePoolSpec) {
			s.Provider = api.ProviderAWS
			s.AWS = &api.AWSPoolConfig{Region: "us-east-1", AMI: "ami-1", SubnetIDs: []string{"subnet-1"}}
			if mut != nil {
				mut(s.AWS)
			}
		})
	}
	gcp := func(mut func(c *api.GCPPoolConfig)) *api.NodePoolSpec {
		return spec(2, func(s *api.NodePoolSpec) {
			s.Provider = api.ProviderGCP
			s.GCP = &api.GCPPoolConfig{Project: "acme", Image: "debian-12"}
			if mut != nil {
				mut(s.GCP)
			}
		})
	}
	for _, tt := range []struct {
		name string
		a, b *api.NodePoolSpec
		want string
	}{
		{"same", aws(nil), aws(nil), ""},
		{"region and ami", aws(nil), aws(func(c *api.AWSPoolConfig) { c.Region, c.AMI = "eu-west-1", "ami-2" }), "aws.region, aws.ami"},
		{"subnets and tags", aws(nil), aws(func(c *api.AWSPoolConfig) { c.SubnetIDs, c.Tags = nil, map[string]string{"a": "b"} }), "aws.subnet_ids, aws.tags"},
		{"instance profile", aws(nil), aws(func(c *api.AWSPoolConfig) { c.InstanceProfile = "p" }), "aws.instance_profile"},
		{"gcp image and network", gcp(nil), gcp(func(c *api.GCPPoolConfig) { c.Image, c.Network = "debian-13", "vpc" }), "gcp.image, gcp.network"},
		{"gcp project", gcp(nil), gcp(func(c *api.GCPPoolConfig) { c.Project = "other" }), "gcp.project"},
		{"aws to gcp", aws(nil), gcp(nil), "provider"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(mplan.TemplateChanges(tt.a, tt.b), ", "); got != tt.want {
				t.Errorf("templateChanges = %q, want %q", got, tt.want)
			}
		})
	}
	// The plan says it: machines replaced, no new pool.
	if got := strings.Join(poolImpact(aws(nil), aws(func(c *api.AWSPoolConfig) { c.AMI = "ami-2" })), "; "); got != "replace 2 machines (drain first), one at a time (template changed: aws.ami)" {
		t.Errorf("impact of a new AMI = %q", got)
	}
}
