package provider

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

// A pod spec with env_from, image_pull_secrets and security contexts
// survives flatten then expand unchanged: what Read writes to state is
// what the next apply sends.
func TestPodSpecSecurityRoundTrip(t *testing.T) {
	ctx := context.Background()
	want := api.PodSpec{
		RestartPolicy:                 api.RestartAlways,
		TerminationGracePeriodSeconds: api.Ptr[int64](30),
		SecurityContext:               &api.PodSecurityContext{RunAsUser: api.Ptr[int64](1000), RunAsGroup: api.Ptr[int64](3000), RunAsNonRoot: api.Ptr(true)},
		ImagePullSecrets:              []api.LocalObjectReference{{Name: "regcred"}, {Name: "other"}},
		Containers: []api.Container{{
			Name: "app", Image: "registry.example.com/app:1",
			EnvFrom: []api.EnvFromSource{
				{ConfigMapRef: &api.NameRef{Name: "settings"}},
				{Prefix: "DB_", SecretRef: &api.NameRef{Name: "db", Optional: api.Ptr(true)}},
			},
			SecurityContext: &api.SecurityContext{
				RunAsUser: api.Ptr[int64](2000), ReadOnlyRootFilesystem: api.Ptr(true), Privileged: api.Ptr(false),
				AllowPrivilegeEscalation: api.Ptr(false),
				Capabilities:             &api.Capabilities{Add: []api.Capability{"NET_BIND_SERVICE"}, Drop: []api.Capability{"ALL"}},
			},
		}, {
			Name: "side", Image: "busybox:1",
		}},
	}
	var diags diag.Diagnostics
	var m PodSpecModel
	flattenPodSpec(ctx, want, &m, &diags)
	var got api.PodSpec
	expandPodSpec(ctx, &m, &got, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"securityContext", got.SecurityContext, want.SecurityContext},
		{"imagePullSecrets", got.ImagePullSecrets, want.ImagePullSecrets},
		{"containers[0].envFrom", got.Containers[0].EnvFrom, want.Containers[0].EnvFrom},
		{"containers[0].securityContext", got.Containers[0].SecurityContext, want.Containers[0].SecurityContext},
		{"containers[1].securityContext", got.Containers[1].SecurityContext, want.Containers[1].SecurityContext},
		{"containers[1].envFrom", got.Containers[1].EnvFrom, want.Containers[1].EnvFrom},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s: round trip gave %#v, want %#v", f.name, f.got, f.want)
		}
	}
	if m.Containers[1].SecurityContext != nil || len(m.ImagePullSecrets) != 2 {
		t.Errorf("state: container without a security context %+v, pull secrets %v", m.Containers[1].SecurityContext, m.ImagePullSecrets)
	}
	// Unset booleans stay null in state (no diff against a config that
	// leaves them out), set ones keep their false.
	sc := m.Containers[0].SecurityContext
	if !sc.RunAsNonRoot.IsNull() || sc.Privileged.IsNull() || sc.Privileged.ValueBool() || !sc.RunAsGroup.IsNull() {
		t.Errorf("container security context in state: %+v", sc)
	}
}

// TestAccPodSpecSecurityAndPullSecrets: env_from, image_pull_secrets and
// security contexts reach the API, import back the same, and a second
// plan is empty.
func TestAccPodSpecSecurityAndPullSecrets(t *testing.T) {
	c, provider := accCluster(t, 1)
	ctx := context.Background()
	if _, err := c.Client.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "settings"}, Data: map[string]string{"MODE": "fast"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "regcred"}, Type: api.SecretTypeDockerConfigJSON,
		Data: map[string][]byte{api.DockerConfigJSONKey: []byte(`{"auths":{"registry.example.com":{"username":"u","password":"p"}}}`)}}); err != nil {
		t.Fatal(err)
	}
	const addr = "maestro_deployment.locked"
	config := func(user int) string {
		return provider + fmt.Sprintf(`
resource "maestro_deployment" "locked" {
  metadata {
    name      = "locked"
    namespace = "default"
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "locked" }
    }
    template {
      labels = { app = "locked" }
      image_pull_secrets {
        name = "regcred"
      }
      security_context {
        run_as_user     = %d
        run_as_non_root = true
      }
      container {
        name  = "app"
        image = "registry.example.com/app:1"
        env_from {
          config_map_ref { name = "settings" }
        }
        env_from {
          prefix = "DB_"
          secret_ref {
            name     = "db"
            optional = true
          }
        }
        security_context {
          read_only_root_filesystem  = true
          allow_privilege_escalation = false
          capabilities {
            drop = ["ALL"]
            add  = ["NET_BIND_SERVICE"]
          }
        }
      }
    }
  }
  timeouts {
    create = "1m"
    update = "1m"
  }
}
`, user)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config(1000),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.template.image_pull_secrets.0.name", "regcred"),
					resource.TestCheckResourceAttr(addr, "spec.template.container.0.env_from.1.prefix", "DB_"),
					func(*terraform.State) error {
						d, err := c.Client.Deployments("default").Get(ctx, "locked")
						if err != nil {
							return err
						}
						s := d.Spec.Template.Spec
						ct := s.Containers[0]
						switch {
						case s.SecurityContext == nil || api.Deref(s.SecurityContext.RunAsUser, 0) != 1000 || !api.Deref(s.SecurityContext.RunAsNonRoot, false):
							return errorf("pod security context %+v", s.SecurityContext)
						case len(s.ImagePullSecrets) != 1 || s.ImagePullSecrets[0].Name != "regcred":
							return errorf("image pull secrets %+v", s.ImagePullSecrets)
						case len(ct.EnvFrom) != 2 || ct.EnvFrom[0].ConfigMapRef == nil || ct.EnvFrom[1].SecretRef == nil || !api.Deref(ct.EnvFrom[1].SecretRef.Optional, false):
							return errorf("env from %+v", ct.EnvFrom)
						case ct.SecurityContext == nil || !api.Deref(ct.SecurityContext.ReadOnlyRootFilesystem, false) ||
							api.Deref(ct.SecurityContext.AllowPrivilegeEscalation, true) || ct.SecurityContext.Capabilities == nil ||
							!reflect.DeepEqual(ct.SecurityContext.Capabilities.Drop, []api.Capability{"ALL"}):
							return errorf("container security context %+v", ct.SecurityContext)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/locked",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for_rollout"},
			},
			{
				Config: config(2000),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.TestCheckResourceAttr(addr, "spec.template.security_context.run_as_user", "2000"),
			},
		},
	})
}
