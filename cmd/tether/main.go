// Command tether traces running workloads and cloud resources back to the code,
// commit and owner that produced them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tether-sec/tether/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
