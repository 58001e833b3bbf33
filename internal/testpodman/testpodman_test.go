package testpodman_test

import (
	"strings"
	"testing"

	"github.com/tether-sec/tether/internal/testpodman"
)

func TestStart(t *testing.T) {
	p := testpodman.Start(t)
	out := p.Run(t, "--url", "unix://"+p.Socket, "version", "--format", "{{.Server.APIVersion}}")
	if strings.TrimSpace(out) == "" {
		t.Fatalf("podman version printed nothing")
	}
}
