// Command terraform-provider-maestro serves the maestro Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/maestro-dev/maestro/internal/version"
	"github.com/maestro-dev/maestro/provider"
)

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version.Version), providerserver.ServeOpts{
		Address: "registry.terraform.io/maestro-dev/maestro",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
