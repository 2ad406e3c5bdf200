// Command terraform-provider-maestro serves the maestro Terraform provider.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/maestro-dev/maestro/internal/version"
	"github.com/maestro-dev/maestro/provider"
)

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKUnlessAsked(os.Getenv, os.Setenv)

	err := providerserver.Serve(context.Background(), provider.New(version.Version), providerserver.ServeOpts{
		Address: "registry.terraform.io/maestro-dev/maestro",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// quietSDKUnlessAsked turns the plugin SDK's own logging off when nobody
// asked for logs. The SDK logs every request at trace level whatever
// TF_LOG says (Terraform filters afterwards), and formatting those lines
// was a sixth of the provider's CPU in a plan of 100 deployments. With
// TF_LOG, TF_LOG_PROVIDER or any TF_LOG_SDK* variable set, nothing
// changes.
func quietSDKUnlessAsked(getenv func(string) string, setenv func(string, string) error) {
	for _, name := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if strings.TrimSpace(getenv(name)) != "" {
			return
		}
	}
	_ = setenv("TF_LOG_SDK", "OFF")
}
