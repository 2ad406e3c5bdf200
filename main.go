// Command terraform-provider-maestro serves the maestro Terraform provider.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/maestro-dev/maestro/internal/version"
	"github.com/maestro-dev/maestro/provider"
)

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKUnlessAsked(os.Getenv, os.Setenv)
	collectLessOften(os.Getenv, debug.SetGCPercent)

	srv, err := provider.Server(version.Version)()
	if err != nil {
		log.Fatal(err)
	}
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	if err := tf6server.Serve(provider.Address, func() tfprotov6.ProviderServer { return srv }, opts...); err != nil {
		log.Fatal(err)
	}
}

// quietSDKUnlessAsked turns the plugin SDK's own logging off when nobody
// asked for logs. The SDK logs every request at trace level whatever
// TF_LOG says (Terraform filters afterwards), and formatting those lines
// was a sixth of the provider's CPU in a plan of 100 deployments. The
// framework's and the protocol's subsystems get their own OFF: with the
// root logger off they still built each line (field copies, masking)
// before dropping it, a few percent more. With TF_LOG, TF_LOG_PROVIDER or
// any TF_LOG_SDK* variable set, nothing changes.
func quietSDKUnlessAsked(getenv func(string) string, setenv func(string, string) error) {
	for _, name := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if strings.TrimSpace(getenv(name)) != "" {
			return
		}
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = setenv(name, "OFF")
	}
}

// providerGCPercent is the provider's GOGC. The plugin framework allocates
// afresh for every value of every request, while what stays live between
// requests is little more than the schemas: with Go's default of 100 the
// collector ran all through a no-op plan of 100 deployments and 100
// services and took about two fifths of the provider's CPU. At 400 it
// runs a quarter as often: that plan's provider CPU halved, and the
// process peaked at 120-190 MB instead of 70-75 MB.
const providerGCPercent = 400

// collectLessOften sets providerGCPercent unless GOGC is set, which wins
// as it does for any Go program.
func collectLessOften(getenv func(string) string, setGCPercent func(int) int) {
	if strings.TrimSpace(getenv("GOGC")) != "" {
		return
	}
	setGCPercent(providerGCPercent)
}
