// Package planrules holds mistakes that the API server refuses, each
// written as a manifest (the provider's blocks and attributes without the
// `resource` keyword and the maestro_ prefix), with the attribute a plan
// must name and the API's message it must show. The same cases run
// through `terraform plan` (internal/tfe2e) and `maestro plan`, with no
// cluster reachable, and against the API's own validation, so the table
// cannot drift from what the server refuses.
package planrules

import (
	"regexp"
	"strconv"
)

// Case is one mistake.
type Case struct {
	// Name names the case in test output.
	Name string
	// Manifest is one or more objects in manifest form:
	// `deployment "web" { metadata { ... } spec { ... } }`.
	Manifest string
	// WantAttr is the attribute path the plan's error names, in the
	// provider's notation: blocks by name, list elements [i], map keys
	// ["k"] (spec.template.container[0].resources.requests.cpu).
	WantAttr string
	// WantText is the API's message for the mistake, part of what the
	// plan shows.
	WantText string
}

// Cases are the mistakes, at least one per rule the issue names and ten
// more of the API's rules.
var Cases = []Case{
	{
		Name:     "selector does not match the template labels",
		Manifest: deployment(`{ app = "web" }`, `{ app = "api" }`, 1, container("web", "")),
		WantAttr: "spec.template.labels",
		WantText: "must match the selector app=web",
	},
	{
		Name: "request larger than its limit",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", `
        resources {
          requests {
            cpu = "2"
          }
          limits {
            cpu = "1"
          }
        }`)),
		WantAttr: "spec.template.container[0].resources.requests.cpu",
		WantText: "must be less than or equal to the cpu limit of 1",
	},
	{
		Name:     "negative replicas",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, -1, container("web", "")),
		WantAttr: "spec.replicas",
		WantText: "invalid value -1: must be greater than or equal to 0",
	},
	{
		Name:     "invalid container name",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("Web_1", "")),
		WantAttr: "spec.template.container[0].name",
		WantText: `invalid value "Web_1": must be a DNS-1123 label`,
	},
	{
		Name:     "duplicate container names",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", "")+container("web", "")),
		WantAttr: "spec.template.container[1].name",
		WantText: `duplicate value "web"`,
	},
	{
		Name: "container port out of range",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", `
        port {
          container_port = 70000
        }`)),
		WantAttr: "spec.template.container[0].port[0].container_port",
		WantText: "invalid value 70000: must be between 1 and 65535, inclusive",
	},
	{
		Name:     "invalid label key",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web", "bad key!" = "x" }`, 1, container("web", "")),
		WantAttr: `spec.template.labels["bad key!"]`,
		WantText: `invalid key "bad key!": must contain only letters, digits, '-', '_' and '.'`,
	},
	{
		Name: "probe path not absolute",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", `
        liveness_probe {
          http_get {
            path = "healthz"
            port = "8080"
          }
        }`)),
		WantAttr: "spec.template.container[0].liveness_probe.http_get.path",
		WantText: `invalid value "healthz": must start with '/'`,
	},
	{
		Name: "volume mount names no volume",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", `
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }`)),
		WantAttr: "spec.template.container[0].volume_mount[0].name",
		WantText: `invalid value "data": no volume of that name in spec.volumes`,
	},
	{
		Name: "invalid environment variable name",
		Manifest: deployment(`{ app = "web" }`, `{ app = "web" }`, 1, container("web", `
        env {
          name  = "1LEVEL"
          value = "debug"
        }`)),
		WantAttr: "spec.template.container[0].env[0].name",
		WantText: "must consist of letters, digits, '_', '-' or '.', and must not start with a digit",
	},
	{
		Name: "service selector with an invalid value",
		Manifest: service(`{ app = "-web" }`, `
    port {
      port = 80
    }`),
		WantAttr: `spec.selector["app"]`,
		WantText: `invalid value "-web": must start and end with a letter or digit`,
	},
	{
		Name: "service ports not named",
		Manifest: service(`{ app = "web" }`, `
    port {
      port = 80
    }
    port {
      port = 443
    }`),
		WantAttr: "spec.port[0].name",
		WantText: "ports must be named when a service has more than one",
	},
	{
		Name: "node port on a ClusterIP service",
		Manifest: service(`{ app = "web" }`, `
    port {
      port      = 80
      node_port = 30080
    }`),
		WantAttr: "spec.port[0].node_port",
		WantText: "may only be set when type is NodePort or LoadBalancer",
	},
	{
		Name: "config map key not a file name",
		Manifest: `config_map "settings" {
  metadata {
    namespace = "default"
    name      = "settings"
  }

  data = { "conf/app.yaml" = "a: 1" }
}
`,
		WantAttr: `data["conf/app.yaml"]`,
		WantText: `invalid value "conf/app.yaml": must consist of letters, digits, '-', '_' or '.'`,
	},
	{
		Name: "autoscaler maximum below its minimum",
		Manifest: `autoscaler "web" {
  metadata {
    namespace = "default"
    name      = "web"
  }
  spec {
    min_replicas = 5
    max_replicas = 3
    target {
      name = "web"
    }
  }
}
`,
		WantAttr: "spec.max_replicas",
		WantText: "invalid value 3: must be greater than or equal to minReplicas (5)",
	},
}

// deployment is a deployment "web" in namespace default.
func deployment(selector, labels string, replicas int, containers string) string {
	return `deployment "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    replicas = ` + strconv.Itoa(replicas) + `
    selector {
      match_labels = ` + selector + `
    }
    template {
      labels = ` + labels + containers + `
    }
  }
}
`
}

// service is a service "web" in namespace default with port blocks.
func service(selector, ports string) string {
	return `service "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector = ` + selector + ports + `
  }
}
`
}

// container is a container block of the demo image with extra lines.
func container(name, extra string) string {
	return `
      container {
        name  = "` + name + `"
        image = "maestro-demo:v1"` + extra + `
      }`
}

// objectHeader is the first line of an object in a manifest.
var objectHeader = regexp.MustCompile(`(?m)^([a-z][a-z0-9_]*)(\s+)"([^"]*)"(\s*)\{`)

// notObjects are top-level blocks of a manifest that Terraform spells the
// same way.
var notObjects = map[string]bool{"variable": true, "output": true}

// ToTerraform turns a manifest into Terraform configuration:
// `deployment "web" {` becomes `resource "maestro_deployment" "web" {`.
// Only blocks that open an object at the start of a line change;
// variables and outputs stay as they are.
func ToTerraform(manifest string) string {
	return objectHeader.ReplaceAllStringFunc(manifest, func(m string) string {
		sub := objectHeader.FindStringSubmatch(m)
		if notObjects[sub[1]] {
			return m
		}
		return `resource "maestro_` + sub[1] + `"` + sub[2] + `"` + sub[3] + `"` + sub[4] + "{"
	})
}
