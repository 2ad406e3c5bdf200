// Command maestro runs maestro servers and agents and talks to the API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/maestro-dev/maestro/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
