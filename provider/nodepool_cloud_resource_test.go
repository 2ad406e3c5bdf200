package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

// Mistakes in an aws or gcp block fail the plan at their attribute,
// before any request.
func TestAccNodePool_cloudPlanTimeValidation(t *testing.T) {
	_, provider := accCluster(t, 0)
	var steps []resource.TestStep
	for _, tc := range []struct{ body, want string }{
		{`aws {
    ami = "ami-1"
  }`, `(?s)Missing aws.region.*region = "us-east-1"`},
		{`aws {
    region = "us-east-1"
  }`, `(?s)Missing aws.ami.*the AMI its instances boot`},
		{`gcp {
    image = "debian-12"
  }`, `(?s)Missing gcp.project.*project id`},
		{`gcp {
    project = "acme"
  }`, `(?s)Missing gcp.image.*the image its instances boot`},
		{`machine_type = "t3.small"
  aws {
    region        = "us-east-1"
    ami           = "ami-1"
    instance_type = "t3.large"
  }`, `(?s)Conflicting machine_type and aws.instance_type.*aws.instance_type \("t3.large"\) and the pool's\s+machine_type \("t3.small"\)`},
		{`spot = true
  gcp {
    project = "acme"
    image   = "debian-12"
    spot    = false
  }`, `(?s)Conflicting spot and gcp.spot`},
		{`zones = ["a"]
  gcp {
    project = "acme"
    image   = "debian-12"
    zones   = ["b"]
  }`, `(?s)Conflicting zones and gcp.zones`},
		{`aws {
    region        = "us-east-1"
    ami           = "ami-1"
    access_key_id = "AKIA"
  }`, `(?s)Missing aws.secret_access_key.*together, or neither`},
		{`local {}
  aws {
    region = "us-east-1"
    ami    = "ami-1"
  }`, `(?s)Conflicting machine providers.*not local and aws`},
		{`aws {
    region = "us-east-1"
    ami    = "ami-1"
  }
  gcp {
    project = "acme"
    image   = "debian-12"
  }`, `(?s)Conflicting machine providers.*not aws and gcp`},
		{`ssh {
    hosts       = ["10.0.0.5"]
    private_key = "k"
    insecure_ignore_host_key = true
  }
  gcp {
    project = "acme"
    image   = "debian-12"
  }`, `(?s)Conflicting machine providers.*not ssh and gcp`},
	} {
		steps = append(steps, resource.TestStep{
			Config:      provider + "resource \"maestro_node_pool\" \"p\" {\n  name = \"p\"\n  size = 1\n  " + tc.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(tc.want),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}

// The credentials of an aws or gcp pool go into the secrets the pools
// name, and nowhere into state; they are sent again when their version
// changes, and no longer named once a version change leaves them out (the
// server's default credentials); the pools import by name; destroy
// removes the secrets.
func TestAccNodePool_cloudCredentialsInSecretOnly(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	var uid string
	const (
		keyID   = "AKIAEXAMPLEKEYID0001"
		secret1 = "c2VjcmV0LWFjY2Vzcy1rZXktb25l"
		secret2 = "c2VjcmV0LWFjY2Vzcy1rZXktdHdv"
		gcpKey  = `{"type":"service_account","private_key":"Z2NwLXByaXZhdGUta2V5"}`
	)
	config := func(version int, awsCreds, gcpCreds string) string {
		return provider + fmt.Sprintf(`
resource "maestro_node_pool" "aws" {
  name           = "aws"
  size           = 2
  wait_for_ready = false
  aws {
    region              = "us-east-1"
    ami                 = "ami-0abcdef1234567890"
    instance_type       = "t3.medium"
    zones               = ["us-east-1a", "us-east-1b"]
    spot                = true
    subnet_ids          = ["subnet-1"]
    security_group_ids  = ["sg-1"]
    instance_profile    = "maestro-node"
    tags                = { team = "infra" }
    endpoint            = "http://127.0.0.1:9/"
    %s
    credentials_version = %d
  }
}

resource "maestro_node_pool" "gcp" {
  name           = "gcp"
  size           = 1
  machine_type   = "e2-medium"
  zones          = ["us-central1-a"]
  wait_for_ready = false
  gcp {
    project             = "acme"
    image               = "projects/debian-cloud/global/images/family/debian-12"
    service_account     = "nodes@acme.iam.gserviceaccount.com"
    labels              = { team = "infra" }
    %s
    credentials_version = %d
  }
}`, awsCreds, version, gcpCreds, version)
	}
	awsCreds := func(secret string) string {
		return fmt.Sprintf("access_key_id = %q\n    secret_access_key = %q", keyID, secret)
	}
	gcpCreds := fmt.Sprintf("credentials_json = %q", gcpKey)
	secretData := func(name, key string) (string, error) {
		s, err := c.Client.Secrets(api.NamespaceSystem).Get(ctx, name)
		if err != nil {
			return "", err
		}
		return string(s.Data[key]), nil
	}
	check := func(wantRef bool, wantSecret string) resource.TestCheckFunc {
		return func(s *terraform.State) error {
			for _, r := range []string{"maestro_node_pool.aws", "maestro_node_pool.gcp"} {
				for k, v := range s.RootModule().Resources[r].Primary.Attributes {
					for _, material := range []string{keyID, secret1, secret2, "Z2NwLXByaXZhdGUta2V5"} {
						if strings.Contains(v, material) {
							return fmt.Errorf("state attribute %s.%s holds credentials", r, k)
						}
					}
				}
			}
			a, err := c.Client.NodePools().Get(ctx, "aws")
			if err != nil {
				return err
			}
			g, err := c.Client.NodePools().Get(ctx, "gcp")
			if err != nil {
				return err
			}
			if a.Spec.Provider != api.ProviderAWS || a.Spec.MachineType != "t3.medium" || !a.Spec.Spot || len(a.Spec.Zones) != 2 ||
				a.Spec.AWS.Region != "us-east-1" || a.Spec.AWS.InstanceProfile != "maestro-node" || a.Spec.AWS.Endpoint != "http://127.0.0.1:9/" {
				return fmt.Errorf("aws pool %+v aws %+v", a.Spec, a.Spec.AWS)
			}
			if g.Spec.Provider != api.ProviderGCP || g.Spec.MachineType != "e2-medium" || g.Spec.GCP.Project != "acme" || g.Spec.GCP.Labels["team"] != "infra" {
				return fmt.Errorf("gcp pool %+v gcp %+v", g.Spec, g.Spec.GCP)
			}
			awsRef, gcpRef := a.Spec.AWS.CredentialsSecretRef, g.Spec.GCP.CredentialsSecretRef
			if !wantRef {
				if awsRef != "" || gcpRef != "" {
					return fmt.Errorf("the pools still name credentials secrets %q, %q", awsRef, gcpRef)
				}
				return nil
			}
			if awsRef != "nodepool-aws-aws" || gcpRef != "nodepool-gcp-gcp" {
				return fmt.Errorf("credentials secrets named: %q, %q", awsRef, gcpRef)
			}
			if v, err := secretData(awsRef, "accessKeyID"); err != nil || v != keyID {
				return fmt.Errorf("the aws secret's access key id is wrong (err %v)", err)
			}
			if v, err := secretData(awsRef, "secretAccessKey"); err != nil || v != wantSecret {
				return fmt.Errorf("the aws secret's secret access key is not the one configured (err %v)", err)
			}
			if v, err := secretData(gcpRef, "credentials.json"); err != nil || v != gcpKey {
				return fmt.Errorf("the gcp secret does not hold the key (err %v)", err)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			for _, name := range []string{"nodepool-aws-aws", "nodepool-gcp-gcp"} {
				if _, err := c.Client.Secrets(api.NamespaceSystem).Get(ctx, name); !api.IsNotFound(err) {
					return fmt.Errorf("secret %s survived destroy (err %v)", name, err)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: config(1, awsCreds(secret1), gcpCreds), Check: resource.ComposeTestCheckFunc(
				check(true, secret1),
				resource.TestCheckResourceAttr("maestro_node_pool.aws", "spot", "true"),
				resource.TestCheckResourceAttr("maestro_node_pool.aws", "min_size", "2"),
				resource.TestCheckNoResourceAttr("maestro_node_pool.aws", "machine_type"),
				resource.TestCheckNoResourceAttr("maestro_node_pool.aws", "aws.secret_access_key"),
				resource.TestCheckNoResourceAttr("maestro_node_pool.gcp", "gcp.credentials_json"),
			)},
			// A new secret with the same version is not sent (write-only:
			// Terraform cannot see it changed)...
			{Config: config(1, awsCreds(secret2), gcpCreds), Check: check(true, secret1)},
			// ... a new version sends it.
			{Config: config(2, awsCreds(secret2), gcpCreds), Check: check(true, secret2)},
			// Leaving the credentials out, with a new version: the server's own.
			{Config: config(3, "", ""), Check: check(false, "")},
			// A new AMI is a new template: the pool is updated in place (its
			// machines are replaced by a rollout), never replaced.
			{
				PreConfig: func() {
					p, err := c.Client.NodePools().Get(ctx, "aws")
					if err != nil {
						t.Fatal(err)
					}
					uid = p.UID
				},
				Config: strings.Replace(config(3, "", ""), "ami-0abcdef1234567890", "ami-0fedcba9876543210", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_node_pool.aws", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					p, err := c.Client.NodePools().Get(ctx, "aws")
					if err != nil {
						return err
					}
					if p.UID != uid || p.Spec.AWS.AMI != "ami-0fedcba9876543210" {
						return fmt.Errorf("pool uid %s (was %s), ami %s", p.UID, uid, p.Spec.AWS.AMI)
					}
					return nil
				},
			},
			{
				ResourceName:      "maestro_node_pool.aws",
				ImportState:       true,
				ImportStateId:     "aws",
				ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"aws.credentials_version", "wait_for_ready",
					"machine_type", "aws.instance_type", "zones.#", "zones.0", "zones.1", "aws.zones.#", "aws.zones.0", "aws.zones.1", "aws.spot"},
			},
			{
				ResourceName:            "maestro_node_pool.gcp",
				ImportState:             true,
				ImportStateId:           "gcp",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"gcp.credentials_version", "wait_for_ready"},
			},
		},
	})
	if b, err := os.ReadFile("terraform.tfstate"); err == nil && strings.Contains(string(b), secret1) {
		t.Error("the credentials are in a state file")
	}
}
